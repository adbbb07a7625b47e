"""The exceptions of overseer-tracing.

::

    TracingError                 every error this package raises
    └── TraceUsageError          a tracer set up with something it cannot use (also a
                                 ValueError and a TypeError, as the checks they replace)

Tracing itself never raises into the traced code: a capture that fails is recorded as
``capture_error``. These errors come only from setting a tracer up wrongly.
"""

from __future__ import annotations

__all__ = ["TraceUsageError", "TracingError"]


class TracingError(Exception):
    """Base of every error raised by overseer-tracing."""


class TraceUsageError(TracingError, ValueError, TypeError):
    """A decorator, shim, recorder or context was given an argument it cannot use.

    The message names the argument, the value and the fix.
    """
