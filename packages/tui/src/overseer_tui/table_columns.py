"""The runs table's columns and the plain values behind its cells: no Textual here.

A column has a key (``status``, ``name``, ``arg:lr``, ``latest:loss``, ``best:loss``, ``step``,
``eta``, ``age``, ``sig``); a cell's raw value sorts the rows, and its text is what is drawn.

::

    columns = build_columns(metrics=["loss"], arg_columns=["lr"])
    key = value_sort_key(column_value(run, "latest:loss", now))  # None: sorted last
    line = "  ".join(fit(cell_text(run, c.key, now), c.width, c.align) for c in columns)

Example:
    >>> metric_mode("val_loss"), metric_mode("accuracy")
    ('min', 'max')
    >>> fit("overseer", 5, "left"), fit("42", 5, "right")
    ('over…', '   42')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.cells import cell_len, set_cell_size

from .format import format_age, format_duration, format_number, format_percent
from .model import Run, RunStatus

__all__ = [
    "PROGRESS_CELLS",
    "SIG_CHARACTERS",
    "Column",
    "GroupHeader",
    "Layout",
    "SortKey",
    "build_columns",
    "cell_text",
    "column_value",
    "fit",
    "format_progress",
    "format_value",
    "metric_mode",
    "run_argument",
    "value_sort_key",
]

PROGRESS_CELLS = 8
"""Cells of a progress bar, between its two edges."""
SIG_CHARACTERS = 8
"""Characters of a signature shown: enough to tell runs apart, and to type as a selector."""
_STATUS_ORDER = {
    RunStatus.RUNNING: 0,
    RunStatus.PENDING: 1,
    RunStatus.FAILED: 2,
    RunStatus.CANCELLED: 3,
    RunStatus.COMPLETED: 4,
    RunStatus.UNKNOWN: 5,
}

SortKey = tuple[int, Any]
"""What rows are sorted by: ``(0, number)`` for numbers, ``(1, lowered text)`` for the rest."""


@dataclass(frozen=True)
class Column:
    """One column: ``width`` is the most cells it may take (less when its content is short)."""

    key: str
    title: str
    width: int
    align: str = "left"


@dataclass(frozen=True)
class GroupHeader:
    """A row that heads a group of runs (those sharing an argument's value)."""

    label: str


@dataclass(frozen=True)
class Layout:
    """The drawn width of each column, and of the whole row."""

    widths: tuple[int, ...]
    fixed_width: int  # status and name stay put while the other columns scroll sideways
    total_width: int


def metric_mode(name: str) -> Literal["min", "max"]:
    """Whether the best value of metric ``name`` is its minimum (losses, errors) or maximum.

    Args:
        name: The metric's name.

    Returns:
        ``"min"`` when the name holds ``loss`` or ``err`` (in any case), else ``"max"``.
    """
    lowered = name.lower()
    return "min" if "loss" in lowered or "err" in lowered else "max"


def format_progress(done: float, total: float, eta: float | None = None) -> str:
    """A progress bar text.

    Args:
        done: The work done so far.
        total: The whole work; zero or less draws an empty bar.
        eta: Seconds left, written after the bar when given.

    Returns:
        The bar, its percentage and, with ``eta``, the time left.

    Example:
        >>> format_progress(4, 8)
        '▕████░░░░▏ 50%'
    """
    fraction = min(1.0, max(0.0, done / total)) if total > 0 else 0.0
    full = round(fraction * PROGRESS_CELLS)
    bar = "█" * full + "░" * (PROGRESS_CELLS - full)
    text = f"▕{bar}▏{format_percent(fraction):>4}"
    return f"{text} {format_duration(eta)}" if eta is not None else text


def build_columns(metrics: Sequence[str], arg_columns: Sequence[str]) -> list[Column]:
    """The table's columns, left to right.

    Args:
        metrics: The metrics shown: each gets a latest and a best column.
        arg_columns: The arguments shown (those that differ between the runs).

    Returns:
        Status and name, the arguments, step and progress, the metrics, then age and sig.
    """
    # What tells runs apart comes first: the arguments that differ, then progress and
    # metrics; age and signature, the same for a grid's runs, come last.
    columns = [Column("status", "status", 9), Column("name", "name", 28)]
    columns.extend(Column(f"arg:{name}", name, 16, "right") for name in arg_columns)
    columns += [Column("step", "step", 9, "right"), Column("eta", "eta", 24)]
    for metric in metrics:
        columns.append(Column(f"latest:{metric}", metric, 12, "right"))
        columns.append(Column(f"best:{metric}", f"{metric_mode(metric)} {metric}", 12, "right"))
    columns += [Column("age", "age", 9, "right"), Column("sig", "sig", SIG_CHARACTERS)]
    return columns


def run_argument(run: Run, name: str) -> Any:
    """The value of argument ``name`` of ``run``.

    Args:
        run: The run.
        name: The argument's name.

    Returns:
        The value given on the command line, else the one in the run's config, else None.
    """
    if name in run.args:
        return run.args[name]
    return run.config.get(name)


def column_value(run: Run, key: str, now: float) -> Any:
    """The raw value of a cell, what sorting compares.

    Args:
        run: The run of the row.
        key: The column's key.
        now: The current time, in seconds since the epoch (for the ETA).

    Returns:
        The value, or None when the run has none.
    """
    kind, _, name = key.partition(":")
    if kind == "latest" or kind == "best":
        series = run.metrics.get(name)
        if series is None:
            return None
        return series.latest if kind == "latest" else series.best(metric_mode(name))
    if kind == "arg":
        return run_argument(run, name)
    if key == "status":
        return _STATUS_ORDER.get(run.status, len(_STATUS_ORDER))
    if key == "age":
        return -run.created  # newest first, and stable while the clock moves
    if key == "step":
        return run.step
    if key == "eta":
        return run.eta(now)
    return run.name if key == "name" else run.sig


def value_sort_key(value: Any) -> SortKey | None:
    """A key that orders numbers before text; None (sorted last) for missing values and NaN.

    Args:
        value: A cell's raw value (see ``column_value``).

    Returns:
        The key, or None when there is nothing to sort by.

    Example:
        >>> value_sort_key(3), value_sort_key("Adam"), value_sort_key(float("nan"))
        ((0, 3.0), (1, 'adam'), None)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return (0, float(value))
    if isinstance(value, (int, float)):
        return None if math.isnan(value) else (0, float(value))
    return (1, str(value).lower())


def format_value(value: Any) -> str:
    """A raw value as drawn: numbers compact, ``-`` for a missing one.

    Args:
        value: A cell's raw value.

    Returns:
        Its text.
    """
    if value is None:
        return "-"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value)
    return str(value)


def cell_text(run: Run, key: str, now: float) -> str:
    """The text of a cell, before it is fitted to its column.

    Args:
        run: The run of the row.
        key: The column's key.
        now: The current time, in seconds since the epoch (for ages and ETAs).

    Returns:
        The text drawn.
    """
    if key == "status":
        return str(run.status.value).lower()
    if key == "age":
        return format_age(now - run.created)
    if key == "eta":
        if run.progress is None:
            return "-"
        done, total = run.progress
        return format_progress(done, total, run.eta(now) if run.ended is None else None)
    if key == "sig":
        return run.sig[:SIG_CHARACTERS]  # enough to tell runs apart, and to type as a selector
    return format_value(column_value(run, key, now))


def fit(text: str, width: int, align: str) -> str:
    """``text`` padded or cut (with an ellipsis) to exactly ``width`` cells.

    Args:
        text: The text.
        width: The cells it must take.
        align: ``"right"`` pads on the left; anything else pads on the right.

    Returns:
        The fitted text.
    """
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…" if width > 0 else ""
    padding = " " * (width - length)
    return padding + text if align == "right" else text + padding
