"""Drawings of a compute frontier: a PNG with matplotlib, and a character plot for terminals.

Both draw Elo against training compute on a log axis, one colour (or character) per board
size, the rated points and the fitted :class:`~overseer_rlbench.frontier.FrontierFit` curves.

>>> from overseer_rlbench.frontier import StudyPoint
>>> points = [StudyPoint(3, 10.0**k, 100.0 * k, 100.0 * k, 100.0 * k, "") for k in (1, 2, 3)]
>>> for line in plot_frontier_text(points, None, width=24, height=7):
...     print(line.rstrip())
 300 |                 3
     |
 200 |        3
     |
 100 |3
     +------------------
      1e1            1e3
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MissingExtraError
from .frontier import FrontierError, FrontierFit, StudyPoint, elo_at, frontier_points

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_frontier", "plot_frontier_text", "size_marker"]

# Pixels of the PNG: 8 x 5 inches at 100 dots per inch.
FIGURE_INCHES = (8.0, 5.0)
DPI = 100
# Points per fitted curve, spread evenly in log10(compute).
CURVE_SAMPLES = 200
# The smallest character plot that still has an axis, two labels and a plot area.
MIN_WIDTH, MIN_HEIGHT = 16, 5


def plot_frontier(
    points: Sequence[StudyPoint],
    fit: FrontierFit | None,
    path: Path | str,
    *,
    title: str | None = None,
) -> Path:
    """Draw ``points`` and the fitted frontier curves to the PNG ``path``; return ``path``.

    Points off the compute frontier (which the fit leaves out) are drawn faded. The file is
    written whole or not at all (a temporary file beside it, then renamed). Uses
    matplotlib's Agg canvas directly, so the caller's pyplot backend is left as it was.

    Raises:
        MissingExtraError: matplotlib is not installed.
        FrontierError: no points to draw.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        message = "plot_frontier needs matplotlib: pip install 'overseer-rlbench[plot]'"
        raise MissingExtraError(message) from None
    if not points:
        raise FrontierError("plot_frontier: no study points to draw")
    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    _draw(axes, points, fit)
    axes.set_title(title or _title(fit))
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        figure.savefig(temporary, format="png", dpi=DPI)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _draw(axes: Axes, points: Sequence[StudyPoint], fit: FrontierFit | None) -> None:
    from matplotlib import colormaps

    curve_sizes = _curve_sizes(points, fit)
    sizes = sorted({p.size for p in points} | set(curve_sizes))
    colours = colormaps["viridis"]
    low, high = _log_range(points)
    xs = [low + (high - low) * k / (CURVE_SAMPLES - 1) for k in range(CURVE_SAMPLES)]
    computes = [10.0**x for x in xs]
    frontier = set(frontier_points(points))
    for index, size in enumerate(sizes):
        colour = colours(0.85 * index / max(len(sizes) - 1, 1))
        mine = [p for p in points if p.size == size]
        best = [p for p in mine if p in frontier]
        _errorbars(axes, best, color=colour, label=f"{size}x{size}")
        _errorbars(axes, [p for p in mine if p not in frontier], color=colour, alpha=0.3)
        if fit is not None and size in curve_sizes:
            axes.plot(computes, [elo_at(fit, c, size) for c in computes], color=colour)
    axes.set_xscale("log")
    axes.set_xlabel("training compute (FLOPs)")
    axes.set_ylabel("Elo")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(title="board")


def _errorbars(axes: Axes, points: Sequence[StudyPoint], **style: Any) -> None:
    """Points with their Elo intervals as error bars; nothing for no points."""
    if not points:
        return
    below = [max(p.elo - p.elo_low, 0.0) for p in points]
    above = [max(p.elo_high - p.elo, 0.0) for p in points]
    computes, elos = [p.compute for p in points], [p.elo for p in points]
    axes.errorbar(computes, elos, [below, above], fmt="o", markersize=4, capsize=2, **style)


def _title(fit: FrontierFit | None) -> str:
    if fit is None:
        return "Elo against training compute"
    return f"Compute frontier: {fit.slope:.0f} Elo per decade of training compute"


