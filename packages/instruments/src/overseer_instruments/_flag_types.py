"""The ``type=`` of the instruments' flags: each turns a bad value into one argparse line.

>>> positive_whole("3"), seconds("0.5"), names("loss, acc*")
(3, 0.5, ['loss', 'acc*'])
"""

from __future__ import annotations

import argparse
import math

__all__ = ["finite_number", "names", "positive_number", "positive_whole", "seconds", "whole"]


def positive_number(text: str) -> float:
    """A finite number above 0 (``--rate-interval 0.5``)."""
    return _positive(text, "a number above 0, e.g. 0.5")


def finite_number(text: str) -> float:
    """Any finite number (``--early-stop-at 8000``)."""
    value = _finite_or_nan(text)
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"expected a number, e.g. 8000, not {text!r}")
    return value


def seconds(text: str) -> float:
    """A finite number of seconds above 0 (``--early-stop-seconds 600``)."""
    return _positive(text, "a number of seconds above 0, e.g. 0.5")


def positive_whole(text: str) -> int:
    """A whole number above 0 (``--early-stop-n 100``)."""
    value = _whole_or_none(text)
    if value is None or value == 0:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, not {text!r}")
    return value


def whole(text: str) -> int:
    """A whole number, 0 or more (``--rate-skip 0``)."""
    value = _whole_or_none(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more, not {text!r}")
    return value


def names(text: str) -> list[str]:
    """Names separated by commas (``--log loss,acc*``), spaces around them dropped."""
    found = [name.strip() for name in text.split(",") if name.strip()]
    if not found:
        message = f"expected names separated by commas, e.g. 'loss,acc*', not {text!r}"
        raise argparse.ArgumentTypeError(message)
    return found


def _positive(text: str, expected: str) -> float:
    value = _finite_or_nan(text)
    if not value > 0:  # False for nan
        raise argparse.ArgumentTypeError(f"expected {expected}, not {text!r}")
    return value


def _finite_or_nan(text: str) -> float:
    """The finite number ``text`` spells; nan for anything else (a word, inf, nan)."""
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _whole_or_none(text: str) -> int | None:
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() else None
