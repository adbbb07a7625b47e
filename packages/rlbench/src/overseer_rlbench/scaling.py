"""``suite rl study``: train a grid of runs, rate them in an arena, fit the compute frontier.

The steps, each reusing what a previous study already made:

1. the grid ``overseer_rlbench.study`` / ``scaling`` runs through xpmanager, one XP per board
   size x network preset x training budget (finished XPs are kept, not trained again);
2. per board size, every run's latest checkpoint plays an all-vs-all arena with the
   reference agents (random, pure MCTS, and perfect play up to 4x4), and Bradley-Terry
   gives each an Elo with its interval, random play at 0;
3. the frontier fit (Elo against training compute, per board size) is printed with its
   bootstrap intervals and drawn to ``<store>/frontier.png``; ``<store>/study.json`` keeps
   the points and the fit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import MissingExtraError, RLBenchError
from .study.spec import STUDY_ENV, StudySpec, instruments_installed, threads_per_run

__all__ = [
    "RunResult",
    "add_study_arguments",
    "default_instruments",
    "median_train_rate",
    "study_command",
]

PROJECT = "overseer_rlbench.study"
GRID = "scaling"


@dataclass(frozen=True)
class RunResult:
    """One trained run of the study, rated.

    Attributes:
        sig: the XP's signature; ``alias`` its name.
        size, preset, samples: its arguments.
        steps: learner steps; ``flops`` its training compute.
        elo, elo_low, elo_high: its rating and 95% interval (random play is 0).
        train_rate: median learner samples/s that the overseer's ``--train-rate`` measured
            (``None`` when the run was not measured).
    """

    sig: str
    alias: str
    size: int
    preset: str
    samples: int
    steps: int
    flops: float
    seconds: float
    elo: float
    elo_low: float
    elo_high: float
    train_rate: float | None = None


def add_study_arguments(
    parser: argparse.ArgumentParser,
    int_list: Callable[[str], list[int]],
    str_list: Callable[[str], list[str]],
    positive_int: Callable[[str], int],
) -> None:
    """Add ``rl study``'s options to ``parser``."""
    default = StudySpec()
    parser.add_argument("--store", default="rl-study", help="the XP store (default ./rl-study)")
    parser.add_argument("--sizes", type=int_list, default=list(default.sizes), help="3,4")
    parser.add_argument("--presets", type=str_list, default=list(default.presets), help="tiny,xs")
    parser.add_argument(
        "--samples",
        type=int_list,
        default=list(default.samples),
        help="training budgets in learner samples (8000,32000)",
    )
    parser.add_argument("--simulations", type=positive_int, default=default.simulations)
    parser.add_argument("--n-envs", type=positive_int, default=default.n_envs)
    parser.add_argument("--games", type=positive_int, default=64, help="arena games per pairing")
    parser.add_argument("-j", "--jobs", type=positive_int, default=2, help="runs at once (2)")
    parser.add_argument("--bootstrap", type=positive_int, default=200, help="frontier resamples")
    parser.add_argument("--device", default="cpu", help="torch device of the runs and arena")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "-O",
        "--overseer",
        action="append",
        default=[],
        metavar="FLAG",
        help=(
            "an overseer flag for every run (repeat; default, when overseer-instruments is "
            "installed: --train-rate --cpu-monitor, and --gpu-monitor on CUDA)"
        ),
    )


def study_command(args: argparse.Namespace) -> int:
    """Run the study ``args`` describe; print the report; return the exit status."""
    _require_xpmanager()
    _check_choices(args.sizes, args.presets)
    spec = StudySpec(
        sizes=tuple(args.sizes),
        presets=tuple(args.presets),
        samples=tuple(args.samples),
        simulations=args.simulations,
        n_envs=args.n_envs,
        device=args.device,
        seed=args.seed,
        threads=threads_per_run(args.jobs) if args.device == "cpu" else 0,
    )
    store = Path(args.store).resolve()
    with _study_environment(store, spec):
        status = _run_grid(args.jobs, args.overseer or default_instruments(args.device))
        if status != 0:
            return status
        results = rate_runs(store, spec, games=args.games, device=args.device, seed=args.seed)
    _report(store, results, args.bootstrap, args.seed)
    return 0


def _check_choices(sizes: list[int], presets: list[str]) -> None:
    from .network import PRESETS

    unknown = [preset for preset in presets if preset not in PRESETS]
    if unknown:
        message = f"unknown preset {', '.join(unknown)}: use some of {', '.join(PRESETS)}"
        raise RLBenchError(message)
    small = [size for size in sizes if size < 2]
    if small:
        raise RLBenchError(f"board size {small[0]} is too small: use sizes of 2 or more")


def default_instruments(device: str) -> list[str]:
    """The standard instruments on every run, when they are installed.

    The train rate, the CPU load and memory every 5 s, and on CUDA the GPUs every 5 s: what
    `suite tui` shows of each run beside its losses.

    >>> default_instruments("cpu")  # with overseer-instruments installed
    ['--train-rate', '--cpu-monitor', '--cpu-monitor-interval=5']
    """
    if not instruments_installed():
        return []
    flags = ["--train-rate", "--cpu-monitor", "--cpu-monitor-interval=5"]
    if device.startswith("cuda"):
        flags += ["--gpu-monitor", "--gpu-monitor-interval=5"]
    return flags


