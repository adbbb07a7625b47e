"""The "overseer-core vs voir" section of benchmarks/RESULTS.md, from one run's raw results.

The section sits between two HTML comments, so re-running replaces it and leaves the
sections of other benchmarks alone.
"""

from __future__ import annotations

import statistics
from typing import Any

from measures import MEASURES, Measure
from results import describe_machine, spread
from startup import OVERHEADS

TITLE = "overseer-core vs voir"
WRITER = "benchmarks/overseer/run.py"
STARTUP_GOAL_MS = 60.0


def render(results: dict[str, Any]) -> str:
    """The section's markdown."""
    parts = [
        "## overseer-core vs voir\n",
        _context(results),
        _table(results),
        _startup_detail(results),
        _method(results),
    ]
    return "\n".join(parts)


def _context(results: dict[str, Any]) -> str:
    versions = results["versions"]
    return (
        f"Run on {results['date']} ({results['duration_s']:.0f} s for the whole benchmark).\n"
        f"Machine: {describe_machine(results['machine'])}.\n"
        f"voir side: voir {versions['voir'].get('voir', '?')}, giving"
        f" {versions['voir'].get('giving', '?')}, ptera {versions['voir'].get('ptera', '?')}."
        f" overseer side: overseer-core {versions['overseer'].get('overseer-core', '?')}"
        f" (source digest `{results['overseer_digest']}`), giving"
        f" {versions['overseer'].get('giving', '?')}, ptera"
        f" {versions['overseer'].get('ptera', '?')}.\n"
    )


