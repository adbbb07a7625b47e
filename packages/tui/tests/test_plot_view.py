"""The plot panel: its state alone, then the widget in a real Textual app, headless."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from overseer_tui.clock import FakeClock
from overseer_tui.fake_source import FakeSource
from overseer_tui.model import Run
from overseer_tui.plot_canvas import PlotGrid, PlotLine, render_plot
from overseer_tui.plot_view import PlotState, PlotView
from overseer_tui.series import Series
from overseer_tui.smoothing import SMOOTHING_STEPS

# ------------------------------------------------------------------------------ PlotState


def test_the_axis_cycles_step_relative_wall() -> None:
    state = PlotState()
    seen = [state.axis]
    for _ in range(3):
        state.cycle_axis()
        seen.append(state.axis)
    assert seen == ["step", "relative", "wall", "step"]


def test_log_toggles_and_smoothing_cycles_through_the_steps() -> None:
    state = PlotState()
    flags = []
    for _ in range(2):
        state.toggle_log()
        flags.append(state.log_y)
    assert flags == [True, False]
    weights = []
    for _ in SMOOTHING_STEPS:
        state.cycle_smoothing()
        weights.append(state.smoothing)
    assert weights == [*SMOOTHING_STEPS[1:], SMOOTHING_STEPS[0]]


def test_zoom_halves_the_window_around_its_centre_and_stops_at_the_whole_range() -> None:
    state = PlotState()
    assert state.window((0.0, 100.0)) == (0.0, 100.0)
    state.zoom_in()
    assert state.window((0.0, 100.0)) == (25.0, 75.0)
    state.zoom_in()
    assert state.window((0.0, 100.0)) == (37.5, 62.5)
    for _ in range(5):
        state.zoom_out()
    assert state.zoom == 1.0
    assert state.window((0.0, 100.0)) == (0.0, 100.0)


def test_pan_moves_by_a_fraction_of_the_window_and_stays_inside_the_data() -> None:
    state = PlotState()
    state.pan(0.5)
    assert state.window((0.0, 100.0)) == (0.0, 100.0)  # nothing to pan at the whole range
    state.zoom_in()
    state.pan(0.5)
    assert state.window((0.0, 100.0)) == (50.0, 100.0)
    state.pan(3.0)
    assert state.window((0.0, 100.0)) == (50.0, 100.0)
    state.pan(-0.25)
    assert state.window((0.0, 100.0)) == (37.5, 87.5)
    # The window keeps its place (a fraction) as the data grows.
    assert state.window((0.0, 200.0)) == (75.0, 175.0)


def test_zooming_out_near_an_end_keeps_the_window_inside() -> None:
    state = PlotState()
    state.zoom_in()
    state.zoom_in()
    state.pan(10.0)
    assert state.window((0.0, 100.0)) == (75.0, 100.0)
    state.zoom_out()
    assert state.window((0.0, 100.0)) == (50.0, 100.0)


def test_reset_shows_the_whole_range_linear_and_keeps_the_rest() -> None:
    state = PlotState(metric="loss", axis="wall", smoothing=0.9, log_y=True)
    state.zoom_in()
    state.pan(0.3)
    state.reset()
    assert state == PlotState(metric="loss", axis="wall", smoothing=0.9)


def test_the_description_names_what_is_set() -> None:
    state = PlotState(metric="loss")
    assert state.describe() == "loss · x: step"
    state.cycle_axis()
    state.cycle_smoothing()
    state.toggle_log()
    state.zoom_in()
    assert state.describe() == "loss · x: time since start · smoothing 0.6 · log y · zoom 2x"


def test_a_single_x_value_is_its_own_window() -> None:
    state = PlotState()
    state.zoom_in()
    assert state.window((5.0, 5.0)) == (5.0, 5.0)


# ------------------------------------------------------------------------------- PlotView


class PlotApp(App[None]):
    """A host for one plot, as the monitor holds it."""

    def __init__(self, runs: Sequence[tuple[Run, int]]) -> None:
        super().__init__()
        self.shown = list(runs)

    def compose(self) -> ComposeResult:
        yield PlotView(id="plot")

    def on_mount(self) -> None:
        self.query_one(PlotView).show(self.shown)


def run_app(
    runs: Sequence[tuple[Run, int]],
    scenario: Callable[[Pilot[None], PlotView], Coroutine[Any, Any, None]],
    size: tuple[int, int] = (80, 24),
) -> None:
    async def main() -> None:
        app = PlotApp(runs)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await scenario(pilot, app.query_one(PlotView))

    asyncio.run(main())


def screen_rows(view: PlotView) -> list[str]:
    """What Textual last painted in the panel, row by row (reading it redraws nothing)."""
    return [view.render_line(y).text for y in range(view.size.height)]


def fake_runs(count: int = 3, live: int = 1) -> tuple[FakeSource, list[tuple[Run, int]]]:
    source = FakeSource(count, points=120, clock=FakeClock(), live=live, log_lines=0)
    return source, [(run, index) for index, run in enumerate(source.runs.runs.values())]


def grid_colors(grid: PlotGrid | None) -> set[int]:
    assert grid is not None
    return {color for row in grid.colors for color in row if color is not None}


def test_the_plot_shows_each_run_in_its_colour_under_a_title() -> None:
    _, runs = fake_runs()

    async def scenario(pilot: Pilot[None], view: PlotView) -> None:
        rows = screen_rows(view)
        assert len(rows) == 24
        assert rows[0].startswith(" accuracy · x: step")  # no metric chosen: the first by name
        for run, _ in runs:
            assert run.name in rows[0]
        assert grid_colors(view.grid) == {0, 1, 2}
        assert any("┤" in row for row in rows)
        assert view.last_render_seconds > 0

    run_app(runs, scenario)


def test_state_changes_change_the_title_and_the_drawing() -> None:
    _, runs = fake_runs()

    async def scenario(pilot: Pilot[None], view: PlotView) -> None:
        view.state.metric = "loss"
        view.refresh_view()
        await pilot.pause()
        linear = screen_rows(view)
        assert linear[0].startswith(" loss · x: step ")
        view.state.toggle_log()
        view.refresh_view()
        await pilot.pause()
        logarithmic = screen_rows(view)
        assert "log y" in logarithmic[0]
        assert logarithmic[1:] != linear[1:]
        view.state.cycle_smoothing()
        view.refresh_view()
        await pilot.pause()
        assert "smoothing 0.6" in screen_rows(view)[0]
        # The raw lines are drawn faint behind the smoothed ones.
        assert {-1, -2, -3} & grid_colors(view.grid)
        assert {0, 1, 2} <= grid_colors(view.grid)

    run_app(runs, scenario)


def test_the_axes_label_steps_durations_and_clock_times() -> None:
    _, runs = fake_runs()

    async def scenario(pilot: Pilot[None], view: PlotView) -> None:
        labels = []
        for _ in range(3):
            labels.append(screen_rows(view)[-1])
            view.state.cycle_axis()
            view.refresh_view()
            await pilot.pause()
        steps, durations, clock = labels
        assert "s" not in steps
        assert any(char.isdigit() for char in steps)
        assert "m" in durations or "s" in durations
        assert ":" in clock

    run_app(runs, scenario)


def test_zoom_and_pan_keys_move_the_x_window() -> None:
    _, runs = fake_runs()

    async def scenario(pilot: Pilot[None], view: PlotView) -> None:
        whole = screen_rows(view)[-1]
        view.state.zoom_in()
        view.state.zoom_in()
        view.refresh_view()
        await pilot.pause()
        zoomed = screen_rows(view)
        assert "zoom 4x" in zoomed[0]
        assert zoomed[-1] != whole
        view.focus()
        await pilot.press("right")
        await pilot.pause()
        assert screen_rows(view)[-1] != zoomed[-1]

    run_app(runs, scenario)


def test_a_resize_redraws_to_the_new_width() -> None:
    _, runs = fake_runs()

    async def scenario(pilot: Pilot[None], view: PlotView) -> None:
        assert view.grid is not None
        assert view.grid.width == 80
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        rows = screen_rows(view)
        assert view.grid.width == 120
        assert len(rows) == 30
        assert all(len(row) == 120 for row in rows)

    run_app(runs, scenario)


def test_new_points_redraw_only_when_a_shown_run_changed() -> None:
    source, runs = fake_runs(count=2, live=1)
    done, live = runs[0][0], runs[1][0]

    async def scenario(pilot: Pilot[None], view: PlotView) -> None:
        view.show([(done, 0)])
        await pilot.pause()
        before = view.grid
        source.advance(30.0)
        view.refresh_data()
        await pilot.pause()
        assert view.grid is before  # the live run is not shown: nothing to redraw
        view.show([(done, 0), (live, 1)])
        await pilot.pause()
        with_live = view.grid
        source.advance(30.0)
        view.refresh_data()
        await pilot.pause()
        assert view.grid is not with_live

    run_app(runs, scenario)


def test_no_run_shows_no_data() -> None:
    async def scenario(pilot: Pilot[None], view: PlotView) -> None:
        rows = screen_rows(view)
        assert rows[0].startswith(" no metric")
        assert any("no data" in row for row in rows)

    run_app([], scenario)


@pytest.fixture
def million_point_run() -> Run:
    run = Run("0123456789ab", "long-haul")
    series = run.metrics["loss"] = Series("loss")
    for step in range(1_000_000):
        series.append(float(step), 1_800_000_000.0 + step, 1.0 / (1.0 + step) + (step % 7) * 1e-3)
    return run


def test_a_million_points_are_decimated_to_the_width_and_smoothed_in_a_worker(
    million_point_run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[list[int]] = []
    real_render = render_plot

    def recording_render(lines: Sequence[PlotLine], *args: Any, **kwargs: Any) -> PlotGrid:
        drawn.append([len(line.xs) for line in lines])
        return real_render(lines, *args, **kwargs)

    monkeypatch.setattr("overseer_tui.plot_view.render_plot", recording_render)
    # The worker waits for the test to have seen the plot it leaves meanwhile.
    gate = threading.Event()
    real_task = Series.smoothing_task

    def gated_task(series: Series, weight: float) -> Callable[[], Any]:
        task = real_task(series, weight)
        return lambda: gate.wait(30) and task()

    monkeypatch.setattr(Series, "smoothing_task", gated_task)

    async def scenario(pilot: Pilot[None], view: PlotView) -> None:
        view.state.cycle_smoothing()
        view.refresh_view()
        await pilot.pause()
        # Meanwhile: the raw line alone, drawn plain, and a title that says so.
        assert drawn[-1] == [drawn[0][0]]
        assert view.smoothing_pending
        assert "smoothing 0.6 (smoothing…)" in screen_rows(view)[0]
        gate.set()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert not view.smoothing_pending
        assert "(smoothing…)" not in screen_rows(view)[0]
        assert len(drawn[-1]) == 2  # faint raw + smoothed

    run_app([(million_point_run, 0)], scenario)
    assert million_point_run.metrics["loss"].has_smoothed(0.6)
    columns = 2 * 80  # dots across an 80-column panel: a bound on the plot area's width
    assert all(0 < count <= 2 * columns + 2 for counts in drawn for count in counts)
