"""Run any Python script under instruments that act at its phases.

``overseer script.py ARGS`` runs the script as ``python`` would, with the instruments of a
``voirfile.py`` beside it and of installed packages. Inside the script, ``give`` hands values
to them; with no overseer running it costs almost nothing::

    from overseer import give

    give(loss=0.25, step=10)

The public names: :class:`Overseer`, :func:`give`, :func:`run_commands` (the parent side of
the event stream), the phases and the exceptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    InstrumentError,
    OverseerError,
    ProbeError,
    SelectorSyntaxError,
    StreamError,
    UsageError,
    VoirfileError,
)
from .giver import Give, give

if TYPE_CHECKING:
    from .overseer import Overseer, Terminated
    from .phase import Phase, PhaseSequence, StopProgram
    from .runner import Entry, Runner, run_commands

__version__ = "0.1.0"

__all__ = [
    "Entry",
    "Give",
    "InstrumentError",
    "Overseer",
    "OverseerError",
    "Phase",
    "PhaseSequence",
    "ProbeError",
    "Runner",
    "SelectorSyntaxError",
    "StopProgram",
    "StreamError",
    "Terminated",
    "UsageError",
    "VoirfileError",
    "__version__",
    "give",
    "run_commands",
]

_LAZY = {
    "Entry": ".runner",
    "Overseer": ".overseer",
    "Phase": ".phase",
    "PhaseSequence": ".phase",
    "Runner": ".runner",
    "StopProgram": ".phase",
    "Terminated": ".overseer",
    "run_commands": ".runner",
}


def __getattr__(name: str) -> Any:
    # The Overseer and the runner pull in argparse, subprocess and friends: scripts that only
    # `give` do not pay for them.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    message = f"module 'overseer' has no attribute {name!r}"
    raise AttributeError(message)
