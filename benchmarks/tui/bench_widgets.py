"""In-process measures of one widget inside a headless Textual app; prints ``BENCH {json}``.

::

    python benchmarks/tui/bench_widgets.py --case plot-ours --points 100000 --repeats 20
    python benchmarks/tui/bench_widgets.py --case plot-peer --points 10000 --repeats 5
    python benchmarks/tui/bench_widgets.py --case table-ours --runs 10000 --repeats 5
    python benchmarks/tui/bench_widgets.py --case table-peer --runs 10000 --repeats 3
    python benchmarks/tui/bench_widgets.py --case app-ours --runs 10000

Every case runs in ``App.run_test(size=(160, 50))`` with the widget alone on the screen, and
times two things:

- direct: the change (new data, a state change) plus ``widget.render_lines`` of the whole
  widget, which is what the compositor calls to paint it. Textual caches painted lines (the
  widget's ``_styles_cache``) until the widget is refreshed, so each case also times a
  second ``render_lines`` with no change in between: it must cost a small fraction of the
  first, which shows the first one really painted.
- to the frame: from the change to the moment Textual hands the screen update that shows
  it to the driver (``App._display``, wrapped here to note the time; headless, the update
  is built but not written). This includes work a widget defers to idle time and
  Textual's frame pacing (at most 60 updates a second).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import platform
import re
import resource
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

SIZE = (160, 50)
ANSI = re.compile(r"\x1b\[[0-9;:?]*[A-Za-z]")
FRAME_TIMEOUT = 30.0


class Host(App[None]):
    """An app whose screen holds one widget, the whole screen."""

    CSS = "#subject { width: 1fr; height: 1fr; }"

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.subject = widget
        self.frames: list[tuple[float, Any]] = []
        self._display = self._note_frame  # type: ignore[method-assign]

    def compose(self) -> ComposeResult:
        yield self.subject

    def _note_frame(self, screen: Any, renderable: Any) -> None:
        if renderable is not None:
            self.frames.append((time.perf_counter(), renderable))

    async def swap(self, widget: Widget) -> None:
        """Put ``widget`` in place of the subject, mounted and laid out."""
        await self.subject.remove()
        widget.id = "subject"
        self.subject = widget
        await self.mount(widget)
        await asyncio.sleep(0.05)


def frame_text(app: App[Any], renderable: Any) -> str:
    """What a screen update writes, escapes removed."""
    return ANSI.sub("", renderable.render_segments(app.console))


async def next_frame(app: Host, since: int, showing: str | None = None) -> float:
    """The time of the first update after the ``since``-th (showing ``showing`` if given)."""
    deadline = time.perf_counter() + FRAME_TIMEOUT
    checked = since
    while time.perf_counter() < deadline:
        while checked < len(app.frames):
            when, renderable = app.frames[checked]
            checked += 1
            if showing is None or showing in frame_text(app, renderable):
                return when
        await asyncio.sleep(0.0005)
    raise RuntimeError(f"no frame showing {showing!r} within {FRAME_TIMEOUT:.0f} s")


def paint(widget: Widget) -> float:
    """Seconds ``render_lines`` takes for the whole widget."""
    width, height = widget.size
    began = time.perf_counter()
    widget.render_lines(Region(0, 0, width, height))
    return time.perf_counter() - began


def timed(change: Callable[[], None], widget: Widget) -> tuple[float, float]:
    """Seconds for ``change()`` plus a paint, then for a second paint with no change."""
    gc.collect()
    began = time.perf_counter()
    change()
    widget.render_lines(Region(0, 0, *widget.size))
    first = time.perf_counter() - began
    return first, paint(widget)


# -- plots ---------------------------------------------------------------------------------


def curve(points: int, seed: int) -> tuple[list[float], list[float]]:
    """A noisy decaying loss, ``points`` long (the same for both peers)."""
    import numpy

    rng = numpy.random.default_rng(seed)
    steps = numpy.arange(points, dtype=numpy.float64)
    values = 0.1 + 3.0 * numpy.exp(-steps / (points / 4)) + rng.normal(0, 0.02, points)
    return steps.tolist(), values.tolist()


async def plot_ours(options: argparse.Namespace) -> dict[str, Any]:
    """PlotView over ``--lines`` runs of ``--points`` points: new point, zoom, smoothing."""
    from overseer_tui.model import Run
    from overseer_tui.plot_view import PlotView
    from overseer_tui.series import Series

    began = time.perf_counter()
    runs = []
    for index in range(options.lines):
        xs, ys = curve(options.points, index)
        series = Series("loss")
        append = series.append
        for step, value in zip(xs, ys, strict=True):
            append(step, 1.8e9 + step, value)
        run = Run(f"{index:012x}", f"run-{index}")
        run.metrics["loss"] = series
        runs.append(run)
        del xs, ys
    build = time.perf_counter() - began
    view = PlotView(id="subject")
    view.state.metric = "loss"
    found: dict[str, Any] = {"build_s": build, "new_point": [], "zoom": [], "again": []}
    async with Host(view).run_test(size=SIZE) as pilot:
        await pilot.pause()
        found["first"] = timed(lambda: view.show([(run, i) for i, run in enumerate(runs)]), view)[0]
        found["first_grid"] = view.last_render_seconds
        found["size"] = list(view.size)
        steps = [float(options.points)]

        def new_point() -> None:
            for run in runs:
                run.metrics["loss"].append(steps[0], 1.8e9 + steps[0], 0.1)
            steps[0] += 1
            view.refresh_data()

        def zoom(inwards: bool) -> Callable[[], None]:
            def change() -> None:
                view.state.zoom_in() if inwards else view.state.zoom_out()
                view.refresh_view()

            return change

        for repeat in range(options.repeats):
            first, again = timed(new_point, view)
            found["new_point"].append(first)
            found["again"].append(again)
            found["zoom"].append(timed(zoom(repeat % 2 == 0), view)[0])
            await pilot.pause()
        found["grid_s"] = view.last_render_seconds
        if view.state.zoom != 1.0:
            timed(zoom(False), view)
        found["frame"] = await frame_times(pilot, view, new_point, options.repeats)

        def smooth() -> None:
            view.state.cycle_smoothing()
            view.refresh_view()

        # Long series are first smoothed in a worker thread: the key's frame shows the raw
        # lines, and the smoothed ones come once the worker is done.
        began = time.perf_counter()
        found["smoothing_first"] = timed(smooth, view)[0]
        await pilot.app.workers.wait_for_complete()
        view.render_lines(Region(0, 0, *view.size))
        found["smoothing_ready"] = time.perf_counter() - began
        found["smoothing_again"] = []
        for _ in range(options.repeats):
            found["smoothing_again"].append(timed(new_point, view)[0])
            await pilot.pause()
    return found


async def plot_peer(options: argparse.Namespace) -> dict[str, Any]:
    """textual-plotext's PlotextPlot, data replaced and the plot rebuilt each time."""
    from textual_plotext import PlotextPlot

    data = [curve(options.points, index) for index in range(options.lines)]
    view = PlotextPlot(id="subject")
    found: dict[str, Any] = {"new_point": [], "again": []}

    def replot() -> None:
        plt = view.plt
        plt.clear_data()
        for xs, ys in data:
            plt.plot(xs, ys)
        view.refresh()

    async with Host(view).run_test(size=SIZE) as pilot:
        await pilot.pause()
        found["size"] = list(view.size)
        found["first"] = timed(replot, view)[0]
        for _ in range(options.repeats):
            for xs, ys in data:
                xs.append(xs[-1] + 1)
                ys.append(ys[-1])
            first, again = timed(replot, view)
            found["new_point"].append(first)
            found["again"].append(again)
            await pilot.pause()
        found["frame"] = await frame_times(pilot, view, replot, max(2, options.repeats // 2))
    return found


async def frame_times(
    pilot: Any, widget: Widget, change: Callable[[], None], repeats: int
) -> list[float]:
    """Seconds from ``change()`` to the screen update that follows it."""
    app: Host = pilot.app
    times = []
    for _ in range(repeats):
        await pilot.pause()
        since = len(app.frames)
        began = time.perf_counter()
        change()
        times.append(await next_frame(app, since) - began)
    return times


# -- tables --------------------------------------------------------------------------------


def fake_runs(count: int) -> tuple[Any, list[Any]]:
    """``count`` synthetic runs of overseer-tui's FakeSource (100 of them live)."""
    from overseer_tui.fake_source import FakeSource

    source = FakeSource(count, points=20, live=100, log_lines=3)
    return source, list(source.runs.runs.values())


TABLE_METRICS = ("loss", "accuracy")


def advance(runs: Sequence[Any], t: float) -> None:
    """One new data entry for each run, through ``Run.apply`` as a source gives it."""
    for run in runs:
        step = (run.step or 0) + 1
        loss = run.metrics["loss"].latest * 0.999
        entry = {"step": step, "loss": loss, "accuracy": 0.5 + math.sin(step) / 4}
        run.apply({"event": "data", "data": entry, "t": t, "pid": 1})


async def table_ours(options: argparse.Namespace) -> dict[str, Any]:
    """RunsTable: set_runs of every run (first paint), then 100 runs changed."""
    from overseer_tui.runs_table import RunsTable

    source, runs = fake_runs(options.runs)
    now = source.clock.now()
    args = source.runs.differing_args()
    found: dict[str, Any] = {
        "first": [],
        "again": [],
        "first_frame": [],
        "update": [],
        "update_again": [],
        "update_frame": [],
        "update_step": [],
    }

    def show(table: RunsTable) -> Callable[[], None]:
        return lambda: table.set_runs(runs, metrics=TABLE_METRICS, arg_columns=args, now=now)

    app = Host(RunsTable(id="subject"))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(options.repeats):
            table = RunsTable()
            await app.swap(table)
            first, again = timed(show(table), table)
            found["first"].append(first)
            found["again"].append(again)
            table = RunsTable()
            await app.swap(table)
            since, began = len(app.frames), time.perf_counter()
            show(table)()
            shown = table.visible_runs()[0].name
            found["first_frame"].append(await next_frame(app, since, shown) - began)
        table.focus()
        await pilot.pause()
        changed = table.visible_runs()[: options.changed]
        found["visible_rows"] = table.size.height - 1
        sigs = [run.sig for run in changed]
        clock = [now]

        def update() -> None:
            table.update_runs(sigs, clock[0])

        for _ in range(options.repeats * 3):
            clock[0] += 0.01
            advance(changed, clock[0])
            first, again = timed(update, table)
            found["update"].append(first)
            found["update_again"].append(again)
            await pilot.pause()
            clock[0] += 0.01
            advance(changed, clock[0])
            since, began = len(app.frames), time.perf_counter()
            update()
            found["update_frame"].append(await next_frame(app, since) - began)
        for _ in range(options.repeats):
            # Every 5 s of clock the table recomputes ages: every cell is formatted again.
            clock[0] += 5.0
            advance(changed, clock[0])
            found["update_step"].append(timed(update, table)[0])
            await pilot.pause()
    return found


def table_rows(runs: Sequence[Any], args: Sequence[str]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The DataTable's columns and rows: the values overseer-tui's table shows."""
    columns = ["status", "name", "sig", "step"]
    for name in TABLE_METRICS:
        columns += [name, f"best {name}"]
    columns += list(args)
    return columns, [row_values(run, args) for run in runs]


def row_values(run: Any, args: Sequence[str]) -> tuple[Any, ...]:
    values: list[Any] = [run.status.value, run.name, run.sig, run.step]
    for name in TABLE_METRICS:
        series = run.metrics[name]
        values += [series.latest, series.best("min" if name == "loss" else "max")]
    return (*values, *(run.args.get(name) for name in args))


async def table_peer(options: argparse.Namespace) -> dict[str, Any]:
    """DataTable: add_columns + add_rows of every run, then 100 rows' cells updated."""
    from textual.widgets import DataTable

    source, runs = fake_runs(options.runs)
    now = source.clock.now()
    args = source.runs.differing_args()
    columns, rows = table_rows(runs, args)
    found: dict[str, Any] = {
        "first_frame": [],
        "update": [],
        "update_again": [],
        "update_frame": [],
    }
    app = Host(DataTable(id="subject"))
    async with app.run_test(size=SIZE) as pilot:
        table: Any = None
        for _ in range(options.repeats):
            table = DataTable()
            await app.swap(table)
            since, began = len(app.frames), time.perf_counter()
            table.add_columns(*columns)
            keys = table.add_rows(rows)
            found["first_frame"].append(await next_frame(app, since, runs[0].name) - began)
        await pilot.pause()
        column_keys = list(table.columns)
        changed = list(range(options.changed))
        t = now

        def update() -> None:
            for index in changed:
                values = row_values(runs[index], args)
                for column in (3, 4, 5, 6, 7):  # step, loss, best loss, accuracy, best
                    table.update_cell(keys[index], column_keys[column], values[column])

        for _ in range(options.repeats * 3):
            t += 0.01
            advance([runs[index] for index in changed], t)
            first, again = timed(update, table)
            found["update"].append(first)
            found["update_again"].append(again)
            await pilot.pause()
            t += 0.01
            advance([runs[index] for index in changed], t)
            since, began = len(app.frames), time.perf_counter()
            update()
            found["update_frame"].append(await next_frame(app, since) - began)
    return found


# -- whole apps ----------------------------------------------------------------------------


async def app_ours(options: argparse.Namespace) -> dict[str, Any]:
    """MonitorApp over a FakeSource of ``--runs`` runs: start to the first frame with a run."""
    from overseer_tui.app import MonitorApp

    source, runs = fake_runs(options.runs)
    app = MonitorApp(source, local_gpus=False)
    return await first_run_frame(app, {run.name for run in runs})


async def app_peer(options: argparse.Namespace) -> dict[str, Any]:
    """A DataTable app that adds every run's row on mount, the same way."""
    from textual.widgets import DataTable

    source, runs = fake_runs(options.runs)
    columns, rows = table_rows(runs, source.runs.differing_args())

    class TableApp(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns(*columns)
            table.add_rows(rows)

    return await first_run_frame(TableApp(), {run.name for run in runs})


async def first_run_frame(app: App[Any], names: set[str]) -> dict[str, Any]:
    """Seconds from ``run_test`` to the first screen update naming one of ``names``."""
    frames: list[float] = []
    found: dict[str, Any] = {}

    def note(screen: Any, renderable: Any) -> None:
        if renderable is None or "first" in found:
            return
        when = time.perf_counter()
        frames.append(when)
        words = set(re.split(r"[\s│┃|]+", frame_text(app, renderable)))
        if words & names:
            found["first"] = when - began

    app._display = note  # type: ignore[method-assign]
    began = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        deadline = time.perf_counter() + FRAME_TIMEOUT
        while "first" not in found and time.perf_counter() < deadline:
            await pilot.pause(0.002)
    found["frames_before"] = len(frames) - 1
    return found


CASES = {
    "plot-ours": plot_ours,
    "plot-peer": plot_peer,
    "table-ours": table_ours,
    "table-peer": table_peer,
    "app-ours": app_ours,
    "app-peer": app_peer,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), required=True)
    parser.add_argument("--points", type=int, default=10_000, help="points per plotted run")
    parser.add_argument("--lines", type=int, default=2, help="runs plotted")
    parser.add_argument("--runs", type=int, default=10_000, help="rows of the tables")
    parser.add_argument("--changed", type=int, default=100, help="rows changed per update")
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args(argv)
    found = asyncio.run(CASES[options.case](options))
    found["python"] = platform.python_version()
    found["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("BENCH " + json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
