"""Experiments named by a signature of their arguments: grids, local runs, Slurm.

A project's ``train.py`` decorates its main; every distinct set of arguments is one XP with
a folder of its own, found again by its signature or its two-word alias::

    # myproject/train.py
    import argparse
    from overseer_xpmanager import argparse_main, get_xp

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)


    @argparse_main(dir="./outputs", parser=parser, exclude=["num_workers"])
    def main():
        xp = get_xp()
        xp.link.push_metrics({"loss": 0.5})

``suite xp run -- --lr=0.01`` runs it under the overseer, ``suite xp launch`` on Slurm,
``suite xp grid NAME`` a whole grid, ``suite xp info -1`` tells how the latest one did. In a
notebook, ``runs()``, ``monitor(-1)`` and ``review(-1)`` show the store's XPs, the latest
one's values live, and a figure of its metrics.
A Dora project ports by changing ``from dora import`` to ``from overseer_xpmanager import``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .current import get_xp
from .errors import XPManagerError

if TYPE_CHECKING:
    from . import distrib
    from ._hydra_main import hydra_main
    from .explore import Explorer, Launcher
    from .main import DecoratedMain, argparse_main
    from .notebook import monitor, review, runs
    from .store import XP, Store

__version__ = "0.1.0"

# Plain sorted() order, which the package contract checks (ruff's isort order differs).
__all__ = [  # noqa: RUF022
    "DecoratedMain",
    "Explorer",
    "Launcher",
    "Store",
    "XP",
    "XPManagerError",
    "__version__",
    "argparse_main",
    "distrib",
    "get_xp",
    "hydra_main",
    "monitor",
    "review",
    "runs",
]

_LAZY = {
    "DecoratedMain": ".main",
    "Explorer": ".explore",
    "Launcher": ".explore",
    "Store": ".store",
    "XP": ".store",
    "argparse_main": ".main",
    "distrib": ".distrib",
    "hydra_main": "._hydra_main",
    "monitor": ".notebook",
    "review": ".notebook",
    "runs": ".notebook",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        message = f"module 'overseer_xpmanager' has no attribute {name!r}"
        raise AttributeError(message)
    if name == "distrib":
        return importlib.import_module(module, __name__)
    return getattr(importlib.import_module(module, __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)