def _require_xpmanager() -> None:
    try:
        import overseer_xpmanager  # noqa: F401  (only whether it imports)
    except ImportError:
        message = (
            "rl study runs its training as an xpmanager grid: pip install 'overseer-rlbench[study]'"
        )
        raise MissingExtraError(message) from None


@contextmanager
def _study_environment(store: Path, spec: StudySpec) -> Iterator[None]:
    """Point xpmanager at ``store`` and the grid at ``spec``, for this process and its runs."""
    saved = {key: os.environ.get(key) for key in ("OVERSEER_XP_DIR", STUDY_ENV)}
    os.environ["OVERSEER_XP_DIR"] = str(store)
    os.environ[STUDY_ENV] = spec.to_json()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


#: The exit status of a command stopped by Ctrl-C (128 + SIGINT).
INTERRUPTED = 130


def _run_grid(jobs: int, overseer_flags: list[str]) -> int:
    from overseer_xpmanager.cli import main as xp_main

    flags = [f"-O={flag}" for flag in overseer_flags]
    # A terminal redraws the table in place; a log gets a table every 15 s, not every second.
    minutes = "0.02" if sys.stdout.isatty() else "0.25"
    argv = ["-P", PROJECT, "grid", GRID, "-j", str(jobs), "-i", minutes, *flags]
    print(f"rl study: suite xp {' '.join(argv)}", flush=True)
    status = xp_main(argv)
    if status == INTERRUPTED:
        message = (
            "rl study: interrupted: finished runs are kept and running ones go on; "
            "run the same command again to wait for them and rate them"
        )
        print(message, file=sys.stderr, flush=True)
    elif status != 0:
        print(f"rl study: the grid ended with status {status}; nothing rated", flush=True)
    return status


def rate_runs(
    store: Path, spec: StudySpec, *, games: int, device: str, seed: int
) -> list[RunResult]:
    """Rate the latest checkpoint of every run of ``spec`` in ``store``, board size by size.

    Raises:
        RLBenchError: a run of the spec has no checkpoint (it failed: see ``suite xp info``).
    """
    from ._study_arena import rate_size

    runs = list(_finished_runs(store, spec))
    results: list[RunResult] = []
    for size in spec.sizes:
        mine = [run for run in runs if run["size"] == size]
        results += rate_size(size, mine, games=games, device=device, seed=seed)
    return results


def _finished_runs(store: Path, spec: StudySpec) -> Iterator[dict[str, Any]]:
    from overseer_xpmanager.grid import plan_grid
    from overseer_xpmanager.project import load_explorer, load_main
    from overseer_xpmanager.store import Store

    from .checkpoint import latest_checkpoint

    plan = plan_grid(load_main(PROJECT), load_explorer(PROJECT, GRID))
    xp_store = Store(store)
    for item in plan.items:
        xp = item.xp(xp_store)
        found = latest_checkpoint(xp.folder)
        if found is None:
            message = (
                f"run {xp.sig} ({' '.join(xp.argv)}) has no checkpoint in {xp.folder}: see "
                f"`OVERSEER_XP_DIR={store} suite xp -P {PROJECT} info {xp.sig} -l`"
            )
            raise RLBenchError(message)
        rate = median_train_rate(xp.events_path)
        yield {**xp.config, "sig": xp.sig, "alias": xp.alias, "checkpoint": found, "rate": rate}


def median_train_rate(events: Path) -> float | None:
    """The median of the train rates in an XP's ``events.jsonl``, ``None`` without any.

    A line that is not JSON (a run killed while writing it) is skipped.
    """
    import statistics

    rates: list[float] = []
    if not events.is_file():
        return None
    with events.open(encoding="utf-8") as lines:
        for line in lines:
            if '"rate"' not in line:
                continue
            try:
                data = json.loads(line).get("data")
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("task") == "train" and "rate" in data:
                rates.append(float(data["rate"]))
    return statistics.median(rates) if rates else None


def _report(store: Path, results: list[RunResult], bootstrap: int, seed: int) -> None:
    from ._study_report import fit_and_draw, results_table

    print(results_table(results))
    summary = fit_and_draw(store, results, bootstrap=bootstrap, seed=seed)
    document = {"runs": [asdict(result) for result in results], **summary}
    path = store / "study.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)
    print(f"rl study: results in {path}")
    print(f"rl study: {_how_to_watch(store)}")


def _how_to_watch(store: Path) -> str:
    """The command that shows the study's runs: the monitor when one is installed."""
    from importlib.metadata import entry_points

    if any(point.name == "tui" for point in entry_points(group="overseer.commands")):
        return f"watch the runs with `suite tui {store}`"
    return f"see the runs with `OVERSEER_XP_DIR={store} suite xp -P {PROJECT} info`"
