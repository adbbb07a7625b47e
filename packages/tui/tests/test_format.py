"""The text the tables and plots show for numbers, rates, durations, sizes and ages."""

from __future__ import annotations

import pytest

from overseer_tui.format import (
    format_age,
    format_bytes,
    format_duration,
    format_number,
    format_percent,
    format_si,
)

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "-"),
        (0, "0"),
        (-7, "-7"),
        (99_999, "99999"),
        (100_000, "100k"),
        (123_456, "123.5k"),
        (-123_456, "-123.5k"),
        (12_345_678, "12.35M"),
        (1_235_000_000, "1.235G"),
        (1_235_000_000_000, "1.235T"),
        (1_235_000_000_000_000, "1.235P"),
        (999_950, "1M"),  # rounding carries into the next prefix, never "1000k"
        (True, "1"),
        (0.5, "0.5"),
        (2.0, "2"),
        (3e-4, "0.0003"),
        (0.001235, "0.001235"),
        (0.0001235, "1.235e-04"),
        (-0.0001235, "-1.235e-04"),
        (1e-9, "1e-09"),
        (3.14159, "3.142"),
        (0.1 + 0.2, "0.3"),
        (12345.0, "12345"),
        (12345.6, "12.35k"),
        (NAN, "nan"),
        (INF, "inf"),
        (-INF, "-inf"),
    ],
)
def test_format_number(value: float | None, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize("value", [1e-3, 1e-5, 4.2e-7, 1e-300, -2e-12])
def test_a_small_nonzero_number_never_shows_as_zero(value: float) -> None:
    assert format_number(value).lstrip("-0.") != ""


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (12345, "", "12.3k"),
        (3004.9, "items/s", "3k items/s"),
        (512.3, "W", "512 W"),
        (0.97, "", "0.97"),
        (999.96, "", "1k"),
        (-12345, "", "-12.3k"),
        (2.5e9, "B/s", "2.5G B/s"),
        (NAN, "W", "nan W"),
    ],
)
def test_format_si(value: float, unit: str, text: str) -> None:
    assert format_si(value, unit) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (NAN, "-"),
        (0, "0ms"),
        (0.85, "850ms"),
        (0.9996, "1.0s"),
        (3.2, "3.2s"),
        (59.96, "1m00s"),
        (245, "4m05s"),
        (3599.6, "1h00m"),
        (2 * 3600 + 13 * 60, "2h13m"),
        (86399, "1d00h"),
        (3 * 86400 + 4 * 3600, "3d04h"),
        (-3.2, "-3.2s"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (None, "-"),
        (INF, "-"),
        (0, "0B"),
        (512, "512B"),
        (1023.4, "1023B"),
        (1023.7, "1.0KiB"),
        (1536, "1.5KiB"),
        (61.2 * 2**30, "61.2GiB"),
        (1023.96 * 2**20, "1.0GiB"),
        (-1536, "-1.5KiB"),
    ],
)
def test_format_bytes(count: float | None, text: str) -> None:
    assert format_bytes(count) == text


@pytest.mark.parametrize(
    ("fraction", "text"),
    [
        (None, "-"),
        (NAN, "-"),
        (0, "0%"),
        (0.973, "97%"),
        (0.5, "50%"),
        (0.004, "<1%"),
        (0.005, "<1%"),
        (0.996, ">99%"),
        (1, "100%"),
        (1.2, "120%"),
    ],
)
def test_format_percent(fraction: float | None, text: str) -> None:
    assert format_percent(fraction) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (0, "just now"),
        (4.9, "just now"),
        (-10, "just now"),
        (5, "5s ago"),
        (42.7, "42s ago"),
        (180, "3m ago"),
        (7199, "1h ago"),
        (3 * 86400 + 5, "3d ago"),
    ],
)
def test_format_age(seconds: float | None, text: str) -> None:
    assert format_age(seconds) == text
