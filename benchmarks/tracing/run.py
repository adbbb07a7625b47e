"""What tracing costs with overseer-tracing, beside hyrax's figures; writes its RESULTS.md section.

    python benchmarks/tracing/run.py            # about 15 seconds on 2 cores
    python benchmarks/tracing/run.py --quick    # a smoke run; RESULTS.md is left alone

Each measure runs ``bench_trace.py`` in fresh processes of the interpreter given by
``--python`` (this one by default), with ``packages/tracing/src`` first on ``PYTHONPATH``:
the working tree's code is what is timed, and the package needs nothing else. hyrax is not
installed: its figures are the ones issue 5 gives. The raw numbers of the last run go to
``.bench/tracing-results.json``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))  # benchmarks/results.py

from results import describe_machine, machine, publish, spread  # noqa: E402

TITLE = "overseer-tracing: cost of tracing"
WRITER = "benchmarks/tracing/run.py"
PACKAGE = ROOT / "packages" / "tracing"
RAW_RESULTS = ROOT / ".bench" / "tracing-results.json"
CAP = 10_000  # the default recorder's calls kept per stage


@dataclass(frozen=True)
class Measure:
    key: str  # bench_trace.py's --case
    title: str
    n: int  # calls per timed loop (per-call measures)
    goal: float
    unit: str  # "us" per call, or "ms" per print
    hyrax: str  # hyrax's figure as issue 5 gives it, or "-"


MEASURES = (
    Measure("off-positional", "traced `add(1, 2)`, no recording", 200_000, 0.15, "us", "~0.8 us"),
    Measure("off-keyword", "traced `add(1, b=2)`, no recording", 200_000, 0.15, "us", "-"),
    Measure(
        "on-kept",
        "traced `add(1, 2)` recorded (2 arguments and the result), every call kept",
        1_500,
        3.0,
        "us",
        "~10.5 us",
    ),
    Measure(
        "on-capped",
        "the same past the cap of 10,000 calls a stage (older calls pushed out)",
        20_000,
        3.0,
        "us",
        "-",
    ),
    Measure("print", "first `print` of a fresh 10,000-call trace", 0, 50.0, "ms", "-"),
)


class RunFailed(RuntimeError):
    """A measuring process failed, or found the trace wrong."""


def main(argv: list[str] | None = None) -> int:
    """Run every measure in fresh processes; return 1 if one failed, else 0."""
    options = _parse(argv)
    began = time.perf_counter()
    values: dict[str, list[float]] = {measure.key: [] for measure in MEASURES}
    errors: dict[str, str] = {}
    python_version = "?"
    for repetition in range(options.repeats):
        for measure in MEASURES:
            if measure.key in errors:
                continue
            try:
                value, python_version = run_measure(measure, options)
                values[measure.key].append(value)
            except RunFailed as error:
                errors[measure.key] = str(error)
                print(f"bench: {measure.key} failed: {error}", file=sys.stderr)
        print(f"bench: repetition {repetition + 1}/{options.repeats} done", file=sys.stderr)
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": time.perf_counter() - began,
        "machine": machine(python_version),
        "version": _version(),
        "digest": source_digest(),
        "settings": {
            "repeats": options.repeats,
            "rounds": options.rounds,
            "sizes": {m.key: calls_per_loop(m, options) for m in MEASURES if m.n},
        },
        "measures": {key: {"values": values[key], "error": errors.get(key)} for key in values},
    }
    publish(TITLE, WRITER, render(results), results, RAW_RESULTS, write=options.write)
    return 1 if errors else 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the interpreter measured")
    parser.add_argument("--repeats", type=int, default=9, help="processes per measure")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per process")
    parser.add_argument("--quick", action="store_true", help="a small smoke run, not written")
    parser.add_argument("--no-write", dest="write", action="store_false", default=None)
    options = parser.parse_args(argv)
    options.scale = 1.0
    if options.quick:
        options.repeats, options.rounds, options.scale = 2, 2, 0.1
    if options.write is None:
        options.write = not options.quick
    return options


def run_measure(measure: Measure, options: argparse.Namespace) -> tuple[float, str]:
    """One fresh process's figure (us per call, or ms per print), and its Python version."""
    command = [options.python, str(HERE / "bench_trace.py"), "--case", measure.key]
    command += ["--rounds", str(options.rounds)]
    if measure.n:
        command += ["--n", str(calls_per_loop(measure, options))]
    source = str(PACKAGE / "src")
    paths = [source, os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, paths))}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=600, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise RunFailed(f"no result after {error.timeout:.0f} s") from None
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        why = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise RunFailed(f"exit status {done.returncode}: {why[0]}")
    found = json.loads(lines[-1].removeprefix("BENCH "))
    value = found["ns"] / 1000 if "ns" in found else found["ms"]
    return value, found["python"]


