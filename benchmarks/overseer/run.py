"""overseer-core against voir, side by side in one run; writes its section of RESULTS.md.

    python benchmarks/overseer/run.py            # the comparison, a few minutes on 2 cores
    python benchmarks/overseer/run.py --quick    # a smoke run; RESULTS.md is left alone

The first run creates the two environments under ``.bench/`` (voir's from PyPI,
overseer-core's from ``packages/overseer``); later runs reuse them, and reinstall
overseer-core when its files change. The raw numbers of the last run are kept in
``.bench/overseer-results.json``.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/results.py

import startup
from measures import MEASURES, RunFailed, Variant, check_variant, run_variant, variants
from report import TITLE, WRITER, render
from results import machine, publish
from venvs import BENCH_DIR, Venv, overseer_venv, source_digest, voir_venv

RAW_RESULTS = BENCH_DIR / "overseer-results.json"


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; return 1 if a variant failed, else 0."""
    options = _parse(argv)
    began = time.perf_counter()
    voir, overseer = voir_venv(options.python), overseer_venv(options.python)
    workdir = BENCH_DIR / "overseer-work"
    workdir.mkdir(parents=True, exist_ok=True)
    table = variants(voir, overseer)
    errors = _check(table, workdir)
    costs = _time_calls(table, errors, options, workdir)
    startup_results = _time_startup(voir, overseer, options.startup_runs, workdir)
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": time.perf_counter() - began,
        "machine": machine(overseer.python_version.split()[0]),
        "versions": {"voir": voir.versions, "overseer": overseer.versions},
        "overseer_digest": source_digest(),
        "settings": {
            "repeats": options.repeats,
            "rounds": options.rounds,
            "startup_runs": options.startup_runs,
            "scale": options.scale,
        },
        "variants": {key: {"ns": costs[key], "error": errors.get(key)} for key in table},
        "startup": startup_results,
    }
    publish(TITLE, WRITER, render(results), results, RAW_RESULTS, write=options.write)
    failed = bool(errors) or bool(startup_results["errors"])
    return 1 if failed else 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the Python both venvs use")
    parser.add_argument("--repeats", type=int, default=9, help="processes per variant")
    parser.add_argument("--rounds", type=int, default=5, help="timed loops per process")
    parser.add_argument("--startup-runs", type=int, default=20, help="start-up rounds")
    parser.add_argument("--quick", action="store_true", help="a small smoke run, not written")
    parser.add_argument("--no-write", dest="write", action="store_false", default=None)
    options = parser.parse_args(argv)
    options.scale = 1.0
    if options.quick:
        options.repeats, options.rounds, options.startup_runs = 2, 2, 3
        options.scale = 0.1
    if options.write is None:
        options.write = not options.quick
    return options


def _check(table: dict[str, Variant], workdir: Path) -> dict[str, str]:
    """Run each variant that can count what it receives once; return the failures."""
    errors: dict[str, str] = {}
    for key, variant in table.items():
        if variant.check:
            try:
                check_variant(variant, workdir)
            except RunFailed as error:
                errors[key] = str(error)
                print(f"bench: {key} failed its check: {error}", file=sys.stderr)
    return errors


def _time_calls(
    table: dict[str, Variant], errors: dict[str, str], options: argparse.Namespace, workdir: Path
) -> dict[str, list[float]]:
    """Nanoseconds per call of every variant, one value per repetition, A/B interleaved."""
    sizes: dict[str, int] = {}
    for measure in MEASURES:
        for key in (measure.voir, measure.overseer):
            sizes.setdefault(key, max(1000, int(measure.n * options.scale)))
    costs: dict[str, list[float]] = {key: [] for key in table}
    for repetition in range(options.repeats):
        for key, n in sizes.items():  # voir's variant, then the overseer one, measure by measure
            if key in errors:
                continue
            try:
                costs[key].append(run_variant(table[key], n, options.rounds, workdir))
            except RunFailed as error:
                errors[key] = str(error)
                print(f"bench: {key} failed: {error}", file=sys.stderr)
        print(f"bench: repetition {repetition + 1}/{options.repeats} done", file=sys.stderr)
    return costs


def _time_startup(voir: Venv, overseer: Venv, rounds: int, workdir: Path) -> dict[str, Any]:
    times, errors = startup.measure(voir, overseer, rounds, workdir)
    for key, error in errors.items():
        print(f"bench: start-up of {key} failed: {error}", file=sys.stderr)
    return {"times": times, "errors": errors}


if __name__ == "__main__":
    sys.exit(main())