def _table(results: dict[str, Any]) -> str:
    lines = [
        "| measure | voir median [min-max] | overseer-core median [min-max] | voir / overseer"
        " | goal | goal met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for measure in MEASURES:
        lines.append(_call_row(measure, results["variants"]))
    for voir_key, overseer_key, label in OVERHEADS:
        lines.append(_startup_row(voir_key, overseer_key, label, results["startup"]))
    return "\n".join(lines) + "\n"


def _call_row(measure: Measure, variants: dict[str, Any]) -> str:
    voir, overseer = variants[measure.voir], variants[measure.overseer]
    goal = f"<= {measure.goal_us:g} us"
    if overseer.get("error") or voir.get("error"):
        return (
            f"| {measure.title} | {_cell_us(voir)} | {_cell_us(overseer)} | - | {goal}"
            " | not measured |"
        )
    voir_us = statistics.median(voir["ns"]) / 1000
    ours_us = statistics.median(overseer["ns"]) / 1000
    return (
        f"| {measure.title} | {_cell_us(voir)} | {_cell_us(overseer)} | {_ratio(voir_us, ours_us)}"
        f" | {goal} | {_verdict(ours_us, measure.goal_us, 'us')} |"
    )


def _startup_row(voir_key: str, overseer_key: str, label: str, startup: dict[str, Any]) -> str:
    title = f"start-up over plain `python`, {label}"
    goal = f"<= +{STARTUP_GOAL_MS:g} ms"
    voir = _overheads_ms(startup, voir_key)
    ours = _overheads_ms(startup, overseer_key)
    if isinstance(voir, str) or isinstance(ours, str):
        return f"| {title} | {_cell_ms(voir)} | {_cell_ms(ours)} | - | {goal} | not measured |"
    ratio = _ratio(statistics.median(voir), statistics.median(ours))
    verdict = _verdict(statistics.median(ours), STARTUP_GOAL_MS, "ms")
    return f"| {title} | {_cell_ms(voir)} | {_cell_ms(ours)} | {ratio} | {goal} | {verdict} |"


def _overheads_ms(startup: dict[str, Any], key: str) -> list[float] | str:
    """The launcher's time minus its environment's python, round by round, in ms; or why not."""
    baseline = key.split("/")[0] + "/python"
    for needed in (key, baseline):
        if needed in startup["errors"]:
            return f"failed: `{needed}`: {startup['errors'][needed]}"
    times = startup["times"]
    return [
        (launched - plain) * 1000
        for launched, plain in zip(times[key], times[baseline], strict=True)
    ]


def _startup_detail(results: dict[str, Any]) -> str:
    startup = results["startup"]
    rows = ["| process | median [min-max] wall time |", "| --- | --- |"]
    for key, values in startup["times"].items():
        if key in startup["errors"]:
            rows.append(f"| `{key}` | failed: {startup['errors'][key]} |")
            continue
        median, low, high = spread([value * 1000 for value in values])
        rows.append(f"| `{key}` | {median:.1f} ms [{low:.1f}-{high:.1f}] |")
    return (
        'Start-up, raw wall times of `trivial.py` (and, for scale, of `python -c "import'
        ' giving"` in the overseer-core environment):\n\n' + "\n".join(rows) + "\n"
    )


def _cell_us(variant: dict[str, Any]) -> str:
    if variant.get("error"):
        return f"failed: {variant['error']}"
    median, low, high = spread([value / 1000 for value in variant["ns"]])
    return f"{_us(median)} us [{_us(low)}-{_us(high)}]"


def _cell_ms(values: list[float] | str) -> str:
    if isinstance(values, str):
        return values
    median, low, high = spread(values)
    return f"+{median:.1f} ms [{low:.1f}-{high:.1f}]"


def _us(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"


def _ratio(voir: float, ours: float) -> str:
    if ours <= 0:
        return "-"
    ratio = voir / ours
    return f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.1f}x"


def _verdict(value: float, goal: float, unit: str) -> str:
    shown = _us(value) if unit == "us" else f"{value:.1f}"
    if value <= goal:
        return f"met ({shown} {unit})"
    excess = value - goal
    excess_shown = _us(excess) if unit == "us" else f"{excess:.1f}"
    return f"missed by {excess_shown} {unit} (+{(value / goal - 1) * 100:.0f}%)"


def _method(results: dict[str, Any]) -> str:
    settings = results["settings"]
    sizes = ", ".join(f"{measure.key} {measure.n:,}" for measure in MEASURES)
    return f"""Method:

- Two virtual environments under `.bench/`, made from the same Python: one with voir,
  giving and ptera from PyPI, one with overseer-core installed (not editable) from
  `packages/overseer` with the same giving and ptera pins. Never both in one interpreter.
- Per-call costs (all rows but start-up) are timed inside the process that gives, by
  `bench_give.py` / `bench_probe.py` with `time.perf_counter`: after one warm-up round,
  {settings["rounds"]} rounds alternate a loop of N calls and the same loop with an empty
  body (for the probe: the probed `f(N)` and an identical unprobed `g(N)`); one process's
  figure is (median loop - median empty loop) / N. N per measure: {sizes}.
  The launcher's own start-up is outside the timed loops.
- Each figure is the median over {settings["repeats"]} fresh processes, with the minimum and
  maximum of those processes in brackets. Every repetition runs each voir variant right
  before the overseer-core variant it is compared with (A/B/A/B...), so drift of the
  machine hits both.
- No listener: plain `python`, `from giving import give` outside any `given()` against
  `from overseer import give` with no overseer running.
- One listener: voir's `with given() as gv: gv.subscribe(lambda d: None)` in plain python,
  and a real `voir` run whose voirfile does `ov.given.subscribe(lambda d: None)` (voir also
  keeps its own `where("$event") >> ov.log` subscription on `ov.given`), against a real
  `overseer` run with the same voirfile.
- Data fd: `DATA_FD` names a file the benchmark opened; after each run the file is checked to
  hold every value given. voir: voirfile `ov.given.where("x") >> ov.log`; overseer-core:
  `--log-given`, and the same voirfile. The cost counted is what the giving loop pays; work
  left for after the loop (a final flush) is not in it. voir writes `{{"x": 1}}` through a
  line-buffered file (one `write` a record); overseer-core adds `$t`, `$pid` and `$rank` to
  every record and writes batches of up to 512 records.
- Before timing, every variant with a listener or probe runs once with its voirfile counting
  what it receives; a variant that loses values is reported as failed, not timed.
- Probe: voirfile `ov.probe("//f > x").subscribe(lambda d: None)` after `load_script`.
- Start-up: `trivial.py` holds `pass`; {settings["startup_runs"]} rounds, each starting in turn
  voir's python, `voir`, overseer-core's python, `overseer`, then both launchers with the
  one-instrument voirfile (`where` + `subscribe`, which overseer-core runs without importing
  giving), then with a voirfile whose instrument uses `throttle` (giving is imported), and
  `python -c "import giving"` in the overseer-core environment,
  all fresh processes, after one untimed round. Overhead = the launcher's wall time minus
  its own environment's `python` in the same round; median and min-max of those differences.
  `$VOIRFILE` is set for every launcher run (empty for "no voirfile"), so neither searches
  parent folders.
- Goals are the project's issue targets for overseer-core; "voir / overseer" is how many times
  the overseer-core figure fits in voir's.
"""
