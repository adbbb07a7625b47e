"""The errors overseer-tui raises: one line each, naming the thing, the value and the fix.

::

    TuiError
    ├── SelectorError    a run selector that does not parse ("lr=")
    ├── StoreNotFound    no XP store (or no such grid) at the path given
    └── ScriptError      a live script that cannot start (no such file)

Catch :class:`TuiError` to report any of them::

    try:
        source = StoreSource(Path("outputs"))
    except TuiError as error:
        raise SystemExit(f"overseer-tui: {error}") from None
"""

from __future__ import annotations

__all__ = ["ScriptError", "SelectorError", "StoreNotFound", "TuiError"]


class TuiError(Exception):
    """The base of every error overseer-tui raises on bad input."""


class SelectorError(TuiError):
    """A run selector that does not parse; the message lists the forms that do."""


class StoreNotFound(TuiError):
    """No XP store at the path given, or no grid of the name given in it."""


class ScriptError(TuiError):
    """A live script that cannot start: its file or module is missing."""
