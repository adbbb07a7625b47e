"""The overhead of ``--monitor-all`` on a CPU training loop, beside voir's ``monitor_all``.

    python benchmarks/monitors/run.py            # about 5 minutes on 2 cores
    python benchmarks/monitors/run.py --quick    # a smoke run; RESULTS.md is left alone

Each round runs ``train.py`` (a small torch MLP on the CPU, timing its own loop) four ways:
under ``overseer`` with and without ``--monitor-all``, and under ``voir`` with and without its
``monitor_all``, both sampling every second and writing their records to the data fd. The
overhead of one round is the loop time with the monitors over the loop time without, minus
one; the section gives the median and range over rounds. It also times one sample of each
monitor in each peer's process (``sample_cost.py``). voir runs in ``.bench/venv-voir`` (made
by ``benchmarks/overseer/venvs.py``); the overseer side runs in this interpreter, which must
hold overseer-instruments. Raw numbers go to ``.bench/monitors-results.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/results.py
sys.path.insert(0, str(HERE.parent / "overseer"))  # benchmarks/overseer/venvs.py

from results import describe_machine, machine, publish, spread  # noqa: E402
from venvs import BENCH_DIR, Venv, voir_venv  # noqa: E402

TITLE = "monitors: --monitor-all overhead"
WRITER = "benchmarks/monitors/run.py"
TRAIN = HERE / "train.py"
VOIRFILE = HERE / "voirfiles" / "voir_monitor_all.py"
RAW_RESULTS = BENCH_DIR / "monitors-results.json"
INTERVAL = 1.0  # the overseer's default; voir's is 10 s, set to the same here
GOAL = 0.01  # the overhead the overseer's monitors should stay under
# Other work on a shared machine swamps a 1% effect: each run waits (at most PATIENCE
# seconds) for the CPUs to be less than QUIET busy.
QUIET = 0.15
PATIENCE = 60.0
# A round counts only if other work used fewer CPUs than this, on average, during both runs.
OTHERS_LIMIT = 0.1
# Variables that would steer a launcher or the workload behind the benchmark's back.
SCRUBBED = ("VOIRFILE", "DATA_FD", "BENCH_STEPS", "BENCH_TORCH_PATH", "BENCH_INTERVAL")


class RunFailed(RuntimeError):
    """A run exited badly, printed no result, or wrote no monitor record."""


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; return 1 if a run failed, else 0."""
    options = _parse(argv)
    began = time.perf_counter()
    voir = voir_venv(options.python)
    workdir = BENCH_DIR / "monitors-work"
    workdir.mkdir(parents=True, exist_ok=True)
    torch_path = _torch_path()
    steps = _calibrate(options.loop_seconds, torch_path, workdir)
    commands = _commands(voir)
    try:
        runs, workload = _rounds(commands, options, steps, torch_path, workdir)
    except RunFailed as failure:
        print(f"bench: {failure}", file=sys.stderr)
        return 1
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": time.perf_counter() - began,
        "machine": describe_machine(machine()),
        "voir": voir.versions,
        "workload": workload,
        "steps": steps,
        "rounds": options.rounds,
        "runs": runs,
        "sample_us": _sample_costs(voir, options.sample_calls, workdir),
    }
    publish(TITLE, WRITER, render(results), results, RAW_RESULTS, write=options.write)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the Python voir's venv uses")
    parser.add_argument("--rounds", type=int, default=9, help="rounds of the four runs")
    parser.add_argument("--loop-seconds", type=float, default=5.0, help="timed loop length")
    parser.add_argument("--sample-calls", type=int, default=200, help="samples per timing")
    parser.add_argument(
        "--patience", type=float, default=PATIENCE, help="most seconds to wait for quiet CPUs"
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run, not written")
    parser.add_argument("--no-write", dest="write", action="store_false", default=None)
    options = parser.parse_args(argv)
    if options.quick:
        options.rounds, options.loop_seconds, options.sample_calls = 1, 1.0, 20
        options.patience = 0.0
    if options.write is None:
        options.write = not options.quick
    return options


def _torch_path() -> str | None:
    """The folder holding this interpreter's torch, lent to voir's venv, which has none."""
    try:
        import torch
    except ImportError:
        return None
    return str(Path(torch.__file__).resolve().parents[1])


def _commands(voir: Venv) -> dict[str, tuple[list[str], str]]:
    """Each variant's command and its ``$VOIRFILE`` (empty: no voirfile)."""
    train = str(TRAIN)
    return {
        "overseer/off": ([sys.executable, "-m", "overseer", train], ""),
        "overseer/on": ([sys.executable, "-m", "overseer", "--monitor-all", train], ""),
        "voir/off": ([str(voir.command("voir")), train], ""),
        "voir/on": ([str(voir.command("voir")), train], str(VOIRFILE)),
    }


def _environment(voirfile: str, steps: int, torch_path: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    # Set, even empty, $VOIRFILE stops both launchers from searching parent folders.
    env.update(VOIRFILE=voirfile, BENCH_STEPS=str(steps), BENCH_INTERVAL=str(INTERVAL))
    if torch_path is not None:
        env["BENCH_TORCH_PATH"] = torch_path
    return env


def _calibrate(seconds: float, torch_path: str | None, workdir: Path) -> int:
    """The number of steps that takes about ``seconds`` in plain ``python``."""
    probe_steps = 50
    env = _environment("", probe_steps, torch_path)
    # The faster of two: the first run after a while also pays for cold caches.
    loop = min(_run([sys.executable, str(TRAIN)], env, workdir, None)["loop_s"] for _ in "ab")
    return max(probe_steps, round(seconds / (float(loop) / probe_steps)))


def _rounds(
    commands: dict[str, tuple[list[str], str]],
    options: argparse.Namespace,
    steps: int,
    torch_path: str | None,
    workdir: Path,
) -> tuple[dict[str, list[dict[str, float]]], str]:
    """Run every variant once a round, in an order that alternates; each run's figures."""
    runs: dict[str, list[dict[str, float]]] = {key: [] for key in commands}
    workloads = set()
    keys = list(commands)
    for number in range(options.rounds):
        # A/B, then B/A: drift of the machine lands on both sides of each pair.
        order = keys if number % 2 == 0 else [*reversed(keys[:2]), *reversed(keys[2:])]
        for key in order:
            command, voirfile = commands[key]
            env = _environment(voirfile, steps, torch_path)
            busy_before = _wait_for_quiet(patience=options.patience)
            others = _others_meter()
            result = _run_checked(key, command, env, workdir)
            runs[key].append(
                {
                    "loop_s": result["loop_s"],
                    "cpu_s": result["cpu_s"],
                    "busy_before": busy_before,
                    "others": others(),
                }
            )
            workloads.add(result["workload"])
            print(f"bench: round {number + 1} {key}: {result['loop_s']:.3f} s", file=sys.stderr)
    return runs, "/".join(sorted(workloads))


def _others_meter() -> Callable[[], float]:
    """Start counting the CPU time other work uses; the call returned says how many CPUs,
    on average since the start: the machine's busy time less that of this one's children.
    """
    import resource

    import psutil

    def busy() -> float:
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        counted_twice = getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
        return float(sum(times)) - idle - counted_twice

    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    start, busy_start, children_start = time.monotonic(), busy(), children()

    def others() -> float:
        elapsed = time.monotonic() - start
        used = (busy() - busy_start) - (children() - children_start)
        return max(0.0, used) / elapsed

    return others


def _wait_for_quiet(threshold: float = QUIET, patience: float = PATIENCE) -> float:
    """Wait until other work leaves the CPUs mostly idle; return how busy they were."""
    import psutil

    deadline = time.monotonic() + patience
    while True:
        busy = psutil.cpu_percent(interval=1.0) / 100
        if busy < threshold or time.monotonic() > deadline:
            return busy


def _run_checked(key: str, command: list[str], env: dict[str, str], workdir: Path) -> Any:
    with tempfile.TemporaryFile(dir=workdir) as data:
        result = _run(command, env, workdir, data.fileno())
        data.seek(0)
        written = data.read().count(b'"cpudata"')
    if key.endswith("/on") and written == 0:
        raise RunFailed(f"{key}: no cpudata record reached the data fd")
    if key.endswith("/off") and written:
        raise RunFailed(f"{key}: cpudata records with the monitors off")
    return result


def _run(command: list[str], env: dict[str, str], workdir: Path, data_fd: int | None) -> Any:
    if data_fd is not None:
        env = {**env, "DATA_FD": str(data_fd)}
    fds = (data_fd,) if data_fd is not None else ()
    done = subprocess.run(
        command, cwd=workdir, env=env, pass_fds=fds, capture_output=True, text=True, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RunFailed(f"{' '.join(command)} exited {done.returncode}: {last}")
    return json.loads(lines[-1])


def _sample_costs(voir: Venv, calls: int, workdir: Path) -> dict[str, Any]:
    script = str(HERE / "sample_cost.py")
    costs = {}
    for peer, python in (("overseer", sys.executable), ("voir", str(voir.python))):
        done = subprocess.run(
            [python, script, peer, str(calls)],
            cwd=workdir,
            capture_output=True,
            text=True,
            check=True,
        )
        costs[peer] = json.loads(done.stdout.strip().splitlines()[-1])
    return costs


def _verdict(overheads: list[float], runs: dict[str, list[dict[str, Any]]]) -> str:
    """Met, missed, or not resolved when the A/A pair's noise holds the median overhead."""
    median = spread(overheads)[0]
    if median < GOAL:
        return "met"
    noise = _overheads(
        [run["loop_s"] for run in runs["voir/off"]],
        [run["loop_s"] for run in runs["overseer/off"]],
    )
    if min(noise) <= median <= max(noise):
        return "not resolved (inside the A/A noise; see the sample cost below)"
    return "missed"


def render(results: dict[str, Any]) -> str:
    """The section's Markdown."""
    runs = results["runs"]
    rows, kept_notes = [], []
    for peer, monitors in (
        ("overseer", "`--monitor-all`: gpu, cpu, io, net, process"),
        ("voir", "`monitor_all(poll_interval=1)`: gpu, cpu, io, net"),
    ):
        pairs = _quiet_pairs(runs[f"{peer}/off"], runs[f"{peer}/on"])
        kept_notes.append(f"{peer} {len(pairs)} of {results['rounds']}")
        if not pairs:
            rows.append(f"| {peer} | {monitors} | no quiet round | | | | |")
            continue
        off, on = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
        wall = _overheads([run["loop_s"] for run in off], [run["loop_s"] for run in on])
        cpu = _overheads([run["cpu_s"] for run in off], [run["cpu_s"] for run in on])
        goal = f"< {GOAL:.0%}: {_verdict(wall, runs)}" if peer == "overseer" else "(peer)"
        rows.append(
            f"| {peer} | {monitors} | {_seconds([run['loop_s'] for run in off])}"
            f" | {_seconds([run['loop_s'] for run in on])} | {_percent(wall)}"
            f" | {_percent(cpu)} | {goal} |"
        )
    others = spread([run["others"] for key in runs for run in runs[key]])
    same = _overheads(
        [run["loop_s"] for run in runs["voir/off"]],
        [run["loop_s"] for run in runs["overseer/off"]],
    )
    return "\n".join(
        [
            "## monitors: `--monitor-all` overhead",
            "",
            f"Run on {results['date']} ({results['duration_s']:.0f} s for the whole benchmark).",
            f"Machine: {results['machine']}.",
            f"voir side: {_versions(results['voir'])}. Workload: `{results['workload']}`,"
            f" {results['steps']} timed steps a run, {results['rounds']} rounds. Other work on"
            f" the machine during a run: median {others[0]:.2f} CPUs, at most {others[2]:.2f};"
            f" rounds kept (other work under {OTHERS_LIMIT} CPUs in both runs of the pair):"
            f" {', '.join(kept_notes)}.",
            "",
            "| peer | monitors, every 1 s | loop off, median [min-max] | loop on |"
            " overhead on the loop's time, median [min-max] | on the process's CPU time | goal |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"Noise: the same loop with no monitor, under `overseer` and under `voir` in the same"
            f" round (an A/A pair), differs by {_percent(same)}; differences inside that range"
            " are not resolved by this machine.",
            "",
            _cost_table(results["sample_us"]),
            "",
            METHOD,
        ]
    )


def _quiet_pairs(
    off: list[dict[str, float]], on: list[dict[str, float]]
) -> list[tuple[dict[str, float], dict[str, float]]]:
    """The rounds in which other work stayed under ``OTHERS_LIMIT`` during both runs."""
    return [
        (without, with_monitors)
        for without, with_monitors in zip(off, on, strict=True)
        if max(without["others"], with_monitors["others"]) < OTHERS_LIMIT
    ]


def _cost_table(costs: dict[str, dict[str, list[float]]]) -> str:
    lines = [
        "One sample, read in the sampling process (microseconds, median [min-max] of 5 rounds):",
        "",
        "| monitor | overseer | voir |",
        "| --- | --- | --- |",
    ]
    for name in ("cpu", "io", "net", "process", "gpu"):
        cells = [_micro(costs[peer].get(name)) for peer in ("overseer", "voir")]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    totals = [
        sum(spread(figures)[0] for figures in costs[peer].values()) for peer in ("overseer", "voir")
    ]
    lines.append(
        f"| all, per {INTERVAL:g} s interval | {totals[0]:.0f} us: {_core_share(totals[0])}"
        f" | {totals[1]:.0f} us: {_core_share(totals[1])} |"
    )
    return "\n".join(lines)


def _core_share(microseconds: float) -> str:
    return f"{microseconds / 1e6 / INTERVAL:.2%} of one CPU"


def _overheads(off: list[float], on: list[float]) -> list[float]:
    """Each round's ratio with the monitors over without, minus one."""
    return [with_monitors / without - 1 for without, with_monitors in zip(off, on, strict=True)]


def _seconds(values: list[float]) -> str:
    median, low, high = spread(values)
    return f"{median:.3f} s [{low:.3f}-{high:.3f}]"


def _percent(values: list[float]) -> str:
    median, low, high = spread(values)
    return f"{median:+.2%} [{low:+.2%} to {high:+.2%}]"


def _micro(values: list[float] | None) -> str:
    if not values:
        return "not run (none here)"
    median, low, high = spread(values)
    return f"{median:.0f} us [{low:.0f}-{high:.0f}]"


def _versions(versions: dict[str, str]) -> str:
    return ", ".join(f"{name} {version}" for name, version in versions.items())


METHOD = """Method:

- `train.py` trains a three-layer MLP (256-1024-1024-10, batch 128, SGD) on the CPU with
  torch's default threads, and times its own loop with `time.perf_counter` after 20
  warm-up steps; the step count is calibrated once so that a loop lasts about 5 s in plain
  `python`. The monitors start before the loop, so their set-up is outside the timed part.
- A round runs four fresh processes: `overseer train.py`, `overseer --monitor-all train.py`,
  `voir train.py`, and `voir train.py` with a voirfile requiring voir's
  `monitor_all(poll_interval=1)` and writing its records to the data fd, as the overseer's
  monitors do. Odd rounds run each pair in the other order. `$DATA_FD` names a file; every
  run with monitors must have written `cpudata` records, every run without none.
- Overhead of a round = loop time with the monitors / loop time without (same peer, same
  round) - 1; the table gives the median and range over rounds, for the loop's wall time
  and for the CPU time the whole process used during the loop (`time.process_time`: every
  thread, the samplers' included). Both sample every 1 s (voir's default is 10 s); voir's
  `monitor_all` has no process monitor. The A/A pair (`overseer/off` against `voir/off`,
  the same loop) shows how far two runs differ with nothing changed.
- On a shared machine, other work swamps a 1% effect. Before each run the benchmark waits
  (up to 60 s) for the CPUs to be less than 15% busy; during each run it counts the CPU
  time the machine spent outside the run (busy time from psutil less the run's own, from
  `getrusage`), and a round's pair counts only if that stayed under 0.1 CPUs on average in
  both runs. Every run is in `.bench/monitors-results.json`.
- The overseer side runs in the interpreter running the benchmark; voir 0.2.24 in
  `.bench/venv-voir` (from PyPI, `benchmarks/overseer/venvs.py`), with the same torch lent
  through `sys.path`. Without a GPU (or nvidia-ml-py) the overseer's GPU monitor is off and
  voir's reports an empty dict: the GPU side is not measured here.
- One sample: `sample_cost.py` calls each monitor's sampling function 200 times a round,
  5 rounds, in each peer's environment: only the reading of the counters, not the give or
  the write that follow."""


if __name__ == "__main__":
    sys.exit(main())
