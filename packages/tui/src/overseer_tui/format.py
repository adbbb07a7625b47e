"""Short, stable text for numbers, sizes, durations and ages, as the tables and plots show them.

Every function takes ``None`` (or a non-finite float where that means "unknown") and
answers ``"-"``, so views can format whatever a run knows without checking first::

    format_number(123456)  # "123.5k"
    format_number(0.0001235)  # "1.235e-04"
    format_si(3004.9, "items/s")  # "3k items/s"
    format_duration(245)  # "4m05s"
    format_bytes(6.0e10)  # "55.9GiB"
    format_percent(0.973)  # "97%"
    format_age(180)  # "3m ago"
"""

from __future__ import annotations

import math

_SI_PREFIXES = ("", "k", "M", "G", "T", "P")
_BINARY_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_LARGEST_PLAIN_INTEGER = 99_999
# Fixed-point text longer than this switches to scientific notation: it is the width of a
# plot's y tick labels, and "0.0001235" reads worse than "1.235e-04".
_WIDEST_FIXED = 8


def format_number(value: float | int | None) -> str:
    """A metric's value in at most about 9 characters.

    Integers print whole up to 99,999, then with an SI prefix and 4 significant digits
    (``123456 -> "123.5k"``). Floats print with 4 significant digits (``0.5 -> "0.5"``,
    ``3e-4 -> "0.0003"``, ``0.0001235 -> "1.235e-04"``); whole floats up to 99,999 print
    like integers and larger floats take an SI prefix too. A small nonzero value never
    prints as zero.
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        value = int(value)  # a flag logged as a metric: 1 or 0, not "True"
    if isinstance(value, int):
        if abs(value) <= _LARGEST_PLAIN_INTEGER:
            return str(value)
        return _with_si_prefix(value, digits=4)
    if not math.isfinite(value):
        return str(value)  # "nan", "inf", "-inf"
    if abs(value) >= 1e4:
        if value.is_integer() and abs(value) <= _LARGEST_PLAIN_INTEGER:
            return str(int(value))
        return _with_si_prefix(value, digits=4)
    text = f"{value:.4g}"
    if "e" not in text and len(text.lstrip("-")) > _WIDEST_FIXED:
        return f"{value:.3e}"
    return text


def format_si(value: float, unit: str = "") -> str:
    """A rate or a reading with 3 significant digits and an SI prefix.

    Example:
        ``format_si(12345)`` is ``"12.3k"``, ``format_si(3004.9, "items/s")`` is
        ``"3k items/s"``, ``format_si(0.97, "load")`` is ``"0.97 load"``.
    """
    text = str(value) if not math.isfinite(value) else _with_si_prefix(value, digits=3)
    return f"{text} {unit}" if unit else text


def format_duration(seconds: float | None) -> str:
    """A duration in its two largest units: ``850ms``, ``3.2s``, ``4m05s``, ``2h13m``, ``3d04h``."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 0:
        return "-" + format_duration(-seconds)
    milliseconds = round(seconds * 1000)
    if milliseconds < 1000:
        return f"{milliseconds}ms"
    tenths = round(seconds * 10)
    if tenths < 600:
        return f"{tenths / 10:.1f}s"
    whole_seconds = round(seconds)
    if whole_seconds < 3600:
        return f"{whole_seconds // 60}m{whole_seconds % 60:02d}s"
    minutes = round(seconds / 60)
    if minutes < 24 * 60:
        return f"{minutes // 60}h{minutes % 60:02d}m"
    hours = round(seconds / 3600)
    return f"{hours // 24}d{hours % 24:02d}h"


def format_bytes(count: float | None) -> str:
    """A size in bytes with binary units: ``512B``, ``1.5KiB``, ``61.2GiB``."""
    if count is None or not math.isfinite(count):
        return "-"
    sign = "-" if count < 0 else ""
    magnitude = abs(count)
    if round(magnitude) < 1024:
        return f"{sign}{round(magnitude)}B"
    for unit in _BINARY_UNITS:
        magnitude /= 1024
        if round(magnitude, 1) < 1024 or unit == _BINARY_UNITS[-1]:
            break
    return f"{sign}{magnitude:.1f}{unit}"


def format_percent(fraction: float | None) -> str:
    """A fraction as a whole percentage: ``0.973 -> "97%"``.

    A fraction strictly between 0 and 1 never shows as ``0%`` or ``100%`` (it shows
    ``<1%`` or ``>99%``): a bar at 100% must mean done.
    """
    if fraction is None or not math.isfinite(fraction):
        return "-"
    percent = fraction * 100
    rounded = round(percent)
    if rounded == 0 and percent > 0:
        return "<1%"
    if rounded == 100 and percent < 100:
        return ">99%"
    return f"{rounded}%"


def format_age(seconds: float | None) -> str:
    """How long ago something happened: ``just now`` under 5 s, else ``42s ago``, ``3m ago``,
    ``2h ago``, ``3d ago`` (the largest unit, rounded down)."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 5:
        return "just now"  # also a little in the future: clocks of two machines differ
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def _with_si_prefix(value: float, *, digits: int) -> str:
    """``value`` with ``digits`` significant digits and the SI prefix that keeps it < 1000."""
    sign = "-" if value < 0 else ""
    magnitude = float(abs(value))
    for prefix in _SI_PREFIXES:
        text = f"{magnitude:.{digits}g}"
        if float(text) < 1000:  # rounding may carry into the next prefix: 999.96 -> "1000"
            return f"{sign}{text}{prefix}"
        magnitude /= 1000
    return f"{value:.{digits}g}"  # beyond peta: scientific notation