def _curve_sizes(points: Sequence[StudyPoint], fit: FrontierFit | None) -> list[int]:
    """Board sizes the fit draws: its own, and the points' when it is linear in size."""
    if fit is None:
        return []
    drawn = set(fit.offsets) | ({p.size for p in points} if fit.per_size_linear else set())
    return sorted(drawn)


def _log_range(points: Sequence[StudyPoint]) -> tuple[float, float]:
    """``log10`` compute span of the points, half a decade wider on each side when flat."""
    logs = [math.log10(p.compute) for p in points]
    low, high = min(logs), max(logs)
    return (low - 0.5, high + 0.5) if high - low < 1e-9 else (low, high)


def size_marker(size: int) -> str:
    """The character that marks a board size in :func:`plot_frontier_text`.

    >>> size_marker(9), size_marker(11), size_marker(40)
    ('9', 'B', '#')
    """
    if size < 10:
        return str(size)
    return chr(ord("A") + size - 10) if size < 36 else "#"


def plot_frontier_text(
    points: Sequence[StudyPoint], fit: FrontierFit | None, width: int, height: int
) -> list[str]:
    """A character plot of Elo against ``log10`` training compute, ``height`` lines of ``width``.

    Each point is its board size's :func:`size_marker`; fitted curves are ``.``; the y axis is
    labelled at its top, middle and bottom, the x axis at its ends.

    Raises:
        FrontierError: no points, or a size below 16 x 5 characters.
    """
    if not points:
        raise FrontierError("plot_frontier_text: no study points to draw")
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        message = (
            f"plot_frontier_text: {width} x {height} characters is too small,"
            f" give at least {MIN_WIDTH} x {MIN_HEIGHT}"
        )
        raise FrontierError(message)
    x_low, x_high = _log_range(points)
    rows = height - 2
    curves = _curves(points, fit, (x_low, x_high), width)
    y_low, y_high = _elo_range(points, curves)
    labels = [""] * rows
    labels[0], labels[rows // 2], labels[-1] = (
        f"{y_high - (y_high - y_low) * k / (rows - 1):.0f}" for k in (0, rows // 2, rows - 1)
    )
    margin = max(len(label) for label in labels) + 1
    columns = width - margin - 2
    grid = [[" "] * columns for _ in range(rows)]

    def mark(x: float, y: float, character: str) -> None:
        column = round((x - x_low) / (x_high - x_low) * (columns - 1))
        row = round((y_high - y) / (y_high - y_low) * (rows - 1))
        if 0 <= column < columns and 0 <= row < rows:
            grid[row][column] = character

    for xs_ys in curves.values():
        for x, y in xs_ys:
            mark(x, y, ".")
    for point in sorted(points, key=lambda p: p.size):
        mark(math.log10(point.compute), point.elo, size_marker(point.size))
    lines = [f"{label:>{margin}} |{''.join(row)}" for label, row in zip(labels, grid, strict=True)]
    lines.append(" " * (margin + 1) + "+" + "-" * columns)
    left, right = _compact(10.0**x_low), _compact(10.0**x_high)
    lines.append(" " * (margin + 2) + left + right.rjust(columns - len(left)))
    return [line[:width].ljust(width) for line in lines]


def _curves(
    points: Sequence[StudyPoint], fit: FrontierFit | None, span: tuple[float, float], count: int
) -> dict[int, list[tuple[float, float]]]:
    """Per board size, ``count`` samples ``(log10 compute, Elo)`` of the fitted curve."""
    if fit is None:
        return {}
    xs = [span[0] + (span[1] - span[0]) * k / (count - 1) for k in range(count)]
    return {
        size: [(x, elo_at(fit, 10.0**x, size)) for x in xs] for size in _curve_sizes(points, fit)
    }


def _elo_range(
    points: Sequence[StudyPoint], curves: dict[int, list[tuple[float, float]]]
) -> tuple[float, float]:
    elos = [p.elo for p in points] + [y for curve in curves.values() for _, y in curve]
    low, high = min(elos), max(elos)
    return (low - 1.0, high + 1.0) if high - low < 1e-9 else (low, high)


def _compact(compute: float) -> str:
    """``3e12`` for 3.2e12: one significant digit, no plus sign or leading zeros."""
    mantissa, exponent = f"{compute:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"
