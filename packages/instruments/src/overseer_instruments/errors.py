"""The exceptions of overseer-instruments.

::

    InstrumentsError              every error this package raises
    └── ConfigurationError        an instrument built with a bad argument (also a ValueError)

A bad flag on the command line is argparse's business: ``overseer`` prints one line naming
the flag and exits with status 2.
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "InstrumentsError"]


class InstrumentsError(Exception):
    """Base of every error raised by overseer-instruments."""


class ConfigurationError(InstrumentsError, ValueError):
    """An instrument was built with an argument it cannot use; the message says the fix.

    >>> from overseer_instruments import log
    >>> log()
    Traceback (most recent call last):
    ...
    overseer_instruments.errors.ConfigurationError: log() needs at least one key pattern, ...
    """
