"""The "overseer-tui vs Textual's stock widgets" section of RESULTS.md, from one run's results.

::

    from report import render

    print(render(json.loads(Path(".bench/tui-results.json").read_text())))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from results import describe_machine, spread

TITLE = "overseer-tui vs Textual's stock widgets"
WRITER = "benchmarks/tui/run.py"


@dataclass(frozen=True)
class Figure:
    """Values of one side of a row, in the row's unit, or why there are none."""

    values: Sequence[float] = ()
    why: str = "not measured"
    kind: str = "median"  # "median" [min-max], or "share" (overall, [windows]), or "p95"
    overall: float | None = None

    def headline(self) -> float | None:
        """The figure the goal is checked against."""
        if self.kind == "share":
            return self.overall
        if self.kind == "p95":
            return percentile(self.values, 95) if self.values else None
        return spread(self.values)[0] if self.values else None


def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile: the smallest value at least ``percent``% of values reach."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 1 else f"{value:.2g}"


def cell(figure: Figure, unit: str) -> str:
    """A side's cell: the headline with its range, or why it is empty."""
    headline = figure.headline()
    if headline is None:
        return figure.why
    if figure.kind == "share":
        low, high = min(figure.values), max(figure.values)
        return f"{number(headline)} {unit} [{number(low)}-{number(high)} per 5 s]"
    if figure.kind == "p95":
        p50 = spread(figure.values)[0]
        return (
            f"p50 {number(p50)} {unit}, p95 {number(headline)} {unit}"
            f" [{number(min(figure.values))}-{number(max(figure.values))}]"
        )
    median, low, high = spread(figure.values)
    if len(figure.values) == 1:
        return f"{number(median)} {unit} (1 sample)"
    return f"{number(median)} {unit} [{number(low)}-{number(high)}]"


def verdict(figure: Figure, goal: float | None, unit: str) -> str:
    headline = figure.headline()
    if goal is None:
        return "-"
    if headline is None:
        return "not measured"
    above = sum(1 for value in figure.values if value > goal)
    # Samples past the goal: 5 s CPU windows, or single redraws and presses.
    note = f"; {above} of {len(figure.values)} samples above" if above else ""
    if headline <= goal:
        return f"met{note}"
    return f"missed ({number(headline)} {unit}, x{headline / goal:.1f}{note})"


def row(measure: str, ours: Figure, peer: Figure, unit: str, goal: float | None) -> str:
    goal_text = "-" if goal is None else f"<= {number(goal)} {unit}"
    return (
        f"| {measure} | {cell(ours, unit)} | {cell(peer, unit)} | {goal_text}"
        f" | {verdict(ours, goal, unit)} |"
    )


def ms(values: Sequence[float] | None) -> list[float]:
    return [value * 1000 for value in values or ()]


def figure(found: dict[str, Any] | None, key: str, why: str = "failed") -> Figure:
    """Milliseconds of ``found[key]``, or an empty figure saying why."""
    if not found or key not in found:
        return Figure(why=why)
    values = found[key]
    return Figure(ms(values if isinstance(values, list) else [values]))


def points_label(points: int) -> str:
    exponent = round(math.log10(points))
    return f"1e{exponent}" if 10**exponent == points else f"{points:,}"


def plot_rows(results: dict[str, Any]) -> list[str]:
    plot, errors = results["widgets"]["plot"], results["errors"]
    rows = []
    for points in results["settings"]["plot_points"]:
        key = str(points)
        ours = figure(plot["ours"].get(key), "new_point", errors.get(f"plot-ours-{key}", "failed"))
        peer_why = errors.get(f"plot-peer-{key}", "not run (too slow at this length)")
        peer = figure(plot["peer"].get(key), "new_point", peer_why)
        label = f"1. plot redraw, 2 runs x {points_label(points)} points: new point + render_lines"
        rows.append(row(label, ours, peer, "ms", 20))
    for points in results["settings"]["plot_points"]:
        key = str(points)
        ours = figure(plot["ours"].get(key), "smoothing_again", "failed")
        label = f"1. the same, {points_label(points)} points, smoothing 0.6 on"
        rows.append(row(label, ours, Figure(why="- (no smoothing)"), "ms", 20))
    return rows


