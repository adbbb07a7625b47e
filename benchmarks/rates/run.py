"""Rate accuracy, overseer-instruments against voir's ``rate``; writes its section of RESULTS.md.

    python benchmarks/rates/run.py            # about two and a half minutes on 2 cores
    python benchmarks/rates/run.py --quick    # a smoke run; RESULTS.md is left alone

Both peers measure the same sleep-paced loop (``paced.py``), which keeps its own clock
readings; each reported rate is compared with the true rate of the very steps its window
holds. voir runs in ``.bench/venv-voir`` (made by ``benchmarks/overseer/venvs.py``), the
overseer in ``.bench/venv-overseer-instruments`` (overseer-core and overseer-instruments,
built from ``packages/``). The raw numbers of the last run go to ``.bench/rates-results.json``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/results.py
sys.path.insert(0, str(HERE.parent / "overseer"))  # benchmarks/overseer/venvs.py

from environments import prepare  # noqa: E402
from results import describe_machine, machine, publish, spread  # noqa: E402
from venvs import (  # noqa: E402
    BENCH_DIR,
    ROOT,
    SHARED_PINS,
    Venv,
    _inspect,
    source_digest,
    voir_venv,
)

TITLE = "Rate accuracy: overseer-instruments vs voir"
WRITER = "benchmarks/rates/run.py"
RAW_RESULTS = BENCH_DIR / "rates-results.json"
INSTRUMENTS_PACKAGE = ROOT / "packages" / "instruments"
WINDOW = 10  # steps a rate
BATCH = 32
METHODS = ("step", "wrap")
PERIODS = (0.002, 0.01, 0.04)  # seconds a step: 16,000, 3,200 and 800 items/s


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; return 1 if a run failed, else 0."""
    options = _parse(argv)
    began = time.perf_counter()
    voir, overseer = voir_venv(options.python), overseer_instruments_venv(options.python)
    workdir = BENCH_DIR / "rates-work"
    workdir.mkdir(parents=True, exist_ok=True)
    errors: dict[str, list[list[float]]] = {}
    failures: list[str] = []
    for repetition in range(options.runs):
        for case in _cases(options):
            for peer in (voir, overseer):  # voir right before the overseer: drift hits both
                key = f"{peer.peer}/{case.method}/{case.period}"
                try:
                    errors.setdefault(key, []).append(run_case(peer, case, workdir))
                except RunFailed as error:
                    failures.append(f"{key}: {error}")
                    print(f"bench: {key} failed: {error}", file=sys.stderr)
        print(f"bench: run {repetition + 1}/{options.runs} done", file=sys.stderr)
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": time.perf_counter() - began,
        "machine": machine(),
        "versions": {"voir": voir.versions, "overseer": overseer.versions},
        "settings": {"runs": options.runs, "windows": options.windows, "window": WINDOW},
        "cases": [case.__dict__ for case in _cases(options)],
        "errors": errors,
        "failures": failures,
    }
    publish(TITLE, WRITER, render(results), results, RAW_RESULTS, write=options.write)
    return 1 if failures else 0


@dataclass(frozen=True)
class Case:
    """One measured loop: how its steps are given, how long they last, how many there are."""

    method: str
    period: float
    windows: int

    @property
    def steps(self) -> int:
        # A first window left out as warm-up, the measured ones, and one more step so that
        # both peers' windows are whole (voir's first step only starts its clock).
        return (self.windows + 2) * WINDOW + 1


class RunFailed(Exception):
    """A run exited badly or reported fewer rates than it should."""


