"""The monitor app driven headless by Textual's pilot: every key of the app, and resizing.

The runs table's own keys (cursor, selection, sort, group) are tested in test_runs_table.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from overseer_tui.app import MonitorApp
from overseer_tui.clock import FakeClock
from overseer_tui.fake_source import FakeSource
from overseer_tui.help_screen import HelpScreen

Scenario = Callable[[MonitorApp, Pilot[None], FakeSource], Awaitable[None]]


def drive(scenario: Scenario, size: tuple[int, int] = (140, 44), **fake: Any) -> MonitorApp:
    """Run ``scenario`` against a monitor of fake runs; polls happen only when it asks."""
    clock = FakeClock()
    source = FakeSource(clock=clock, **fake)
    app = MonitorApp(source, clock=clock, interval=3600, local_gpus=False)

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await scenario(app, pilot, source)

    asyncio.run(main())
    return app


def plot_text(app: MonitorApp) -> str:
    grid = app.plot.grid
    assert grid is not None, "the plot was never drawn"
    return "\n".join(grid.chars)


def title(app: MonitorApp) -> str:
    return str(app.query_one("#title").render())


def test_it_opens_on_every_run_with_the_loss_plotted() -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        assert len(app.table.visible_runs()) == 6
        assert "6 runs" in title(app)
        assert "2 running" in title(app)
        assert app.plot.state.metric == "loss"
        assert app.table.has_focus

    drive(scenario)


@pytest.mark.parametrize(("key", "step"), [("m", 1), ("M", -1)])
def test_m_and_shift_m_cycle_the_plotted_metric(key: str, step: int) -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        names = app.metric_names
        before = plot_text(app)
        await pilot.press(key)
        await pilot.pause()
        expected = names[(names.index("loss") + step) % len(names)]
        assert app.plot.state.metric == expected
        assert f"plot: {expected}" in title(app)
        assert plot_text(app) != before

    drive(scenario)


@pytest.mark.parametrize(
    ("key", "attribute", "value"),
    [
        ("x", "axis", "relative"),
        ("l", "log_y", True),
        ("e", "smoothing", 0.6),
        ("plus", "zoom", 2.0),
    ],
)
def test_plot_keys_change_what_is_drawn(key: str, attribute: str, value: object) -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        before = plot_text(app)
        await pilot.press(key)
        await pilot.pause()
        assert getattr(app.plot.state, attribute) == value
        assert plot_text(app) != before

    drive(scenario)


def test_minus_zero_and_brackets_undo_zoom_and_pan() -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        whole = plot_text(app)
        await pilot.press("plus", "plus")
        await pilot.pause()
        assert app.plot.state.zoom == 4.0
        await pilot.press("minus")
        assert app.plot.state.zoom == 2.0
        centre = app.plot.state.center
        await pilot.press("left_square_bracket")
        assert app.plot.state.center != centre
        panned = app.plot.state.center
        await pilot.press("right_square_bracket")
        assert app.plot.state.center != panned
        await pilot.press("l", "0")
        await pilot.pause()
        assert app.plot.state.zoom == 1.0
        assert not app.plot.state.log_y
        assert plot_text(app) == whole

    drive(scenario)


def test_p_and_o_show_and_hide_the_plot_and_the_log() -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        assert app.plot.display
        assert app.log_view.display
        await pilot.press("p")
        assert not app.plot.display
        await pilot.press("o")
        assert not app.log_view.display
        assert not app.query_one("#side").display
        await pilot.press("p", "o")
        assert app.plot.display
        assert app.log_view.display

    drive(scenario)


def test_a_runs_gpus_are_sampled_once_per_gpudata_record() -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        device = app.gpu_history.devices()[0]
        run = next(run for run in source.runs.runs.values() if run.gpus)
        before = len(app.gpu_history.loads(device))

        async def changed(data: dict[str, Any]) -> int:
            # What a poll does when the run got an entry (without the fake runs moving on).
            run.apply({"event": "data", "data": data, "t": app.clock.now()})
            source.runs.touch(run.sig)
            app._take_changes(app.clock.now())
            await pilot.pause()
            return len(app.gpu_history.loads(device)) - before

        assert await changed({"loss": 0.5}) == 0  # the run changed, not its GPUs
        assert await changed({"gpudata": dict(run.gpus)}) == 1  # the same reading, again
        assert await changed({"step": 3}) == 1

    drive(scenario, gpus=1)


def test_the_gpu_panel_shows_only_with_gpus_and_g_hides_it() -> None:
    async def no_gpu(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        assert not app.gpu_view.display
        await pilot.press("G")
        await pilot.pause()
        assert not app.gpu_view.display
        assert any("no GPU" in str(n.message) for n in app._notifications)

    async def with_gpus(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        assert app.gpu_view.display
        await pilot.press("G")
        assert not app.gpu_view.display
        await pilot.press("G")
        assert app.gpu_view.display

    drive(no_gpu)
    drive(with_gpus, gpus=2)


def test_enter_plots_the_run_under_the_cursor_alone() -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        await pilot.press("space", "down", "space", "down")
        assert len(app.table.selected) == 2
        await pilot.press("enter")
        cursor = app.table.cursor_run
        assert cursor is not None
        assert app.table.selected == [cursor.sig]
        assert app.plot_sigs() == [cursor.sig]

    drive(scenario)


def test_slash_filters_the_runs_and_escape_clears_the_filter() -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        name = app.table.visible_runs()[0].name
        await pilot.press("slash")
        prompt = app.query_one("#prompt", Input)
        assert prompt.has_focus
        await pilot.press(*name, "enter")
        await pilot.pause()
        assert [run.name for run in app.table.visible_runs()] == [name]
        assert "1 of 6 runs" in title(app)
        assert app.table.has_focus
        assert not prompt.display
        await pilot.press("slash", "escape")
        await pilot.pause()
        assert len(app.table.visible_runs()) == 6

    drive(scenario)


def test_a_selector_filter_keeps_the_matching_runs() -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        await pilot.press("slash", *"status=running", "enter")
        await pilot.pause()
        assert {run.status.value for run in app.table.visible_runs()} == {"RUNNING"}
        assert len(app.table.visible_runs()) == 2

    drive(scenario)


def test_v_cycles_the_log_level_and_ctrl_f_then_n_find_lines() -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        level = app.log_view.level
        await pilot.press("v")
        assert app.log_view.level != level
        await pilot.press("ctrl+f")
        assert app.query_one("#prompt", Input).has_focus
        await pilot.press(*"WARNING", "enter")
        await pilot.pause()
        assert app.log_view.search == "WARNING"
        assert app.log_view.match_count > 1
        positions = set()
        for _ in range(6):
            await pilot.press("n")
            await pilot.pause()
            positions.add(app.log_view.scroll_y)
        assert len(positions) > 1  # the matches are far apart: n scrolls from one to the next

    drive(scenario, size=(140, 30), log_lines=200)


def test_question_mark_shows_every_key_and_escape_closes_it() -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = {keys for keys, _ in app.screen.rows}
        assert {"q", "/", "m", "x", "l", "e", "+ =", "p", "o", "G", "v", "ctrl+f"} <= keys
        await pilot.press("z")  # not a key of the window: it stays
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)

    drive(scenario)


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
def test_q_and_ctrl_c_quit(key: str) -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        await pilot.press(key)
        await pilot.pause()
        assert not app.is_running

    app = drive(scenario)
    assert app.return_code == 0


def test_new_points_reach_the_table_and_the_plot_on_the_next_poll() -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        live = [run for run in app.table.visible_runs() if run.status.value == "RUNNING"]
        await pilot.press(*["down"] * app.table.visible_runs().index(live[0]))
        before_step, before_plot = live[0].step, plot_text(app)
        source.advance(30.0)
        app.poll_source()
        await pilot.pause()
        assert live[0].step is not None
        assert before_step is not None
        assert live[0].step > before_step
        assert plot_text(app) != before_plot
        app.poll_source()
        assert source.poll() is False  # nothing new: a poll does no work

    drive(scenario)


def test_it_works_from_80x24_to_200x60() -> None:
    async def scenario(app: MonitorApp, pilot: Pilot[None], source: FakeSource) -> None:
        assert app.screen.has_class("narrow")
        assert app.plot.display
        assert not app.log_view.display
        await pilot.press("o")
        assert app.log_view.display
        assert not app.plot.display
        await pilot.press("p")
        assert app.plot.display
        assert not app.log_view.display
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert not app.screen.has_class("narrow")
        assert app.plot.display
        assert app.log_view.display
        assert app.table.size.width < 200
        assert app.plot.size.width > 60
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.screen.has_class("narrow")
        assert app.table.size.width >= 78

    drive(scenario, size=(80, 24))
