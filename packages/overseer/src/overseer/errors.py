"""The exceptions of overseer-core.

Every error names the thing at fault, the value and the fix, so that the command line can
print it as one line::

    OverseerError                 base of everything raised on purpose here
    ├── UsageError                bad command line, missing script or module, bad $DATA_FD
    ├── VoirfileError             a voirfile.py that fails to import or defines a bad instrument
    ├── InstrumentError           an instrument that is not callable or fails to load
    ├── ProbeError                a probe selector that cannot be honoured
    │   └── SelectorSyntaxError   a selector that does not parse (points at the column)
    └── StreamError               a data stream that cannot be opened or written
"""

from __future__ import annotations

__all__ = [
    "InstrumentError",
    "OverseerError",
    "ProbeError",
    "SelectorSyntaxError",
    "StreamError",
    "UsageError",
    "VoirfileError",
]


class OverseerError(Exception):
    """Base of every error overseer-core raises on purpose.

    The message is one line a user can act on: what is wrong, and how to fix it.
    """


class UsageError(OverseerError):
    """The command line or the environment asks for something impossible."""


class VoirfileError(OverseerError):
    """A voirfile.py failed to import or defines something that is not an instrument."""


class InstrumentError(OverseerError):
    """An instrument cannot be loaded or used."""


class ProbeError(OverseerError):
    """A probe selector names something that cannot be probed."""


class SelectorSyntaxError(ProbeError):
    """A probe selector does not parse.

    Attributes:
        selector: the selector as written.
        column: the 0-based column where parsing failed.
    """

    def __init__(self, selector: str, column: int, reason: str) -> None:
        self.selector = selector
        self.column = column
        pointer = " " * column + "^"
        message = f"cannot parse probe selector {selector!r} at column {column}: {reason}"
        super().__init__(f"{message}\n    {selector}\n    {pointer}")


class StreamError(OverseerError):
    """The data stream cannot be opened or written."""