def run_case(peer: Venv, case: Case, workdir: Path) -> list[float]:
    """Run the loop under ``peer``; return each window's error in percent of the true rate."""
    times_path, data_path = workdir / "times.json", workdir / "data.jsonl"
    script = [str(HERE / "paced.py"), case.method, "--steps", str(case.steps)]
    script += ["--period", str(case.period), "--batch", str(BATCH), "--out", str(times_path)]
    env = {**os.environ, "BENCH_WINDOW": str(WINDOW), "BENCH_SKIP": "1"}
    if peer.peer == "voir":
        env |= {"VOIRFILE": str(HERE / "voir_rate.py")}
        env |= {"BENCH_METHOD": "delta" if case.method == "step" else "wrap"}
        command = [str(peer.command("voir")), *script]
    else:
        # The same windows as voir's: the clock starts after the first window of steps.
        skip = WINDOW + 1 if case.method == "step" else WINDOW
        flags = ["--train-rate", "--rate-method", case.method, "--rate-skip", str(skip)]
        flags += ["--rate-interval", str(WINDOW), "--rate-interval-unit", "events"]
        env |= {"VOIRFILE": ""}
        command = [str(peer.command("overseer")), *flags, *script]
    with open(data_path, "wb") as data:
        env["DATA_FD"] = str(data.fileno())
        done = subprocess.run(
            command, env=env, pass_fds=(data.fileno(),), capture_output=True, text=True
        )
    if done.returncode != 0:
        raise RunFailed(f"exit status {done.returncode}: {done.stderr.strip()[-300:]}")
    reported = _rates(data_path)[: case.windows]
    truths = _true_rates(json.loads(times_path.read_text()), case)
    if len(reported) < case.windows:
        raise RunFailed(f"{len(reported)} rates reported, {case.windows} expected")
    return [100 * (got / true - 1) for got, true in zip(reported, truths, strict=True)]


def _rates(path: Path) -> list[float]:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r["rate"] for r in records if "rate" in r and r.get("task") == "train"]


def _true_rates(times: dict[str, Any], case: Case) -> list[float]:
    """The items of each measured window over the time its steps took, by the script's clock.

    Window j holds steps ``(j+1)*WINDOW + 1 .. (j+2)*WINDOW`` (each step lasting from the
    previous record), or blocks ``(j+1)*WINDOW .. (j+2)*WINDOW - 1`` (the time inside them).
    """
    truths = []
    for window in range(case.windows):
        first = (window + 1) * WINDOW
        if case.method == "step":
            stamps = times["t"]
            seconds = stamps[first + WINDOW] - stamps[first]
        else:
            seconds = sum(end - begin for begin, end in times["blocks"][first : first + WINDOW])
        truths.append(WINDOW * BATCH / seconds)
    return truths


def overseer_instruments_venv(base_python: str) -> Venv:
    """overseer-core and overseer-instruments, built (not editable) from ``packages/``."""
    folder = BENCH_DIR / "venv-overseer-instruments"
    packages = (str(ROOT / "packages" / "overseer"), str(INSTRUMENTS_PACKAGE))
    digest = f"{source_digest()} {_instruments_digest()}"
    installs = [
        # The same version numbers may hold new code: reinstall them whatever pip thinks.
        ["install", "--force-reinstall", "--no-deps", *packages],
        ["install", *packages, *SHARED_PINS],
    ]
    prepare(folder, base_python, " ".join(SHARED_PINS) + " " + digest, installs)
    venv = _inspect("overseer", folder)
    venv.versions["overseer-instruments"] = _version(folder, "overseer-instruments")
    return venv


def _instruments_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((INSTRUMENTS_PACKAGE / "src").rglob("*.py")):
        digest.update(path.read_bytes())
    digest.update((INSTRUMENTS_PACKAGE / "pyproject.toml").read_bytes())
    return digest.hexdigest()[:16]


def _version(folder: Path, dist: str) -> str:
    script = f"import importlib.metadata as m; print(m.version({dist!r}))"
    python = str(folder / "bin" / "python")
    return subprocess.run([python, "-c", script], capture_output=True, text=True).stdout.strip()


# ---------------------------------------------------------------- report


