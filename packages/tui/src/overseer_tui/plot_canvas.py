"""Line plots drawn with braille dots into a grid of characters, with no terminal library.

Each character cell holds 2 x 4 dots (the U+2800 braille block), so a 40 x 12 grid gives a
plot area of about 60 x 40 dots. Consecutive points are joined by straight lines in dot
space; a non-finite value (and, on a log scale, a value <= 0) breaks the line. Each cell
records which line coloured it: where lines share a cell the later line wins, and a faint
line (the raw series behind its smoothed one) never covers a plain one.

    >>> line = PlotLine(xs=[0, 1, 2, 3], ys=[0.0, 1.0, 4.0, 9.0], color=0)
    >>> x_range, y_range = data_ranges([line])
    >>> grid = render_plot([line], 30, 8, x_range=x_range, y_range=y_range)
    >>> len(grid.chars), len(grid.chars[0])
    (8, 30)
    >>> print(grid.text())  # doctest: +SKIP

Layout: y tick labels on the left (right-aligned, at most 8 characters), the axis line
``│`` / ``└`` / ``─`` with ``┤`` / ``┬`` tick marks, and x tick labels on the last row.
Tick values are "nice": 1, 2 or 5 times a power of ten (powers of ten on a log scale,
seconds/minutes/hours steps on a time axis).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray

LABEL_WIDTH = 8  # y tick labels longer than this are cut
NO_DATA = "no data"

# The bit of each dot of a braille cell, by (dot row, dot column): Unicode's dot numbering.
_BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_BRAILLE_BASE = 0x2800
_NO_COLOR = -(1 << 30)  # marks an uncoloured cell inside the numpy colour array
_COORDINATE_LIMIT = 1e9  # dot coordinates are clipped to this so wild values stay finite
# Steps of a time axis in seconds, before whole days take over.
_TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)
_DAY = 86400.0

Formatter = Callable[[float], str]


@dataclass(frozen=True, eq=False)  # numpy arrays have no plain ==: compare by identity
class PlotLine:
    """One line to draw: its points (already decimated) and its palette colour.

    Attributes:
        xs: x of each point.
        ys: y of each point; NaN/inf (and <= 0 on a log scale) break the line there.
        color: index into ``styles.PALETTE``, the same as the run's in the runs table.
        faint: the raw series drawn behind its smoothed one, in the faint palette.
    """

    xs: Sequence[float] | numpy.ndarray
    ys: Sequence[float] | numpy.ndarray
    color: int
    faint: bool = False


@dataclass(frozen=True)
class PlotGrid:
    """A rendered plot: rows of characters and the colour of each cell.

    Attributes:
        width: characters per row.
        height: number of rows.
        chars: ``height`` strings of exactly ``width`` characters.
        colors: per cell, the palette index of the line drawn there, ``-1 - i`` for faint
            palette colour ``i``, or None for axes, labels and blanks.
    """

    width: int
    height: int
    chars: list[str]
    colors: list[list[int | None]]

    def text(self) -> str:
        """The characters as one string, rows joined by newlines."""
        return "\n".join(self.chars)


def render_plot(
    lines: Sequence[PlotLine],
    width: int,
    height: int,
    *,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    log_y: bool = False,
    x_label: str = "",
    time_axis: bool = False,
    x_format: Formatter | None = None,
    y_format: Formatter | None = None,
) -> PlotGrid:
    """Draw ``lines`` into a ``width`` x ``height`` grid of characters.

    Args:
        lines: drawn in order; a later line's colour wins in a shared cell.
        width: grid width in characters.
        height: grid height in rows (the last two hold the x axis and its labels).
        x_range: the x values at the left and right edges of the plot area.
        y_range: the y values at the bottom and top (data units, also when ``log_y``).
        log_y: logarithmic y scale, ticks at powers of ten.
        x_label: written at the right end of the last row when given.
        time_axis: x values are seconds: time-sized tick steps, labels as durations.
        x_format: formats x tick values (default: durations when ``time_axis``, else
            ``format.format_number``).
        y_format: formats y tick values (default ``format.format_number``).

    Returns:
        The grid; when no point can be drawn, the axes and a centred "no data".
    """
    plot_rows = height - 2
    if width < 4 or plot_rows < 1:
        return _blank_grid(max(width, 0), max(height, 0))
    x_format, y_format = _formatters(x_format, y_format, time_axis)
    has_data = any(_has_finite_point(line, log_y) for line in lines)
    y_scale, x_scale = _Scale.of(y_range, log_y), _Scale.of(x_range, False)
    y_ticks = _y_ticks(y_scale, plot_rows) if has_data else []
    y_labels = [y_format(value)[:LABEL_WIDTH] for value in y_ticks]
    label_width = max((len(label) for label in y_labels), default=0)
    if width - label_width - 1 < 2:  # no room for labels: the plot gets the whole width
        y_ticks, y_labels, label_width = [], [], 0
    canvas = _Canvas(plot_rows, width - label_width - 1)
    for line in lines:
        canvas.draw(line, x_scale, y_scale)
    label_rows = {
        (canvas.dots_tall - 1 - y_scale.dot(value, canvas.dots_tall)) // 4: label
        for value, label in zip(y_ticks, y_labels, strict=True)
    }
    chars = [
        label_rows.get(row, "").rjust(label_width) + ("┤" if row in label_rows else "│") + text
        for row, text in enumerate(canvas.rows())
    ]
    x_ticks = _x_ticks(x_scale, time_axis, canvas.cols) if has_data else []
    columns = [label_width + 1 + x_scale.dot(value, canvas.dots_wide) // 2 for value in x_ticks]
    chars.append(_axis_row(width, label_width, columns))
    chars.append(_label_row(width, columns, [x_format(value) for value in x_ticks], x_label))
    margin: list[int | None] = [None] * (label_width + 1)
    colors = [margin + row for row in canvas.color_rows()]
    colors += [[None] * width, [None] * width]
    return PlotGrid(width=width, height=height, chars=chars, colors=colors)


def data_ranges(
    lines: Sequence[PlotLine], *, log_y: bool = False
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The x extent and the y extent padded by 5% of the finite points of ``lines``.

    On a log scale only values > 0 count and the padding is 5% of the decades spanned.
    With no such point the ranges are (0, 1) and (0, 1), or (1, 10) on a log scale.

        >>> data_ranges([PlotLine(xs=[0, 10], ys=[0.0, 100.0], color=0)])
        ((0.0, 10.0), (-5.0, 105.0))
    """
    import numpy as np

    xs_parts, ys_parts = [], []
    for line in lines:
        xs, ys = _finite_points(line, log_y)
        xs_parts.append(xs)
        ys_parts.append(ys)
    xs = np.concatenate(xs_parts) if xs_parts else np.zeros(0)
    ys = np.concatenate(ys_parts) if ys_parts else np.zeros(0)
    if len(xs) == 0:
        return (0.0, 1.0), ((1.0, 10.0) if log_y else (0.0, 1.0))
    x_range = (float(xs.min()), float(xs.max()))
    if log_y:
        low, high = _padded(float(np.log10(ys.min())), float(np.log10(ys.max())))
        return x_range, (10.0**low, 10.0**high)
    return x_range, _padded(float(ys.min()), float(ys.max()))