def table_rows(results: dict[str, Any]) -> list[str]:
    table, apps = results["widgets"]["table"], results["widgets"]["app"]
    runs = f"{results['settings']['table_runs']:,}"
    no_direct = Figure(why="- (DataTable measures rows on idle: see the frame row)")
    return [
        row(
            f"2. first paint of {runs} runs: set_runs / add_rows to the frame",
            figure(table["ours"], "first_frame"),
            figure(table["peer"], "first_frame"),
            "ms",
            300,
        ),
        row(
            f"2. first paint of {runs} runs: set_runs + render_lines",
            figure(table["ours"], "first"),
            no_direct,
            "ms",
            300,
        ),
        row(
            f"2. app start (headless) to the first frame showing runs, {runs} runs",
            Figure(ms(apps["ours"]), why="failed"),
            Figure(ms(apps["peer"]), why="failed"),
            "ms",
            300,
        ),
        row(
            "3. 100 changed rows: update_runs / 500 update_cell + render_lines",
            figure(table["ours"], "update"),
            figure(table["peer"], "update"),
            "ms",
            30,
        ),
        row(
            "3. 100 changed rows: update to the frame",
            figure(table["ours"], "update_frame"),
            figure(table["peer"], "update_frame"),
            "ms",
            30,
        ),
    ]


def share(found: dict[str, Any] | None) -> Figure:
    if not found:
        return Figure(why="failed")
    cpu = found["cpu"]
    return Figure([w * 100 for w in cpu["windows"]], kind="share", overall=cpu["share"] * 100)


def keys(found: dict[str, Any] | None) -> Figure:
    if not found:
        return Figure(why="failed")
    values = [value for value in found["keys"]["latencies"] if value is not None]
    return Figure(ms(values), kind="p95", why="no press seen")


def terminal_rows(results: dict[str, Any]) -> list[str]:
    terminal = results["terminal"]
    streaming, idle = terminal["streaming"], terminal["idle"]
    start = terminal.get("start") or {}
    runs = results["settings"]["store_runs"]

    def starts(side: str) -> Figure:
        return Figure(start[side]["values"]) if side in start else Figure(why="failed")

    return [
        row(
            f"4. CPU, {runs} runs streaming at 1 Hz (% of one core)",
            share(streaming.get("ours")),
            share(streaming.get("peer")),
            "%",
            15,
        ),
        row(
            "4. key `j` to the cursor moving on screen, while streaming",
            keys(streaming.get("ours")),
            keys(streaming.get("peer")),
            "ms",
            100,
        ),
        row(
            f"4. CPU, idle: {runs} finished runs, nothing written (% of one core)",
            share(idle.get("ours")),
            share(idle.get("peer")),
            "%",
            1,
        ),
        row(
            f"5. start to the first frame showing runs, in tmux, {runs} runs",
            starts("ours"),
            starts("peer"),
            "s",
            1,
        ),
    ]


