"""The child side of the event stream: how a process run by the overseer writes its records.

A run writes JSON Lines: one strict JSON object a line, UTF-8, each line ending in ``\\n``.
:func:`open_sink` picks where they go, from the environment:

1. ``$OVERSEER_DATA_STDOUT=1``: stdout, each line behind the marker ``"\\x1e@overseer "``
   (for launchers such as ``srun`` or ``torchrun`` that pass no extra descriptor);
2. ``$DATA_FD=N``: descriptor ``N``, as voir does (not a number: :class:`~overseer.UsageError`;
   not open for writing: one warning, and the records are discarded);
3. descriptor 3, when it is a pipe, file or socket open for writing;
4. nowhere: a script run in a plain terminal has no stream, silently.

Every record carries three metadata keys:

=========  ==============================================================================
``$t``     when the record was written: seconds since the epoch (``time.time()``)
``$pid``   the process that wrote it (a forked DataLoader worker stamps its own)
``$rank``  ``$RANK``, else ``$SLURM_PROCID``, else ``0``
=========  ==============================================================================

The first record of every stream states its schema:

.. code-block:: json

    {"$event": "schema",
     "$data": {"version": 1, "producer": "overseer-core", "producer_version": "0.1.0"},
     "$t": 1795352330.52, "$pid": 4242, "$rank": 0}

Control records hold an ``$event`` name and its ``$data`` (``phase``, ``error``,
``overseer_error``, ``instrument_error``, ``stop``, ``signal``, ``exit``):

.. code-block:: json

    {"$event": "phase", "$data": {"name": "load_script"}, "$t": 1795352330.57, "$pid": 4242,
     "$rank": 0}

Data records are the dicts given, the metadata added; user keys never start with ``$``:

.. code-block:: json

    {"loss": 0.53, "task": "train", "$t": 1795352331.02, "$pid": 4242, "$rank": 0}

Values that JSON cannot hold are written key by key as stand-ins, never dropped with their
record (:func:`summarise`; :func:`read_number` reads the numbers back):

==================================  =============================================================
``float("nan")``, ``±inf``          ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (strings, anywhere)
a torch tensor                      ``{"$tensor": {"shape": [2, 3], "dtype": "float32",``
                                    ``"device": "cpu"}}``, plus ``"value"`` when it holds one number
a numpy array                       ``{"$ndarray": {"shape": [2, 3], "dtype": "float64"}}``,
                                    plus ``"value"`` when it holds one number
a numpy or torch scalar             the number
a tuple or a set                    a list
a dict with keys that are not str   a dict with str keys
a dataclass                         a dict of its fields
anything else                       ``{"$repr": repr(value)[:200]}``
==================================  =============================================================

Records wait in memory and leave together when 512 records or 64 KiB are waiting, when a
record comes ``flush_interval`` (0.2 s) after the last write, on
:meth:`DataSink.flush` (the overseer calls it at every phase's end, at exit and on signals),
and from a background thread every ``flush_interval``, so what a sampler thread gives arrives
within one interval even when nothing else is written. A forked child (a DataLoader worker)
drops its parent's waiting records, stamps its own pid and writes each record at once.
Writes are cut at line ends into pieces of at most ``PIPE_BUF`` (4 KiB), which a pipe takes
whole, so the lines of a process and of its forked workers never tear each other. A reader
that goes away costs one warning; the run goes on without its stream.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Mapping
from typing import Any

from ._stream_encoding import (
    encode_record,
    parse_record,
    read_number,
    read_records,
    summarise,
)
from ._stream_sink import DataSink
from .errors import UsageError
from .schema import DATA_FD_ENV, DEFAULT_DATA_FD, SMUGGLE_ENV, SMUGGLE_PREFIX

__all__ = [
    "DataSink",
    "encode_record",
    "open_sink",
    "parse_record",
    "read_number",
    "read_records",
    "summarise",
]


# ---------------------------------------------------------------------------- choosing


def _is_writable(fd: int, *, any_kind: bool) -> bool:
    """Whether ``fd`` is open for writing (and, unless ``any_kind``, a pipe, file or socket)."""
    import fcntl

    try:
        mode = os.fstat(fd).st_mode
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except (OSError, OverflowError, ValueError):
        return False
    if flags & os.O_ACCMODE not in (os.O_WRONLY, os.O_RDWR):
        return False
    return any_kind or stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


def open_sink(
    environ: Mapping[str, str] | None = None, *, flush_interval: float = 0.2
) -> DataSink | None:
    """The sink the environment asks for, or ``None`` when the run has no stream.

    The choice, in order: ``$OVERSEER_DATA_STDOUT=1`` (stdout, behind the marker),
    ``$DATA_FD`` (that descriptor), descriptor 3 when it is a pipe, file or socket open for
    writing, else none.

    Args:
        environ: the environment to read (default: ``os.environ``).
        flush_interval: the longest a record waits in memory, in seconds.

    Returns:
        A sink; one that discards (after one warning) when ``$DATA_FD`` names a descriptor
        that is not open for writing; ``None`` when nothing asks for a stream.

    Raises:
        UsageError: ``$DATA_FD`` is not a number.

    Example:
        >>> open_sink({"DATA_FD": "three"})
        Traceback (most recent call last):
        ...
        overseer.errors.UsageError: $DATA_FD is 'three', not a file descriptor number: ...
    """
    environ = os.environ if environ is None else environ
    options: dict[str, Any] = {"flush_interval": flush_interval, "environ": environ}
    if environ.get(SMUGGLE_ENV) == "1":
        return DataSink(1, prefix=SMUGGLE_PREFIX, **options)
    raw = environ.get(DATA_FD_ENV)
    if raw is None:
        if _is_writable(DEFAULT_DATA_FD, any_kind=False):
            return DataSink(DEFAULT_DATA_FD, **options)
        return None
    try:
        fd = int(raw)
    except ValueError:
        message = (
            f"${DATA_FD_ENV} is {raw!r}, not a file descriptor number:"
            " set it to an open descriptor such as 3, or unset it"
        )
        raise UsageError(message) from None
    if not _is_writable(fd, any_kind=True):
        message = (
            f"overseer: ${DATA_FD_ENV} is {raw!r} but descriptor {fd} is not open for writing,"
            f" so this run's records are discarded: open it in the launcher (3>events.jsonl"
            f" with {DATA_FD_ENV}=3) or unset {DATA_FD_ENV}"
        )
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return DataSink(None, **options)
    return DataSink(fd, **options)