def nice_ticks(low: float, high: float, target: int) -> list[float]:
    """About ``target`` round values in [low, high]: multiples of 1, 2 or 5 x 10**k.

    >>> nice_ticks(0.0, 1.0, 5)
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    return _ticks(low, high, target, _nice_step)


def time_ticks(low: float, high: float, target: int) -> list[float]:
    """Like :func:`nice_ticks` for seconds: steps of 1, 2, 5, 10, 15, 30 s, minutes, hours.

    >>> time_ticks(0.0, 600.0, 2)
    [0.0, 300.0, 600.0]
    """
    return _ticks(low, high, target, _time_step)


def log_ticks(low: float, high: float, target: int) -> list[float]:
    """Powers of ten in [low, high] (every k-th one when there are many), for a log scale.

    With fewer than two powers in range, the linear :func:`nice_ticks` that are > 0.

        >>> log_ticks(0.5, 2000.0, 5)
        [1.0, 10.0, 100.0, 1000.0]
    """
    low_exponent = math.ceil(math.log10(low) - 1e-9)
    high_exponent = math.floor(math.log10(high) + 1e-9)
    count = high_exponent - low_exponent + 1
    if count < 2:
        return [value for value in nice_ticks(low, high, target) if value > 0]
    stride = math.ceil(count / max(target, 1))
    first = math.ceil(low_exponent / stride) * stride
    return [10.0**exponent for exponent in range(first, high_exponent + 1, stride)]


# ----------------------------------------------------------------------------- drawing


class _Scale:
    """Maps data values of one axis onto dot coordinates (log10 first when logarithmic)."""

    def __init__(self, low: float, high: float, log: bool) -> None:
        self.low, self.high, self.log = low, high, log

    @classmethod
    def of(cls, value_range: tuple[float, float], log: bool) -> _Scale:
        low, high = value_range
        if log:
            high = high if high > 0 else 10.0
            low = low if 0 < low < high else high / 1000.0
            low, high = math.log10(low), math.log10(high)
        if not high > low:  # one value (or a reversed range): centre it
            margin = abs(low) * 0.05 or 1.0
            low, high = low - margin, low + margin
        return cls(low, high, log)

    def positions(self, values: NDArray[numpy.float64], dots: int) -> NDArray[numpy.float64]:
        """Dot coordinates of ``values`` from the low end; NaN where one cannot be drawn."""
        import numpy as np

        if self.log:
            values = np.log10(values, out=np.full(values.shape, np.nan), where=values > 0)
        span = self.high - self.low
        scaled = (values - self.low) * ((dots - 1) / span)
        return np.clip(scaled, -_COORDINATE_LIMIT, _COORDINATE_LIMIT)

    def dot(self, value: float, dots: int) -> int:
        """The dot coordinate of one tick value, from the low end."""
        if self.log:
            value = math.log10(value)
        return round((value - self.low) * (dots - 1) / (self.high - self.low))


class _Canvas:
    """A plot area of braille dots, with the colour of each cell."""

    def __init__(self, rows: int, cols: int) -> None:
        import numpy as np

        self.rows_count, self.cols = rows, cols
        self.dots_tall, self.dots_wide = rows * 4, cols * 2
        self.dots = np.zeros((self.dots_tall, self.dots_wide), dtype=bool)
        self.colors = np.full((rows, cols), _NO_COLOR, dtype=np.int64)
        self.plain = np.zeros((rows, cols), dtype=bool)  # cells a non-faint line holds
        self.drawn = False

    def draw(self, line: PlotLine, x_scale: _Scale, y_scale: _Scale) -> None:
        """Add the dots of ``line`` and claim the colour of the cells it touches."""
        import numpy as np

        count = min(len(line.xs), len(line.ys))
        xs = x_scale.positions(np.asarray(line.xs, dtype=float)[:count], self.dots_wide)
        heights = y_scale.positions(np.asarray(line.ys, dtype=float)[:count], self.dots_tall)
        ys = (self.dots_tall - 1) - heights  # dot row 0 is the top
        finite = np.isfinite(xs) & np.isfinite(ys)
        joined = finite[:-1] & finite[1:]
        segment_xs, segment_ys = _segment_samples(
            xs[:-1][joined], ys[:-1][joined], xs[1:][joined], ys[1:][joined], self.dots.shape
        )
        columns, rows = _dot_indices(
            np.concatenate([xs[finite], segment_xs]),
            np.concatenate([ys[finite], segment_ys]),
            self.dots.shape,
        )
        if len(columns) == 0:
            return
        self.dots[rows, columns] = True
        cells = (rows // 4) * self.cols + columns // 2
        colors, plain = self.colors.reshape(-1), self.plain.reshape(-1)
        if line.faint:
            colors[cells[~plain[cells]]] = -1 - line.color
        else:
            colors[cells] = line.color
            plain[cells] = True
        self.drawn = True

    def rows(self) -> list[str]:
        """One string per row: braille characters, spaces where no dot is set."""
        import numpy as np

        codes = np.zeros((self.rows_count, self.cols), dtype="<u4")
        for dot_row, bits in enumerate(_BRAILLE_BITS):
            for dot_column, bit in enumerate(bits):
                codes[self.dots[dot_row::4, dot_column::2]] |= bit
        codes = np.where(codes == 0, ord(" "), codes + _BRAILLE_BASE).astype("<u4")
        # Each row of UTF-32 code points is read as one numpy string: no Python loop per cell.
        rows = [str(text) for text in np.ascontiguousarray(codes).view(f"<U{self.cols}").ravel()]
        if not self.drawn:
            rows[self.rows_count // 2] = NO_DATA[: self.cols].center(self.cols)
        return rows

    def color_rows(self) -> list[list[int | None]]:
        """The colour of each cell, None where no line is drawn."""
        cells = self.colors.astype(object)
        cells[self.colors == _NO_COLOR] = None
        rows: list[list[int | None]] = cells.tolist()
        return rows


def _dot_indices(
    xs: NDArray[numpy.float64], ys: NDArray[numpy.float64], shape: tuple[int, ...]
) -> tuple[NDArray[numpy.int64], NDArray[numpy.int64]]:
    """The (column, row) of the dot nearest to each (x, y), dropping those outside."""
    import numpy as np

    columns = np.rint(xs).astype(np.int64)
    rows = np.rint(ys).astype(np.int64)
    inside = (columns >= 0) & (columns < shape[1]) & (rows >= 0) & (rows < shape[0])
    return columns[inside], rows[inside]


def _segment_samples(
    x0: NDArray[numpy.float64],
    y0: NDArray[numpy.float64],
    x1: NDArray[numpy.float64],
    y1: NDArray[numpy.float64],
    shape: tuple[int, ...],
) -> tuple[NDArray[numpy.float64], NDArray[numpy.float64]]:
    """Points one dot apart along each segment, after clipping the segments to the area.

    Clipping first (Liang-Barsky, all segments at once) keeps the work proportional to
    the dots drawn, even for a segment that runs far outside a zoomed-in window.
    """
    import numpy as np

    dx, dy = x1 - x0, y1 - y0
    start, end = np.zeros(len(x0)), np.ones(len(x0))
    keep = np.ones(len(x0), dtype=bool)
    bounds = (
        (-dx, x0 + 0.5),
        (dx, shape[1] - 0.5 - x0),
        (-dy, y0 + 0.5),
        (dy, shape[0] - 0.5 - y0),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        for direction, room in bounds:
            keep &= ~((direction == 0) & (room < 0))
            ratio = room / direction
            start = np.where(direction < 0, np.maximum(start, ratio), start)
            end = np.where(direction > 0, np.minimum(end, ratio), end)
    keep &= start <= end
    start, end, x0, y0, dx, dy = (part[keep] for part in (start, end, x0, y0, dx, dy))
    lengths = np.ceil(np.maximum(np.abs(dx), np.abs(dy)) * (end - start)).astype(np.int64) + 1
    segment = np.repeat(np.arange(len(lengths)), lengths)
    first = np.cumsum(lengths) - lengths
    along = (np.arange(int(lengths.sum())) - first[segment]) / np.maximum(lengths - 1, 1)[segment]
    fraction = start[segment] + along * (end - start)[segment]
    return x0[segment] + fraction * dx[segment], y0[segment] + fraction * dy[segment]


# ------------------------------------------------------------------------------ axes


def _axis_row(width: int, label_width: int, tick_columns: Sequence[int]) -> str:
    """The x axis line: a corner under the y axis, then dashes with tick marks."""
    cells = [" "] * label_width + ["└"] + ["─"] * (width - label_width - 1)
    for column in tick_columns:
        if label_width < column < width:
            cells[column] = "┬"
    return "".join(cells)


def _label_row(width: int, columns: Sequence[int], labels: Sequence[str], x_label: str) -> str:
    """Tick labels centred under their marks, skipping any that would touch a neighbour."""
    cells = [" "] * width
    limit = width
    if x_label and len(x_label) < width:
        limit = width - len(x_label) - 1
        cells[width - len(x_label) :] = x_label
    next_free = 0
    for column, label in zip(columns, labels, strict=True):
        start = min(max(column - len(label) // 2, 0), width - len(label))
        if start < next_free or start + len(label) > limit:
            continue
        cells[start : start + len(label)] = label
        next_free = start + len(label) + 1
    return "".join(cells)


def _y_ticks(scale: _Scale, plot_rows: int) -> list[float]:
    target = max(2, plot_rows // 4)  # a label every four rows or so
    if scale.log:
        return log_ticks(10.0**scale.low, 10.0**scale.high, target)
    return nice_ticks(scale.low, scale.high, target)


def _x_ticks(scale: _Scale, time_axis: bool, plot_cols: int) -> list[float]:
    target = max(2, plot_cols // 10)
    return (time_ticks if time_axis else nice_ticks)(scale.low, scale.high, target)


def _ticks(low: float, high: float, target: int, step_of: Callable[[float], float]) -> list[float]:
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        return []
    raw = (high - low) / max(target, 1)
    ticks: list[float] = []
    for _attempt in range(3):  # a coarse step can miss the range: take a finer one
        ticks = _multiples(low, high, step_of(raw))
        if len(ticks) >= 2:
            break
        raw /= 2.5
    return ticks


def _multiples(low: float, high: float, step: float) -> list[float]:
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    if step >= 1.0:  # whole steps: exact integer products
        whole = round(step)
        return [float(k * whole) for k in range(first, last + 1)]
    # Dividing by an exact power of ten (not multiplying by 0.1) keeps 0.3 as 0.3.
    exponent = math.floor(math.log10(step))
    mantissa = round(step / 10.0**exponent, 6)
    return [k * mantissa / 10.0**-exponent for k in range(first, last + 1)]


def _nice_step(raw: float) -> float:
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return _closest(raw, [multiple * magnitude for multiple in (1.0, 2.0, 5.0, 10.0)])


def _time_step(raw: float) -> float:
    if raw < 1.0:
        return _nice_step(raw)
    if raw > _TIME_STEPS[-1]:
        return _DAY * _nice_step(raw / _DAY) if raw > _DAY else _closest(raw, [21600.0, _DAY])
    return _closest(raw, [float(step) for step in _TIME_STEPS])


def _closest(raw: float, steps: Sequence[float]) -> float:
    """The step nearest to ``raw`` by ratio, so the tick count stays near the target."""
    return min(steps, key=lambda step: abs(math.log(step / raw)))


# ---------------------------------------------------------------------------- helpers


def _formatters(
    x_format: Formatter | None, y_format: Formatter | None, time_axis: bool
) -> tuple[Formatter, Formatter]:
    """The tick label formatters asked for, else format.py's."""
    from overseer_tui.format import format_duration, format_number

    default_x = _duration_label(format_duration) if time_axis else _number_label(format_number)
    return x_format or default_x, y_format or _number_label(format_number)