def render(results: dict[str, Any]) -> str:
    """The section's markdown."""
    head = [
        "| goal: measure | overseer-tui median [min-max] | stock peer median [min-max]"
        " | goal | goal met? |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines = head + plot_rows(results) + table_rows(results) + terminal_rows(results)
    parts = [
        f"## {TITLE}\n",
        context(results),
        "\n".join(lines) + "\n",
        details(results),
        method(results),
    ]
    return "\n".join(parts)


def context(results: dict[str, Any]) -> str:
    v = results["versions"]
    load = results["load"]
    quick = " A `--quick` run: fewer repeats and shorter windows." if results["quick"] else ""
    return (
        f"Run on {results['date']} ({results['duration_s']:.0f} s for the whole"
        f" benchmark).{quick}\n"
        f"Machine: {describe_machine(results['machine'])}; load average"
        f" {load['before'][0]:.2f} before, {load['after'][0]:.2f} after (other processes"
        " shared the cores).\n"
        f"overseer-tui {v['overseer-tui']} (source digest `{results['digest']}`), Textual"
        f" {v['textual']}, textual-plotext {v['textual-plotext']} (plotext {v['plotext']}),"
        f" rich {v['rich']}, numpy {v['numpy']}, {v['tmux']}.\n"
        "Peers: goal 1 `textual_plotext.PlotextPlot`; goals 2 and 3 `textual.widgets.DataTable`;"
        " goals 4 and 5 `naive_monitor.py`, a DataTable cleared and refilled from every"
        " events file every 0.1 s.\n"
    )


def median_ms(found: dict[str, Any] | None, key: str) -> str:
    if not found or found.get(key) in (None, []):
        return "-"
    values = found[key] if isinstance(found[key], list) else [found[key]]
    return number(spread(values)[0] * 1000)


def details(results: dict[str, Any]) -> str:
    """Medians (ms) of what the main table leaves out."""
    plot = results["widgets"]["plot"]
    lines = [
        "Details (medians in ms; every value is in `.bench/tui-results.json`). Plots, 2 runs:\n",
        "| points per run | ours: zoom in/out | ours: first draw | ours: first switch to"
        " smoothing 0.6 | ours: until the smoothed lines are drawn | ours: new point to the"
        " frame | ours: repaint, no change | ours: loading the points (s) | ours: peak memory"
        " (MB) | peer: first draw | peer: to the frame | peer: repaint, no change |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for points in results["settings"]["plot_points"]:
        ours, peer = plot["ours"].get(str(points)), plot["peer"].get(str(points))
        build = f"{ours['build_s']:.1f}" if ours else "-"
        memory = f"{ours['peak_mb']:,.0f}" if ours and "peak_mb" in ours else "-"
        keys = ("zoom", "first", "smoothing_first", "smoothing_ready", "frame", "again")
        cells = [median_ms(ours, key) for key in keys]
        cells += [build, memory] + [median_ms(peer, key) for key in ("first", "frame", "again")]
        lines.append(f"| {points_label(points)} | " + " | ".join(cells) + " |")
    table = results["widgets"]["table"]
    ours, peer = table["ours"], table["peer"]
    lines += [
        "",
        "| tables, 10,000 runs | ours | peer |",
        "| --- | --- | --- |",
        f"| 100 changed rows when the clock crosses a 5 s step (every age recomputed) |"
        f" {median_ms(ours, 'update_step')} | - |",
        f"| repaint with no change after a first paint / after an update |"
        f" {median_ms(ours, 'again')} / {median_ms(ours, 'update_again')} |"
        f" - / {median_ms(peer, 'update_again')} |",
    ]
    lines += ["", *terminal_details(results)]
    return "\n".join(lines) + "\n"


def terminal_details(results: dict[str, Any]) -> list[str]:
    streaming, idle = results["terminal"]["streaming"], results["terminal"]["idle"]
    start = results["terminal"].get("start") or {}

    def side(name: str) -> list[str]:
        live, rest = streaming.get(name), idle.get(name)
        if not live:
            return ["-"] * 8
        presses = live["keys"]["latencies"]
        missed = sum(1 for value in presses if value is None)
        warmup = ", ".join("-" if v is None else number(v * 1000) for v in live["keys"]["warmup"])
        first = start.get(name, {}).get("warmup")
        return [
            f"{live['tmux_share'] * 100:.1f}",
            f"{live['writer_share'] * 100:.1f}",
            f"{missed} of {len(presses)}",
            str(live["keys"].get("elsewhere", "-")),
            warmup,
            f"{live['keys']['capture_s'] * 1000:.2f}",
            "-" if first is None else f"{first:.2f}",
        ] + ([f"{rest['first_frame']:.2f}"] if rest else ["-"])

    ours, peer = side("ours"), side("peer")
    titles = (
        "tmux server CPU while streaming (% of a core)",
        "writer process CPU while streaming (% of a core)",
        "presses whose move was not seen within 2 s",
        "presses after which the cursor was not on the row below (should be 0)",
        "3 warm-up presses before the timed ones (ms)",
        "one poll, capture and parse of the screen, median (ms): resolution is 5 ms plus this",
        "first start in the terminal, not counted (s)",
        "start to first frame before the idle window (s)",
    )
    lines = ["| terminal measures | ours | peer |", "| --- | --- | --- |"]
    lines += [f"| {title} | {a} | {b} |" for title, a, b in zip(titles, ours, peer, strict=False)]
    return lines


def method(results: dict[str, Any]) -> str:
    s = results["settings"]
    points = ", ".join(points_label(p) for p in s["plot_points"])
    peer_points = ", ".join(points_label(p) for p in s["peer_points"])
    return f"""Method:

- Widget rows (1-3) run `bench_widgets.py` in a fresh process per case, the widget alone on
  the screen of a headless app (`App.run_test(size=(160, 50))`, Textual's own pilot).
  "render_lines" rows time the change plus `widget.render_lines(Region(0, 0, width,
  height))` of the whole widget, what Textual's compositor calls to paint it. Textual keeps
  painted lines until the widget is refreshed; the "repaint, no change" columns time a
  second `render_lines` right after with no change: a small fraction of the first, so the
  timed call did repaint. "to the frame" rows time from the change to the moment Textual
  hands the screen update to the driver (`App._display`, wrapped to note the time; headless,
  the update is built but not written), so they include work deferred to idle time (the
  DataTable measures new rows then) and Textual's frame pacing (60 updates a second at most).
- Goal 1: each run's series holds N points (N = {points} for overseer-tui; {peer_points}
  for the peer, which takes seconds beyond), two runs shown. Ours: `PlotView.show` the two
  runs, then per repeat one point appended to each series (`Series.append`) and
  `refresh_data()`, then a paint; zoom rows alternate `state.zoom_in()` / `zoom_out()` and
  `refresh_view()`. Peer: `plt.clear_data()`, `plt.plot(xs, ys)` per run (Python lists, a
  point appended each repeat), `refresh()`, then a paint. The smoothing rows switch to
  smoothing 0.6 (`state.cycle_smoothing()`, the `e` key: each run drawn raw and faint, then
  smoothed on top) and repeat the new-point redraw. From 200,000 points a run is first
  smoothed in a worker thread: the switch's frame draws its raw line, and "until the smoothed
  lines are drawn" runs from the key to the paint after the workers are done.
  {s["plot_repeats"]} repeats for ours;
  {", ".join(f"{n} at {points_label(int(p))}" for p, n in s["peer_repeats"].items())}
  for the peer. First draws and the first switch to smoothing are one sample per process.
- Goals 2 and 3: {s["table_runs"]:,} runs of `overseer_tui.fake_source.FakeSource` (100 live;
  loss, accuracy, three differing arguments), given to a fresh `RunsTable.set_runs` per
  repeat ({s["table_repeats"]} repeats) and, for the peer, to a fresh `DataTable` by
  `add_columns` + `add_rows` with the same columns and values ({s["peer_table_repeats"]}
  repeats). Goal 3 changes the top 100 rows of the table (the visible ones among them) by
  one data entry each through `Run.apply`, then `update_runs(those sigs)`; the peer calls
  `update_cell` on the 5 changed cells of each of its top 100 rows (step, loss, best loss,
  accuracy, best accuracy); 3 x {s["table_repeats"]} and 3 x {s["peer_table_repeats"]}
  repeats. App start: `MonitorApp(FakeSource)` (and a DataTable app filling every row
  on mount) from entering `run_test` to the first screen update naming a run,
  {s["app_starts"]} fresh process(es) each.
- Goals 4 and 5 run the real thing in a terminal: `python -m overseer_tui STORE` and
  `python benchmarks/tui/naive_monitor.py STORE` in a 160x50 session of a private tmux
  server (`COLORTERM=truecolor`), driven through one `tmux -C` control client (a capture
  costs about a millisecond, no process per poll). The store: {s["store_runs"]} XP folders
  (`argv.json`, `meta.json`, `job.json` RUNNING, `events.jsonl` with 300 data entries each),
  made fresh for each monitor; a separate writer process appends one data entry per run
  per second, evenly spread over the second. CPU: user + system time of the monitor's
  process from `/proc/PID/stat` over {s["cpu_seconds"]:.0f} s, starting 5 s after its first
  frame; the cell gives the share over the whole window and the range over 5 s windows.
  Keys: after the CPU window, `j` is sent {s["presses"]} times (after 3 warm-up presses, 150-350
  ms apart); after each, the screen is captured (with colours) every 5 ms until the cursor
  row, the one run row styled unlike the others, holds another run: p50 and p95 of those
  times, whose resolution is the 5 ms poll plus one capture (a move seen at the first poll
  after the key reads about 5 ms: the floor). Idle: the same store finished
  (job.json COMPLETED, an `end` entry, files dated an hour back), no writer, CPU over
  {s["cpu_seconds"]:.0f} s. Start: from asking tmux for the session to the first capture
  showing a run's name, {s["starts"]} starts each (after one warm-up start each, the
  monitors taking turns), on the finished store.
- Everything runs on the machine's 2 cores next to whatever else runs there (load averages
  above); the monitor, tmux, the writer and the poller share them.
- Reproduce: `python benchmarks/tui/run.py` (about 5 minutes; `--quick` for a smoke run that
  leaves this file alone). Needs tmux, and textual-plotext for the plot peer
  (`pip install -r benchmarks/tui/requirements.txt`).
"""
