"""Constants of the event stream that both sides of a run share.

The child side (:mod:`overseer.stream`) writes them; the parent side (:mod:`overseer.runner`)
reads them. The full schema is written in the package README.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DATA_FD_ENV",
    "DEFAULT_DATA_FD",
    "RUN_PID_ENV",
    "SCHEMA_VERSION",
    "SMUGGLE_ENV",
    "SMUGGLE_PREFIX",
]

#: Version of the record schema, stated by the first record of every stream.
SCHEMA_VERSION: Final = 1

#: Environment variable naming the file descriptor the data stream goes to (voir's name).
DATA_FD_ENV: Final = "DATA_FD"

#: The descriptor used when ``$DATA_FD`` is not set and this descriptor is open.
DEFAULT_DATA_FD: Final = 3

#: When this environment variable is ``1``, records go to stdout behind :data:`SMUGGLE_PREFIX`
#: (for launchers such as Slurm and torchrun that pass no extra descriptor).
SMUGGLE_ENV: Final = "OVERSEER_DATA_STDOUT"

#: Marks a record inside a stdout line. It may be preceded by a launcher's own prefix
#: (``srun -l`` writes ``0: ``), so readers look for it anywhere in the line.
SMUGGLE_PREFIX: Final = "\x1e@overseer "

#: Set by a running overseer to its pid, so a worker process can tell it is one.
RUN_PID_ENV: Final = "OVERSEER_RUN_PID"
