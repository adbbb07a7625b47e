"""Numbers and durations as people read them in a terminal table."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["format_duration", "format_value"]


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h04m``, ``3d02h``.

    Example:
        >>> format_duration(185), format_duration(7440), format_duration(0.4)
        ('3m05s', '2h04m', '0s')
    """
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def format_value(value: Any) -> str:
    """A metric or argument in a table cell: numbers with 4 significant digits.

    Example:
        >>> format_value(0.000123456), format_value(12), format_value(None), format_value("adam")
        ('0.0001235', '12', '-', 'adam')
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)
