"""A live terminal monitor of runs, grids, plots, GPUs and logs, built on Textual.

``suite tui`` opens the runs of an XP store; ``suite tui -- train.py`` runs a script under
the overseer and watches it. From Python::

    from pathlib import Path

    from overseer_tui import MonitorApp, StoreSource

    MonitorApp(StoreSource(Path("rl-study"), grid="scaling")).run()

The data layer (tailing files, series, decimation, selectors) imports neither Textual nor
numpy at the top; importing this package loads neither: each name below loads on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import ScriptError, SelectorError, StoreNotFound, TuiError

if TYPE_CHECKING:
    from .app import MonitorApp
    from .fake_source import FakeSource
    from .live_source import LiveSource
    from .model import Run, RunSet, RunStatus
    from .series import Series
    from .store_source import StoreSource

__version__ = "0.1.0"

_LAZY = {
    "FakeSource": ".fake_source",
    "LiveSource": ".live_source",
    "MonitorApp": ".app",
    "Run": ".model",
    "RunSet": ".model",
    "RunStatus": ".model",
    "Series": ".series",
    "StoreSource": ".store_source",
}

__all__ = [
    "FakeSource",
    "LiveSource",
    "MonitorApp",
    "Run",
    "RunSet",
    "RunStatus",
    "ScriptError",
    "SelectorError",
    "Series",
    "StoreNotFound",
    "StoreSource",
    "TuiError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        message = f"module 'overseer_tui' has no attribute {name!r}"
        raise AttributeError(message)
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
