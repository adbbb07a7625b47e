"""Where training reports to: overseer's ``give`` and the running XP's history, if present.

overseer-rlbench needs neither package: without ``overseer`` installed, :func:`give` does
nothing; outside an XP started by overseer-xpmanager, :func:`push_metrics` does nothing.
Each import is tried once per process.

>>> give(loss=0.5, step=1, batch=512)  # nothing listens here: a no-op
>>> push_metrics({"epoch": 1, "loss": 0.5})  # no XP runs here: nothing took them
False
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

__all__ = ["give", "listening", "push_metrics"]


@lru_cache(maxsize=1)
def _overseer_give() -> Callable[..., Any] | None:
    try:
        from overseer import give as overseer_give
    except ImportError:
        return None
    return overseer_give


@lru_cache(maxsize=1)
def _overseer_giver() -> Any:
    try:
        from overseer import giver
    except ImportError:
        return None
    return giver


def listening() -> bool:
    """Whether an overseer receives what :func:`give` hands it (so values are worth making).

    Training asks before it turns a loss on the GPU into a number, which waits for the GPU.
    """
    giver = _overseer_giver()
    # overseer's give() tests this same module global: set while an overseer runs.
    return giver is not None and getattr(giver, "_deliver", None) is not None


def give(**values: Any) -> None:
    """Hand ``values`` to overseer's ``give`` (a no-op without overseer or with none running).

    Example: ``give(step=step, batch=batch_size, loss=loss)``, what the train-rate and
    loss instruments read.
    """
    overseer_give = _overseer_give()
    if overseer_give is not None:
        overseer_give(**values)


def push_metrics(values: Mapping[str, Any]) -> bool:
    """Append ``values`` to the history of the XP running this program, if one is.

    Returns whether an XP took them. Values must be JSON-serialisable (numbers, strings,
    lists and dicts of them).
    """
    xpmanager = _xpmanager()
    if xpmanager is None:
        return False
    try:
        xp = xpmanager.get_xp()
    except xpmanager.XPManagerError:  # no decorated main runs in this process
        return False
    xp.link.push_metrics(dict(values))
    return True


@lru_cache(maxsize=1)
def _xpmanager() -> Any:
    try:
        import overseer_xpmanager
    except ImportError:
        return None
    return overseer_xpmanager