def calls_per_loop(measure: Measure, options: argparse.Namespace) -> int:
    """N for one timed loop: scaled, but on the side of the cap its measure is about."""
    n, loops = max(1000, int(measure.n * options.scale)), options.rounds + 1
    if measure.key == "on-kept":
        return min(n, (CAP - 1) // loops)
    if measure.key == "on-capped":
        return max(n, 2 * CAP // loops + 1)
    return n


def source_digest() -> str:
    """A digest of the package's source, to tell which code a section timed."""
    digest = hashlib.sha256()
    for path in sorted((PACKAGE / "src").rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _version() -> str:
    found = re.search(r'^version = "([^"]+)"', (PACKAGE / "pyproject.toml").read_text(), re.M)
    return found.group(1) if found else "?"


def render(results: dict[str, Any]) -> str:
    """The section's markdown."""
    head = (
        f"## {TITLE}\n\n"
        f"Run on {results['date']} ({results['duration_s']:.0f} s for the whole benchmark).\n"
        f"Machine: {describe_machine(results['machine'])}.\n"
        f"overseer-tracing {results['version']} (source digest `{results['digest']}`)."
        " hyrax is not installed: its column holds the figures issue 5 gives for it.\n"
    )
    rows = [
        "| measure | overseer-tracing median [min-max] | hyrax (issue 5, not re-measured)"
        " | goal | goal met? |",
        "| --- | --- | --- | --- | --- |",
    ]
    rows += [_row(measure, results["measures"][measure.key]) for measure in MEASURES]
    return "\n".join([head, "\n".join(rows) + "\n", _method(results)])


def _row(measure: Measure, measured: dict[str, Any]) -> str:
    goal = f"<= {measure.goal:g} {measure.unit}"
    if measured["error"] or not measured["values"]:
        failure = f"failed: {measured['error'] or 'no value'}"
        return f"| {measure.title} | {failure} | {measure.hyrax} | {goal} | not measured |"
    median, low, high = spread(measured["values"])
    cell = f"{_number(median)} {measure.unit} [{_number(low)}-{_number(high)}]"
    verdict = f"met ({_number(median)} {measure.unit})"
    if median > measure.goal:
        excess = (median / measure.goal - 1) * 100
        verdict = f"missed by {_number(median - measure.goal)} {measure.unit} (+{excess:.0f}%)"
    return f"| {measure.title} | {cell} | {measure.hyrax} | {goal} | {verdict} |"


def _number(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"


def _method(results: dict[str, Any]) -> str:
    settings = results["settings"]
    sizes = ", ".join(f"{key} {n:,}" for key, n in settings["sizes"].items())
    loops = settings["rounds"] + 1
    kept, capped = (settings["sizes"][key] * loops for key in ("on-kept", "on-capped"))
    return f"""Method:

- `bench_trace.py` times one measure inside one process with `time.perf_counter`; the
  interpreter measured runs it with `packages/tracing/src` first on `PYTHONPATH` (the
  working tree, no other package).
- Per-call rows: the same loop calls `add`, a plain two-argument function, and the same
  function decorated with `trace_func`; after one warm-up round of each, {settings["rounds"]}
  rounds alternate the plain loop and the traced loop, and one process's figure is
  (median traced loop - median plain loop) / N: what tracing adds to one call.
  N: {sizes}.
- Off: no recording is active (`get_trace()` is checked to be None after the loops).
- On: the loops run inside `recording()` with the default recorder (at most {CAP:,} calls
  kept per stage: the first and the last halves). "every call kept": the {loops} loops of a
  process make {kept:,} calls, under the cap, as a trace of a few items does; "past the cap":
  they make {capped:,}, most of which push an older call out, as in a long traced run.
  Afterwards the stage must count every call (and have dropped none, or some, as the row
  says), and the last call must hold `a`, `b` and the result as `int 1`, `int 2` and
  `int 3`, or the run fails.
- Print: a fresh 10,000-call trace per round (three stages, each call with an int, a
  two-item list and a result), then the first `str(recorder.result())`, what
  `print(get_trace())` prints: the median of {settings["rounds"]} rounds after one warm-up;
  the text must stay under 200 lines.
- Each figure is the median over {settings["repeats"]} fresh processes, with the minimum and
  maximum of those processes in brackets.
- hyrax: about 0.8 us added per call with tracing off and about 10.5 us with it on, as
  measured on hyrax's own `hyrax.trace` module and given in issue 5 (how the calls were
  made is not stated there, so the figures sit on the positional rows). hyrax is not
  installed and was not run here; its print of a trace has no figure.
- Goals are issue 5's, for Python 3.11: <= 0.15 us off, <= 3 us per captured call,
  <= 50 ms for the print. On Python 3.12+ the issue aims at zero off cost through
  `sys.monitoring`. This benchmark times the path `trace_func` takes on the Python that
  runs it: the compiled wrapper on 3.10 and 3.11, `sys.monitoring` events on 3.12+.
"""


if __name__ == "__main__":
    sys.exit(main())