def render(results: dict[str, Any]) -> str:
    """The section's markdown: the table, then how it was measured."""
    versions = results["versions"]
    settings = results["settings"]
    lines = [
        f"## {TITLE}\n",
        f"Run on {results['date']} ({results['duration_s']:.0f} s for the whole benchmark).",
        f"Machine: {describe_machine(results['machine'])}.",
        f"voir side: voir {versions['voir'].get('voir', '?')}, giving"
        f" {versions['voir'].get('giving', '?')}. overseer side: overseer-instruments"
        f" {versions['overseer'].get('overseer-instruments', '?')}, overseer-core"
        f" {versions['overseer'].get('overseer-core', '?')}.\n",
        "Error of each reported rate against the true rate of the same window, in percent"
        " (negative: reported too low). Per run, the median over its windows; the table shows"
        f" the median [min-max] of that over {settings['runs']} runs, and the largest error"
        " of any single window.\n",
        "| steps given as | true rate | voir median [min-max] | voir worst window"
        " | overseer median [min-max] | overseer worst window |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for case in results["cases"]:
        method, period = case["method"], case["period"]
        cells = [_cell(results["errors"].get(f"{peer}/{method}/{period}")) for peer in PEERS]
        shown = "`give(step=..., batch=...)`" if method == "step" else '`give.wrap("step", ...)`'
        true = f"{BATCH / period:,.0f} items/s ({period * 1000:g} ms steps)"
        lines.append(f"| {shown} | {true} | {' | '.join(cells)} |")
    lines += ["", *_method(settings), *_failures(results["failures"])]
    return "\n".join(lines) + "\n"


PEERS = ("voir", "overseer")


def _cell(runs: list[list[float]] | None) -> str:
    if not runs:
        return "failed | failed"
    median, low, high = spread([statistics.median(errors) for errors in runs])
    worst = max((error for errors in runs for error in errors), key=abs)
    return f"{median:+.2f}% [{low:+.2f} to {high:+.2f}] | {worst:+.2f}%"


def _method(settings: dict[str, Any]) -> list[str]:
    return [
        "Method:",
        "",
        "- `paced.py` sleeps a fixed period per step and gives a batch of"
        f' {BATCH} items: `give(task="train", step=i, batch=batch)` after each step, or'
        ' each step inside `give.wrap("step", task="train", batch=batch)` with a pause as'
        " long between blocks (outside: not part of the rate). It keeps its own"
        " `time.perf_counter()` readings: when each step ended, or the first and last"
        " reading inside each block.",
        f"- Windows of {WINDOW} steps on both sides, the first window left out:"
        f' voir `rate(interval={WINDOW}, skip=1, method="delta"|"wrap")` (its `delta` is'
        f" the time between records), overseer `--train-rate --rate-method step|wrap"
        f" --rate-interval {WINDOW} --rate-interval-unit events --rate-skip"
        f" {WINDOW + 1}|{WINDOW}`. Both then cover the very same steps, so each reported rate"
        " is compared with the true rate of its own window: its items over the time from the"
        " step before it to its last step (step records), or over the time inside its blocks"
        " (wrap), by the script's clock.",
        f"- {settings['windows']} measured windows per run; every run is a fresh process,"
        " voir's right before the overseer's for each case, so drift of the machine hits both.",
        "- voir runs in its own environment (`.bench/venv-voir`, from PyPI), the overseer in"
        " `.bench/venv-overseer-instruments` (built from `packages/`); they never share an"
        " interpreter. Neither synchronises CUDA (no GPU work here).",
    ]


def _failures(failures: list[str]) -> list[str]:
    if not failures:
        return []
    return ["", "Failed runs:", "", *(f"- {failure}" for failure in failures)]


def _cases(options: argparse.Namespace) -> list[Case]:
    periods = (0.01,) if options.quick else PERIODS
    return [Case(method, period, options.windows) for method in METHODS for period in periods]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the Python both venvs use")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per case and peer")
    parser.add_argument("--windows", type=int, default=6, help="measured windows per run")
    parser.add_argument("--quick", action="store_true", help="a small smoke run, not written")
    parser.add_argument("--no-write", dest="write", action="store_false", default=None)
    options = parser.parse_args(argv)
    if options.quick:
        options.runs, options.windows = 1, 2
    if options.write is None:
        options.write = not options.quick
    return options


if __name__ == "__main__":
    sys.exit(main())
