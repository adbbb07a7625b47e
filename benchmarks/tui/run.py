"""overseer-tui against Textual's stock widgets, side by side in one run; writes its section.

    python benchmarks/tui/run.py            # about 5 minutes on 2 cores
    python benchmarks/tui/run.py --quick    # a smoke run, under 2 minutes; RESULTS.md untouched

Widget measures run ``bench_widgets.py`` in fresh processes (headless Textual apps); the
terminal measures run both monitors in a private tmux server (``terminal.py``) over XP
stores made under ``.bench/tui-work/`` (``xp_store.py``). The peers are textual-plotext's
``PlotextPlot``, Textual's ``DataTable`` and ``naive_monitor.py`` (a DataTable refilled from
every events file ten times a second). The raw numbers of the last run go to
``.bench/tui-results.json``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))  # benchmarks/results.py

import monitors  # noqa: E402
import xp_store  # noqa: E402
from report import TITLE, WRITER, render  # noqa: E402
from results import machine, publish  # noqa: E402
from terminal import Terminal, TerminalError  # noqa: E402

RAW_RESULTS = ROOT / ".bench" / "tui-results.json"
WORK = ROOT / ".bench" / "tui-work"
PACKAGE = ROOT / "packages" / "tui"
STORE_RUNS = 100


class RunFailed(RuntimeError):
    """A measuring process failed."""


def widget_case(case: str, timeout: float = 600, **arguments: int) -> dict[str, Any]:
    """Run one case of ``bench_widgets.py`` in a fresh process; its ``BENCH`` answer."""
    command = [sys.executable, str(HERE / "bench_widgets.py"), "--case", case]
    for name, value in arguments.items():
        command += [f"--{name}", str(value)]
    print(f"bench: {' '.join(command[2:])}", file=sys.stderr, flush=True)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RunFailed(f"{case}: no result after {timeout:.0f} s") from None
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        why = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise RunFailed(f"{case}: exit status {done.returncode}: {why[0]}")
    found: dict[str, Any] = json.loads(lines[-1].removeprefix("BENCH "))
    return found


def attempt(errors: dict[str, str], key: str, measure: Any, *args: Any, **kwargs: Any) -> Any:
    """``measure(*args, **kwargs)``, or None with the failure noted under ``key``."""
    try:
        return measure(*args, **kwargs)
    except (RunFailed, TerminalError, OSError) as error:
        errors[key] = str(error).splitlines()[0]
        print(f"bench: {key} failed: {error}", file=sys.stderr, flush=True)
        return None


def measure_widgets(options: argparse.Namespace, errors: dict[str, str]) -> dict[str, Any]:
    """Plots, tables and headless app starts, each peer right after ours."""
    found: dict[str, Any] = {"plot": {"ours": {}, "peer": {}}}
    for points in options.plot_points:
        found["plot"]["ours"][str(points)] = attempt(
            errors,
            f"plot-ours-{points}",
            widget_case,
            "plot-ours",
            points=points,
            repeats=options.plot_repeats,
        )
        if points in options.peer_points:
            found["plot"]["peer"][str(points)] = attempt(
                errors,
                f"plot-peer-{points}",
                widget_case,
                "plot-peer",
                points=points,
                repeats=options.peer_repeats[points],
            )
    runs = options.table_runs
    found["table"] = {
        "ours": attempt(
            errors,
            "table-ours",
            widget_case,
            "table-ours",
            runs=runs,
            repeats=options.table_repeats,
        ),
        "peer": attempt(
            errors,
            "table-peer",
            widget_case,
            "table-peer",
            runs=runs,
            repeats=options.peer_table_repeats,
        ),
    }
    found["app"] = {"ours": [], "peer": []}
    for _ in range(options.app_starts):
        for side in ("ours", "peer"):
            value = attempt(errors, f"app-{side}", widget_case, f"app-{side}", runs=runs)
            if value is not None:
                found["app"][side].append(value["first"])
    return found


def fresh_store(name: str, *, finished: bool) -> Path:
    """A new store of STORE_RUNS XPs under WORK."""
    root = WORK / name
    shutil.rmtree(root, ignore_errors=True)
    xp_store.make_store(root, STORE_RUNS, finished=finished)
    return root


def measure_terminal(options: argparse.Namespace, errors: dict[str, str]) -> dict[str, Any]:
    """Streaming, idle and start-up of both monitors in tmux, ours first, then the peer."""
    names = set(xp_store.names(STORE_RUNS))
    found: dict[str, Any] = {"streaming": {}, "idle": {}}
    pair = (monitors.OURS, monitors.PEER)
    with Terminal(ROOT) as terminal:
        for monitor in pair:
            print(f"bench: streaming, {monitor.name}", file=sys.stderr, flush=True)
            live = fresh_store(f"live-{monitor.name}", finished=False)
            found["streaming"][monitor.name] = attempt(
                errors,
                f"streaming-{monitor.name}",
                monitors.streaming,
                terminal,
                monitor,
                live,
                names,
                seconds=options.cpu_seconds,
                presses=options.presses,
            )
        done = fresh_store("finished", finished=True)
        for monitor in pair:
            print(f"bench: idle, {monitor.name}", file=sys.stderr, flush=True)
            found["idle"][monitor.name] = attempt(
                errors,
                f"idle-{monitor.name}",
                monitors.idle,
                terminal,
                monitor,
                done,
                names,
                seconds=options.cpu_seconds,
            )
        print("bench: start to first frame", file=sys.stderr, flush=True)
        found["start"] = attempt(
            errors, "start", monitors.first_frames, terminal, pair, done, names, options.starts
        )
    return found


def versions() -> dict[str, str]:
    """The versions of the packages measured."""
    found = {}
    for name in ("overseer-tui", "textual", "textual-plotext", "plotext", "rich", "numpy"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    found["tmux"] = subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip()
    return found


def source_digest() -> str:
    """A digest of overseer-tui's source, to tell which code a section timed."""
    digest = hashlib.sha256()
    for path in sorted((PACKAGE / "src").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".tcss"):
            digest.update(str(path.relative_to(PACKAGE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    """Run every measure; return 1 if one failed, else 0."""
    options = _parse(argv)
    if shutil.which("tmux") is None:
        print("bench: tmux is needed for the terminal measures: install it", file=sys.stderr)
        return 1
    began = time.perf_counter()
    load_before = os.getloadavg()
    errors: dict[str, str] = {}
    widgets = measure_widgets(options, errors)
    terminal = measure_terminal(options, errors)
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": time.perf_counter() - began,
        "machine": machine(),
        "load": {"before": load_before, "after": os.getloadavg()},
        "versions": versions(),
        "digest": source_digest(),
        "quick": options.quick,
        "settings": _settings(options),
        "widgets": widgets,
        "terminal": terminal,
        "errors": errors,
    }
    publish(TITLE, WRITER, render(results), results, RAW_RESULTS, write=options.write)
    return 1 if errors else 0


SETTINGS = (
    "plot_points",
    "peer_points",
    "peer_repeats",
    "plot_repeats",
    "table_runs",
    "table_repeats",
    "peer_table_repeats",
    "app_starts",
    "cpu_seconds",
    "presses",
    "starts",
)


def _settings(options: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(options, name) for name in SETTINGS} | {"store_runs": STORE_RUNS}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot-repeats", type=int, default=20, help="redraws per series length")
    parser.add_argument("--table-runs", type=int, default=10_000, help="rows of the tables")
    parser.add_argument("--table-repeats", type=int, default=5, help="first paints of ours")
    parser.add_argument("--peer-table-repeats", type=int, default=3, help="of the DataTable")
    parser.add_argument("--app-starts", type=int, default=3, help="headless app starts each")
    parser.add_argument("--cpu-seconds", type=float, default=30.0, help="CPU window (s)")
    parser.add_argument("--presses", type=int, default=40, help="key presses timed")
    parser.add_argument("--starts", type=int, default=5, help="starts in the terminal, each")
    parser.add_argument("--no-huge", action="store_true", help="skip the 10-million-point plot")
    parser.add_argument("--quick", action="store_true", help="a small smoke run, not written")
    parser.add_argument("--no-write", dest="write", action="store_false", default=None)
    options = parser.parse_args(argv)
    options.plot_points = [1_000, 10_000, 100_000, 1_000_000, 10_000_000]
    options.peer_points = [1_000, 10_000, 100_000]
    options.peer_repeats = {1_000: 10, 10_000: 5, 100_000: 3}
    if options.no_huge:
        options.plot_points.remove(10_000_000)
    if options.quick:
        options.plot_points, options.peer_points = [1_000, 10_000, 100_000], [1_000, 10_000]
        options.peer_repeats = {1_000: 3, 10_000: 2}
        options.plot_repeats, options.table_repeats, options.peer_table_repeats = 5, 2, 1
        options.app_starts, options.cpu_seconds, options.presses, options.starts = 1, 10.0, 10, 2
    if options.write is None:
        options.write = not options.quick
    return options


if __name__ == "__main__":
    sys.exit(main())
