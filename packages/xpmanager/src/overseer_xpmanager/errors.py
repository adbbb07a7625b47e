"""The exceptions of overseer-xpmanager.

::

    XPManagerError            every error this package raises; str() is one line
    ├── ProjectError          the project package, its train.py, main or a grid file is missing
    ├── ArgumentError         an argument the project's parser or config does not know
    ├── SignatureCollision    two different argument sets hash to one signature
    ├── XPNotFound            a selector that matches no XP
    ├── AmbiguousSelector     a selector that matches several XPs
    ├── StoreError            a store folder that cannot be written, a broken XP folder
    ├── SubmissionError       an executor that could not submit a job
    ├── ClusterError          Slurm not reachable or not answering
    └── GridError             a grid file that raised (its traceback in ``details``)

The command line prints ``str(error)`` on one line and exits with status 2 (1 for a job that
failed); every message names the thing, the value and the fix.
"""

from __future__ import annotations

__all__ = [
    "AmbiguousSelector",
    "ArgumentError",
    "ClusterError",
    "GridError",
    "ProjectError",
    "SignatureCollision",
    "StoreError",
    "SubmissionError",
    "XPManagerError",
    "XPNotFound",
]


class XPManagerError(Exception):
    """Base of every error raised by overseer-xpmanager.

    Attributes:
        details: longer text shown after the one-line message (a traceback, a log tail).
    """

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class ProjectError(XPManagerError):
    """The project package, its ``train.py``, its decorated ``main`` or a grid is missing."""


class ArgumentError(XPManagerError):
    """An argument that the project's parser or configuration does not accept."""


class SignatureCollision(XPManagerError):
    """Two different argument sets give one signature: the XP folder is not reused."""


class XPNotFound(XPManagerError):
    """A signature, alias or glob that matches no XP of the store."""


class AmbiguousSelector(XPManagerError):
    """A signature prefix, alias glob or argument list that matches several XPs."""


class StoreError(XPManagerError):
    """A store folder that cannot be written, or an XP folder whose files are broken."""


class SubmissionError(XPManagerError):
    """An executor could not submit a job (the XP is left as it was)."""


class ClusterError(XPManagerError):
    """Slurm cannot be reached, or one of its commands failed."""


class GridError(XPManagerError):
    """A grid file raised while it was explored; nothing was scheduled."""
