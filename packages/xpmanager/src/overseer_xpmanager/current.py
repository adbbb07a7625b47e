"""The XP of the running program, for code deep in a project to reach it.

A decorated main sets it before calling the user's function::

    from overseer_xpmanager import get_xp


    def save(model):
        torch.save(model.state_dict(), get_xp().folder / "checkpoint.th")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import XPManagerError

if TYPE_CHECKING:
    from .store import XP

__all__ = ["get_xp", "set_current_xp"]

_current: XP | None = None


def get_xp() -> XP:
    """The XP whose main is running.

    Raises:
        XPManagerError: called outside a main decorated by ``argparse_main`` or ``hydra_main``.
    """
    if _current is None:
        message = (
            "get_xp() was called outside a decorated main: decorate the project's main with "
            "@argparse_main(...) or @hydra_main(...) and call it"
        )
        raise XPManagerError(message)
    return _current


def set_current_xp(xp: XP | None) -> None:
    """Make ``xp`` the one :func:`get_xp` returns (None to clear it)."""
    global _current
    _current = xp
