"""The plot panel: one metric of the chosen runs, drawn with braille dots.

:class:`PlotState` is what the keys change (metric, x axis, log scale, smoothing, zoom and
pan), plain data that can be tested alone. :class:`PlotView` draws it: a title row, then a
:class:`~overseer_tui.plot_canvas.PlotGrid` built from each run's series, decimated to the
width of the plot so a million points draw as fast as a thousand::

    view = PlotView(id="plot")
    view.show([(run_a, 0), (run_b, 1)])  # runs and their palette colours
    view.state.metric = "loss"
    view.state.cycle_smoothing()  # raw lines faint, smoothed ones on top
    view.refresh_view()  # redraw after changing state
    view.refresh_data()  # new points arrived: redraw if a shown series grew

The grid is rebuilt only when the size, the state or the shown data changed; painting a
row reuses it (Textual's line API). The first smoothing of a long series (from
:data:`BACKGROUND_POINTS` points) runs in a worker thread: meanwhile its raw line is drawn
and the title says "smoothing…".
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from overseer_tui.plot_canvas import PlotGrid, PlotLine, data_ranges, render_plot
from overseer_tui.series import AXES
from overseer_tui.smoothing import SMOOTHING_STEPS
from overseer_tui.styles import faint_palette_color, palette_color

if TYPE_CHECKING:
    from overseer_tui.model import Run
    from overseer_tui.series import Series

MAX_ZOOM = 2.0**20
BACKGROUND_POINTS = 200_000
"""Series this long or longer are first smoothed in a worker thread (some 30 ms or more)."""
AXIS_TITLES = {"step": "step", "relative": "time since start", "wall": "wall clock"}


@dataclass
class PlotState:
    """What the plot shows, as the keys change it.

    Attributes:
        metric: the metric plotted; None lets the view pick the first one the runs have.
        axis: the x axis, one of ``series.AXES``: "step", "relative" (seconds since each
            run's first point) or "wall" (time of day).
        log_y: logarithmic y scale.
        smoothing: the debiased EMA weight, one of ``smoothing.SMOOTHING_STEPS``.
        zoom: 1.0 shows the whole x range, 2.0 half of it, and so on.
        center: the centre of the window as a fraction of the whole x range (0 = left
            end, 1 = right end); None is the middle. A fraction (not an x value) keeps
            the window in place when the axis changes or the run grows.

    Example:
        >>> state = PlotState()
        >>> state.zoom_in()
        >>> state.pan(0.5)  # half a window to the right
        >>> state.window((0.0, 100.0))
        (50.0, 100.0)
    """

    metric: str | None = None
    axis: str = "step"
    log_y: bool = False
    smoothing: float = 0.0
    zoom: float = 1.0
    center: float | None = None

    def cycle_axis(self) -> None:
        """Step, then time since the start, then wall-clock time."""
        self.axis = AXES[(AXES.index(self.axis) + 1) % len(AXES)] if self.axis in AXES else AXES[0]

    def toggle_log(self) -> None:
        """Switch between a linear and a logarithmic y scale."""
        self.log_y = not self.log_y

    def cycle_smoothing(self) -> None:
        """The next weight of ``SMOOTHING_STEPS`` (0 after the last)."""
        steps = SMOOTHING_STEPS
        following = [weight for weight in steps if weight > self.smoothing]
        self.smoothing = following[0] if following else steps[0]

    def zoom_in(self) -> None:
        """Halve the window around its centre."""
        self.zoom = min(self.zoom * 2.0, MAX_ZOOM)

    def zoom_out(self) -> None:
        """Double the window, back to the whole range at most."""
        self.zoom = max(self.zoom / 2.0, 1.0)
        if self.zoom == 1.0:
            self.center = None
        elif self.center is not None:
            self.center = self._clamped(self.center)

    def pan(self, fraction: float) -> None:
        """Move the window by ``fraction`` of its width (negative: to the left)."""
        if self.zoom > 1.0:
            center = 0.5 if self.center is None else self.center
            self.center = self._clamped(center + fraction / self.zoom)

    def reset(self) -> None:
        """The whole x range on a linear scale; metric, axis and smoothing stay."""
        self.zoom, self.center, self.log_y = 1.0, None, False

    def window(self, full: tuple[float, float]) -> tuple[float, float]:
        """The x range shown, given the whole x range of the data."""
        low, high = full
        if self.zoom <= 1.0 or not high > low:
            return full
        span = high - low
        center = self._clamped(0.5 if self.center is None else self.center)
        start = low + (center - 0.5 / self.zoom) * span
        return start, start + span / self.zoom

    def describe(self, metric: str | None = None) -> str:
        """The title: metric, axis, and the smoothing, log and zoom when set."""
        parts = [
            metric or self.metric or "no metric",
            f"x: {AXIS_TITLES.get(self.axis, self.axis)}",
        ]
        if self.smoothing > 0:
            parts.append(f"smoothing {self.smoothing:g}")
        if self.log_y:
            parts.append("log y")
        if self.zoom > 1.0:
            parts.append(f"zoom {self.zoom:g}x")
        return " · ".join(parts)

    def _clamped(self, center: float) -> float:
        half = 0.5 / self.zoom
        return min(max(center, half), 1.0 - half)


class PlotView(Widget, can_focus=True):
    """One metric of the shown runs against step, elapsed time or wall time.

    Attributes:
        state: what is plotted; change it, then call :meth:`refresh_view`.
        last_render_seconds: how long the last rebuild (decimation and drawing) took.
    """

    DEFAULT_CSS = """
    PlotView {
        height: 1fr;
        min-height: 5;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "pan(-0.25)", "Pan left", show=False),
        Binding("right", "pan(0.25)", "Pan right", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = PlotState()
        self.last_render_seconds = 0.0
        self._runs: list[tuple[Run, int]] = []
        self._key: tuple[Any, ...] | None = None
        self._grid: PlotGrid | None = None
        self._strips: list[Strip] = []
        self._smoothing: set[tuple[int, float]] = set()  # (id(series), weight) in workers
        self._unsmoothable: set[tuple[int, float]] = set()  # whose worker failed

    @property
    def grid(self) -> PlotGrid | None:
        """The plot as last drawn (below the title row), None before the first paint."""
        return self._grid

    @property
    def metric(self) -> str | None:
        """The metric plotted: the state's, else the first (by name) the shown runs have."""
        if self.state.metric is not None:
            return self.state.metric
        names = sorted({name for run, _ in self._runs for name in run.metrics})
        return names[0] if names else None

    def show(self, runs: Sequence[tuple[Run, int]]) -> None:
        """Plot these runs, each with its palette colour; redraws only if that changed."""
        self._runs = list(runs)
        self.refresh_view()

    def refresh_data(self) -> None:
        """New points may have arrived: redraw if a shown series changed."""
        self.refresh_view()

    def refresh_view(self) -> None:
        """Redraw if the state, the size or the data changed since the last drawing."""
        if self._current_key() != self._key:
            self.refresh()

    def action_pan(self, fraction: float) -> None:
        """Move the window by a fraction of its width."""
        self.state.pan(fraction)
        self.refresh_view()

    def render_lines(self, crop: Region) -> list[Strip]:
        """Rebuild the grid first when something changed, then paint the rows asked for."""
        self._ensure_grid()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """One row: the title at 0, then the rows of the grid."""
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    # -- building ----------------------------------------------------------------------

    def _current_key(self) -> tuple[Any, ...]:
        metric = self.metric
        data = tuple(
            (run.sig, color, _series_signature(run.metrics.get(metric) if metric else None))
            for run, color in self._runs
        )
        state = tuple(vars(self.state).values())  # plain fields: no deep copy needed
        return (self.size.width, self.size.height, state, metric, data, self.rich_style)

    def _ensure_grid(self) -> None:
        key = self._current_key()
        if key == self._key:
            return
        width, height = self.size
        started = time.perf_counter()
        self._grid = self._build_grid(width, max(height - 1, 0))
        self.last_render_seconds = time.perf_counter() - started
        self._strips = [self._title_strip(width), *self._grid_strips(self._grid)][:height]
        self._key = key

    def _build_grid(self, width: int, height: int) -> PlotGrid:
        metric, axis, state = self.metric, self.state.axis, self.state
        shown = [
            (series, color)
            for run, color in self._runs
            if metric is not None and (series := run.metrics.get(metric)) is not None
        ]
        bounds = [bound for series, _ in shown if (bound := series.x_bounds(axis)) is not None]
        full = (min(low for low, _ in bounds), max(high for _, high in bounds)) if bounds else None
        x_range = state.window(full) if full is not None else (0.0, 1.0)
        # The plot area is at most width - 1 cells of 2 dots: decimating to that many columns
        # (a little finer than the dots once labels take their share) keeps every dot
        # column's lowest and highest point.
        columns = max(2 * (width - 1), 2)
        lines: list[PlotLine] = []
        if full is not None:
            lines = self._lines(shown, x_range, columns)
        y_range = data_ranges(lines, log_y=state.log_y)[1]
        return render_plot(
            lines,
            width,
            height,
            x_range=x_range,
            y_range=y_range,
            log_y=state.log_y,
            time_axis=axis != "step",
            x_format=_clock_label(x_range) if axis == "wall" else None,
        )

    def _lines(
        self, shown: Sequence[tuple[Series, int]], x_range: tuple[float, float], columns: int
    ) -> list[PlotLine]:
        """The decimated lines: raw ones faint first when smoothing, then the plotted ones."""
        axis, smoothing = self.state.axis, self.state.smoothing
        low, high = x_range
        faint: list[PlotLine] = []
        plain: list[PlotLine] = []
        for series, color in shown:
            if smoothing > 0 and not self._smoothed_now(series, smoothing):
                smoothing_of_this = 0.0  # its raw line, plain, until the worker is done
            else:
                smoothing_of_this = smoothing
            weights = (0.0, smoothing_of_this) if smoothing_of_this > 0 else (0.0,)
            decimated = series.decimate_each(axis, low, high, columns, weights)
            if smoothing_of_this > 0:
                xs, ys = decimated[0]
                faint.append(PlotLine(xs=xs, ys=ys, color=color, faint=True))
            xs, ys = decimated[-1]
            plain.append(PlotLine(xs=xs, ys=ys, color=color))
        return faint + plain

    def _smoothed_now(self, series: Series, weight: float) -> bool:
        """Whether ``series`` can be drawn smoothed now; else start smoothing it in a worker."""
        if series.has_smoothed(weight) or len(series) < BACKGROUND_POINTS:
            return True
        key = (id(series), weight)
        if key in self._unsmoothable:
            return False
        if key not in self._smoothing:
            self._smoothing.add(key)
            task = series.smoothing_task(weight)

            def smooth() -> None:
                try:
                    done: Callable[[], None] = functools.partial(self._adopt, series, task(), key)
                except (MemoryError, ValueError) as error:
                    done = functools.partial(self._give_up, key, f"{series.name}: {error}")
                with contextlib.suppress(RuntimeError):  # the app closed meanwhile
                    self.app.call_from_thread(done)

            self.run_worker(smooth, thread=True, group="smoothing", exit_on_error=False)
        return False

    def _adopt(self, series: Series, part: Any, key: tuple[int, float]) -> None:
        self._smoothing.discard(key)
        series.adopt_smoothed(part)
        self._key = None  # the grid is out of date even though the data did not change
        self.refresh()

    def _give_up(self, key: tuple[int, float], why: str) -> None:
        self._smoothing.discard(key)
        self._unsmoothable.add(key)
        self.notify(f"cannot smooth {why}: its raw line is drawn", severity="error")
        self._key = None
        self.refresh()

    @property
    def smoothing_pending(self) -> bool:
        """Whether a worker is smoothing a shown series (its raw line is drawn meanwhile)."""
        return bool(self._smoothing)

    # -- painting ----------------------------------------------------------------------

    def _title_strip(self, width: int) -> Strip:
        base = self.rich_style
        title = self.state.describe(self.metric) + (" (smoothing…)" if self._smoothing else "")
        segments = [Segment(" " + title + "  ", base + Style(bold=True))]
        for run, color in self._runs:
            segments.append(Segment("━ ", base + Style(color=palette_color(color))))
            segments.append(Segment(run.name + "  ", base))
        return Strip(segments).adjust_cell_length(width, base)

    def _grid_strips(self, grid: PlotGrid) -> list[Strip]:
        base = self.rich_style
        styles: dict[int | None, Style] = {None: base + Style(dim=True)}

        def style_of(color: int | None) -> Style:
            if color not in styles:
                assert color is not None  # None is in styles from the start
                hue = palette_color(color) if color >= 0 else faint_palette_color(-1 - color)
                styles[color] = base + Style(color=hue)
            return styles[color]

        return [
            _row_strip(text, colors, style_of)
            for text, colors in zip(grid.chars, grid.colors, strict=True)
        ]


def _row_strip(
    text: str, colors: Sequence[int | None], style_of: Callable[[int | None], Style]
) -> Strip:
    """One grid row as segments, one per run of cells of the same colour."""
    segments = []
    start = 0
    for color, cells in itertools.groupby(colors):
        stop = start + len(list(cells))
        segments.append(Segment(text[start:stop], style_of(color)))
        start = stop
    return Strip(segments, len(text))


def _series_signature(series: Series | None) -> tuple[int, int] | None:
    """What changes when a series gets points or is replaced by another."""
    return None if series is None else (id(series), len(series))


def _clock_label(x_range: tuple[float, float]) -> Callable[[float], str]:
    """Formats epoch seconds as local time, as precise as the window needs."""
    span = x_range[1] - x_range[0]
    pattern = "%b %d %H:%M" if span > 2 * 86400 else "%H:%M" if span > 600 else "%H:%M:%S"

    def label(seconds: float) -> str:
        return time.strftime(pattern, time.localtime(seconds))

    return label