def _number_label(format_number: Callable[[float | int | None], str]) -> Formatter:
    """Tick labels: whole values as integers, so 200.0 reads "200" and 1e6 reads "1M"."""

    def label(value: float) -> str:
        if value.is_integer() and abs(value) < 1e15:
            return format_number(int(value))
        return format_number(value)

    return label


def _duration_label(format_duration: Callable[[float | None], str]) -> Formatter:
    """Time tick labels: durations, with a plain "0" at the origin (not "0ms")."""

    def label(seconds: float) -> str:
        return "0" if seconds == 0 else format_duration(seconds)

    return label


def _padded(low: float, high: float) -> tuple[float, float]:
    margin = (high - low) * 0.05 if high > low else (abs(low) * 0.1 or 1.0)
    return low - margin, high + margin


def _finite_points(
    line: PlotLine, log_y: bool
) -> tuple[NDArray[numpy.float64], NDArray[numpy.float64]]:
    import numpy as np

    count = min(len(line.xs), len(line.ys))
    xs = np.asarray(line.xs, dtype=float)[:count]
    ys = np.asarray(line.ys, dtype=float)[:count]
    keep = np.isfinite(xs) & np.isfinite(ys)
    if log_y:
        keep &= ys > 0
    return xs[keep], ys[keep]


def _has_finite_point(line: PlotLine, log_y: bool) -> bool:
    return len(_finite_points(line, log_y)[0]) > 0


def _blank_grid(width: int, height: int) -> PlotGrid:
    return PlotGrid(
        width=width,
        height=height,
        chars=[" " * width for _ in range(height)],
        colors=[[None] * width for _ in range(height)],
    )
