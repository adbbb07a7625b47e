"""The one base exception of overseer-rlbench, and its children.

::

    RLBenchError                 any error a user of overseer-rlbench can cause
    ├── IllegalActionError       an action on an occupied cell or off the board
    ├── CheckpointError          a checkpoint that cannot be read or does not fit the model
    └── MissingExtraError        a feature whose optional dependencies are not installed
"""

from __future__ import annotations

__all__ = ["CheckpointError", "IllegalActionError", "MissingExtraError", "RLBenchError"]


class RLBenchError(Exception):
    """Base of every error overseer-rlbench raises on bad input."""


class IllegalActionError(RLBenchError, ValueError):
    """An action that is not a legal move on its board."""


class CheckpointError(RLBenchError):
    """A checkpoint that cannot be read, or that was made for another model or board."""


class MissingExtraError(RLBenchError, ImportError):
    """A feature needs an optional dependency: the message gives the ``pip install`` line."""
