"""The GPU panel: readings, load sparkline, memory bar, and the runs using each device."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult

from overseer_tui.gpu import GpuHistory, readings_from_gpudata
from overseer_tui.gpu_view import SPARK_CHARACTERS, GpuView, bar, sparkline
from overseer_tui.model import Run

GIB = float(1 << 30)


def device(load: float, *, pids: tuple[int, ...] = (4242,)) -> dict[str, object]:
    processes = [{"pid": pid, "memory": 12.1 * GIB} for pid in pids]
    return {
        "name": "NVIDIA H200",
        "load": load,
        "memory": [61.2 * GIB, 80.0 * GIB],
        "temperature": 64,
        "power": 512.3,
        "processes": processes,
    }


class GpuApp(App[None]):
    def __init__(self, history: GpuHistory, runs: dict[str, Run]) -> None:
        super().__init__()
        self.history = history
        self.runs = runs
        self.gpu_view = GpuView(id="gpu")

    def compose(self) -> ComposeResult:
        yield self.gpu_view

    def on_mount(self) -> None:
        self.gpu_view.update(self.history, self.runs)


def drawn_text(history: GpuHistory, runs: dict[str, Run], width: int = 100) -> list[str]:
    """The panel's lines as a terminal of ``width`` columns shows them."""
    lines: list[str] = []

    async def main() -> None:
        app = GpuApp(history, runs)
        async with app.run_test(size=(width, 12)) as pilot:
            await pilot.pause()
            view = app.gpu_view
            lines.extend(view.render_line(y).text.rstrip() for y in range(view.size.height))

    asyncio.run(main())
    return lines


def test_a_device_shows_readings_sparkline_memory_and_its_runs() -> None:
    history = GpuHistory()
    for step, load in enumerate((0.1, 0.5, 0.97)):
        gpudata = {"0": device(load, pids=(4242, 977)), "1": device(0.0, pids=())}
        history.add(readings_from_gpudata(gpudata), t=float(step))
    run = Run("a1b2c3d4", "calm-river-3")
    run.pids.add(4242)
    lines = drawn_text(history, {run.sig: run})
    first = lines[0]
    assert first.startswith("0 NVIDIA H200  load  97% ▂▅█")
    assert "▕██████░░▏ 61.2GiB/80.0GiB" in first
    assert first.endswith("512W  64°C")
    assert lines[1] == "  pid 4242 12.1GiB calm-river-3 · pid 977 12.1GiB ?"
    assert lines[2].startswith("1 NVIDIA H200  load   0% ▁")  # no processes: no second line


def test_a_narrow_panel_shortens_the_sparkline() -> None:
    history = GpuHistory()
    for step in range(60):
        history.add(readings_from_gpudata({"0": device(step / 59, pids=())}), t=float(step))
    wide = drawn_text(history, {}, width=140)[0]
    narrow = drawn_text(history, {}, width=80)[0]

    def spark(line: str) -> str:
        return line.split("% ", 1)[1].split(" mem", 1)[0].strip()

    assert len(spark(wide)) == 60
    assert set(spark(wide)) == set(SPARK_CHARACTERS)
    assert 0 < len(spark(narrow)) < 60
    assert spark(narrow)[-1] == "█"  # the newest loads are kept
    assert narrow.endswith("64°C")


def test_no_device_says_so() -> None:
    assert drawn_text(GpuHistory(), {})[0] == "no GPU"


def test_sparkline_and_bar_scale_to_their_range() -> None:
    assert sparkline([0.0, 0.5, 1.0, 2.0, -1.0], 10) == "▁▅██▁"
    assert sparkline([float("nan"), 1.0], 10) == " █"
    assert sparkline([0.1, 0.2, 0.3], 2) == sparkline([0.2, 0.3], 2)
    assert sparkline([50.0], 5, low=0.0, high=100.0) == "▅"
    assert sparkline([0.5], 0) == ""
    assert bar(0.5, 4) == "▕██░░▏"
    assert bar(1.5, 4) == "▕████▏"
