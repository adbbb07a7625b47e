"""The log panel: follows the tail, filters levels, finds text, marks stderr."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from overseer_tui.log_view import LogView
from overseer_tui.model import Run

T0 = 1_800_000_000.0

DriveApp = Callable[[App[Any], tuple[int, int], Callable[[Pilot[Any]], Awaitable[None]]], None]
"""conftest's ``drive_app``: runs ``app`` headless at ``size``, then awaits ``body(pilot)``."""


def write(run: Run, text: str, pipe: str = "stdout") -> None:
    """The run prints ``text`` (as the runner reports a line)."""
    run.apply({"event": "line", "data": text, "pipe": pipe, "t": T0 + len(run.log)})


def chatty_run(lines: int, name: str = "calm-river") -> Run:
    run = Run(f"{name}-sig", name, created=T0)
    for index in range(lines):
        write(run, f"step {index} loss {1.0 / (index + 1):.4f}")
    return run


class LogApp(App[None]):
    def __init__(self, run: Run | None) -> None:
        super().__init__()
        self.run_shown = run
        self.log_view = LogView(id="log")

    def compose(self) -> ComposeResult:
        yield self.log_view

    def on_mount(self) -> None:
        self.log_view.show(self.run_shown)
        self.log_view.focus()


def screen_lines(view: LogView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


def test_shows_the_tail_and_follows_new_lines(drive_app: DriveApp) -> None:
    run = chatty_run(100)
    app = LogApp(run)

    async def body(pilot: Pilot[None]) -> None:
        view = app.log_view
        lines = screen_lines(view)
        assert lines[0].startswith(" calm-river · 100 lines · all")
        assert lines[-1].endswith("step 99 loss 0.0100")
        write(run, "step 100 loss 0.0099")
        view.refresh_lines()
        await pilot.pause()
        assert screen_lines(view)[-1].endswith("step 100 loss 0.0099")
        assert "101 lines" in screen_lines(view)[0]

    drive_app(app, (60, 10), body)


def test_scrolling_up_pauses_following_and_end_resumes(drive_app: DriveApp) -> None:
    run = chatty_run(100)
    app = LogApp(run)

    async def body(pilot: Pilot[None]) -> None:
        view = app.log_view
        await pilot.press("up", "up")
        await pilot.pause()
        assert not view.follow
        before = screen_lines(view)[1:]
        write(run, "late line")
        view.refresh_lines()
        await pilot.pause()
        assert screen_lines(view)[1:] == before  # the view did not jump
        assert "paused" in screen_lines(view)[0]
        await pilot.press("end")
        await pilot.pause()
        assert app.log_view.follow
        assert screen_lines(view)[-1].endswith("late line")

    drive_app(app, (60, 10), body)


def test_new_lines_are_found_when_the_log_is_full(drive_app: DriveApp) -> None:
    run = chatty_run(10_000)
    assert run.log.maxlen == len(run.log)
    app = LogApp(run)

    async def body(pilot: Pilot[None]) -> None:
        view = app.log_view
        view.refresh_lines()  # nothing new: nothing changes
        assert len(view.lines) == 10_000
        for index in range(3):
            write(run, f"fresh {index}")
        view.refresh_lines()
        await pilot.pause()
        assert screen_lines(view)[-3:] == ["  fresh 0", "  fresh 1", "  fresh 2"]
        run.reset_events()  # the events file restarted: its log is gone
        write(run, "after restart")
        view.refresh_lines()
        await pilot.pause()
        assert [line.text for line in view.lines] == ["after restart"]

    drive_app(app, (60, 8), body)


def test_stderr_lines_carry_a_red_mark(drive_app: DriveApp) -> None:
    run = chatty_run(2)
    write(run, "oops", pipe="stderr")
    app = LogApp(run)

    async def body(pilot: Pilot[None]) -> None:
        view = app.log_view
        lines = screen_lines(view)
        assert lines[3] == "! oops"
        assert lines[1].startswith("  step 0")
        mark = next(iter(view.render_line(3)))
        assert mark.style is not None
        assert mark.style.color is not None
        assert mark.style.color.name == "red"

    drive_app(app, (40, 6), body)


def test_v_cycles_the_lowest_level_shown(drive_app: DriveApp) -> None:
    run = chatty_run(0)
    for text in ("DEBUG cache warm", "epoch 1", "WARNING: lr high", "ValueError: nan"):
        write(run, text)
    app = LogApp(run)

    async def body(pilot: Pilot[None]) -> None:
        view = app.log_view

        def texts() -> list[str]:
            return [line.strip() for line in screen_lines(view)[1:] if line.strip()]

        assert len(texts()) == 4
        await pilot.press("v")
        assert texts() == ["epoch 1", "WARNING: lr high", "ValueError: nan"]
        assert "info+" in screen_lines(view)[0]
        await pilot.press("v")
        assert texts() == ["WARNING: lr high", "ValueError: nan"]
        await pilot.press("v")
        assert texts() == ["ValueError: nan"]
        assert "errors" in screen_lines(view)[0]
        await pilot.press("v")
        assert len(texts()) == 4
        with pytest.raises(ValueError, match="use one of"):
            view.level = "loud"

    drive_app(app, (50, 8), body)


def test_search_highlights_matches_and_n_moves_to_the_next(drive_app: DriveApp) -> None:
    run = chatty_run(0)
    for index in range(60):
        write(run, f"line {index}" + (" nan found" if index in (5, 30, 58) else ""))
    app = LogApp(run)

    async def body(pilot: Pilot[None]) -> None:
        view = app.log_view
        view.set_search("NaN")
        await pilot.pause()
        assert view.match_count == 3
        assert "search 'NaN': 1/3" in screen_lines(view)[0]
        shown = screen_lines(view)
        y = next(y for y, line in enumerate(shown) if line.endswith("line 5 nan found"))
        current = view.get_component_rich_style("log-view--current-match").bgcolor
        assert current is not None
        strip = view.render_line(y)
        assert [s.text for s in strip if s.style and s.style.bgcolor == current] == ["nan"]
        await pilot.press("n")
        await pilot.pause()
        assert any(line.endswith("line 30 nan found") for line in screen_lines(view))
        assert "2/3" in screen_lines(view)[0]
        await pilot.press("n", "n")
        await pilot.pause()
        assert "1/3" in screen_lines(view)[0]  # wrapped around
        view.set_search("")
        await pilot.pause()
        assert "search" not in screen_lines(view)[0]

    drive_app(app, (50, 10), body)


def test_show_switches_runs_and_none_shows_a_hint(drive_app: DriveApp) -> None:
    first, second = chatty_run(3, "first-run"), chatty_run(2, "second-run")
    app = LogApp(first)

    async def body(pilot: Pilot[None]) -> None:
        view = app.log_view
        view.show(second)
        await pilot.pause()
        lines = screen_lines(view)
        assert lines[0].startswith(" second-run · 2 lines")
        assert lines[1:3] == ["  step 0 loss 1.0000", "  step 1 loss 0.5000"]
        view.show(None)
        await pilot.pause()
        assert screen_lines(view)[0] == " no run under the cursor"
        assert screen_lines(view)[1] == ""

    drive_app(app, (50, 6), body)
