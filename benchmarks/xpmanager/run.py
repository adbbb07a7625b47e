"""overseer-xpmanager against Dora 0.1.13, side by side in one run; writes its RESULTS.md section.

    python benchmarks/xpmanager/run.py            # about 5 minutes on 2 cores once the venvs exist
    python benchmarks/xpmanager/run.py --quick    # a smoke run; RESULTS.md is left alone

The first run makes two environments under ``.bench/`` (see ``peers.py``); the projects of
``projects/dora`` and ``projects/overseer`` are copied under ``.bench/xpmanager-work/`` and
every command runs in such a copy, so the stores they make stay there. The raw numbers of
the last run go to ``.bench/xpmanager-results.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/results.py

import commands  # noqa: E402
from commands import RunFailed  # noqa: E402
from peers import BENCH_DIR, Peer, dora_peer, overseer_peer, source_digest  # noqa: E402
from porting import project_differences  # noqa: E402
from report import TITLE, WRITER, render  # noqa: E402
from results import machine, publish  # noqa: E402

RAW_RESULTS = BENCH_DIR / "xpmanager-results.json"
WORK = BENCH_DIR / "xpmanager-work"
PROJECTS = HERE / "projects"
GRID_XPS = {"argproj": 1_000, "hydraproj": 200}


@dataclass(frozen=True)
class Job:
    """One kind of fresh process, run ``repeats`` times for each peer it names."""

    name: str
    repeats: int
    peers: tuple[str, ...]
    measure: Callable[[Peer], dict[str, float]]


class Bench:
    """The peers, their work folders and stores, and what was measured so far."""

    def __init__(self, options: argparse.Namespace, peers: dict[str, Peer]) -> None:
        self.options = options
        self.peers = peers
        self.sigs: dict[tuple[str, str], list[str]] = {}
        self.values: dict[str, dict[str, list[float]]] = {}
        self.errors: dict[str, dict[str, str]] = {}
        self.facts: dict[str, Any] = {"torch": {}, "store_seconds": {}}

    def folder(self, peer: Peer, name: str) -> Path:
        """``WORK/<peer>/<name>``: a copy of the peer's projects, made on first use."""
        folder = WORK / peer.name / name
        if not folder.exists():
            shutil.copytree(
                PROJECTS / peer.name, folder, ignore=shutil.ignore_patterns("__pycache__")
            )
        return folder

    def task(self, peer: Peer, folder: Path, *arguments: str) -> dict[str, Any]:
        """Run ``peer_tasks.py`` in ``folder`` with ``peer``'s Python; its ``BENCH`` answer."""
        command = [str(peer.python), str(HERE / "peer_tasks.py"), "--peer", peer.name]
        done = subprocess.run(
            [*command, *arguments],
            cwd=folder,
            env=commands.clean_environment(),
            capture_output=True,
            text=True,
            timeout=commands.TIMEOUT_S,
            check=False,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
        if done.returncode != 0 or not lines:
            why = commands.last_line(done.stderr + done.stdout)
            raise RunFailed(f"peer_tasks.py {' '.join(arguments)}: {why}")
        found: dict[str, Any] = json.loads(lines[-1].removeprefix("BENCH "))
        return found

    def make_stores(self) -> None:
        """Each peer's stores, by its API (not timed): one XP per project, and a large one."""
        stores = [("info-argproj", "argproj", 1), ("info-hydraproj", "hydraproj", 1)]
        stores.append(("big", "argproj", self.options.store_size))
        for peer in self.peers.values():
            for name, package, count in stores:
                found = self.task(peer, self.folder(peer, name), "store", package, str(count))
                self.sigs[peer.name, name] = found["sigs"]
                self.facts["store_seconds"].setdefault(name, {})[peer.name] = found["seconds"]

    # One method per job; each returns {row key: value in the row's unit}.

    def info(self, peer: Peer, package: str) -> dict[str, float]:
        """``info SIG`` on the project's store of one XP, the whole command."""
        name = f"info-{package}"
        sig = self.sigs[peer.name, name][0]
        seconds = self._info(peer, name, package, sig)
        return {name: seconds}

    def big_sig(self, peer: Peer) -> dict[str, float]:
        """``info SIG`` on the large store, for the XP made half-way through."""
        return {"big-sig": self._info(peer, "big", "argproj", self.sigs[peer.name, "big"][1])}

    def big_latest(self, peer: Peer) -> dict[str, float]:
        """``info -1`` on the large store (overseer-xpmanager only)."""
        arguments = ["-P", "argproj", "info", "-1"]
        seconds, output = commands.run(peer.command(*arguments), self.folder(peer, "big"))
        commands.check_names(output, self.sigs[peer.name, "big"][2])
        return {"big-latest": seconds}

    def _info(self, peer: Peer, folder: str, package: str, sig: str) -> float:
        seconds, output = commands.run(
            peer.command(*info_arguments(peer, package, sig)), self.folder(peer, folder)
        )
        commands.check_names(output, sig)
        return seconds

    def grid(self, peer: Peer, package: str) -> dict[str, float]:
        """``grid sweep --dry_run --no_monitoring``, the whole command."""
        arguments = ["-P", package, "grid", "sweep", "--dry_run", "--no_monitoring"]
        folder = self.folder(peer, f"grid-{package}")
        seconds, output = commands.run(peer.command(*arguments), folder)
        commands.check_grid(peer, output, GRID_XPS[package])
        return {f"grid-{package}": per_xp(package, seconds)}

    def plan(self, peer: Peer, package: str) -> dict[str, float]:
        """The grid planned twice in one process, through the peer's API."""
        found = self.task(peer, self.folder(peer, f"grid-{package}"), "plan", package)
        values = {}
        for when in ("cold", "warm"):
            if found[when]["xps"] != GRID_XPS[package]:
                raise RunFailed(f"planned {found[when]['xps']} XPs, not {GRID_XPS[package]}")
            values[f"plan-{package}-{when}"] = per_xp(package, found[when]["seconds"])
        return values

    def push(self, peer: Peer) -> dict[str, float]:
        """``push_metrics`` in one process, into a fresh store."""
        folder = self.folder(peer, "push")
        shutil.rmtree(folder / "outputs", ignore_errors=True)
        found = self.task(peer, folder, "push", "argproj", str(self.options.pushes))
        last = found["blocks"][-1] / min(found["block"], found["count"])
        return {"push-mean": found["seconds"] / found["count"] * 1e6, "push-last": last * 1e6}

    def check_torch(self) -> None:
        """Whether each ``info`` command imports torch: one more run under ``-X importtime``."""
        for peer in self.peers.values():
            for name, package, sig_index in [
                ("info-argproj", "argproj", 0),
                ("info-hydraproj", "hydraproj", 0),
                ("big", "argproj", 1),
            ]:
                sig = self.sigs[peer.name, name][sig_index]
                arguments = info_arguments(peer, package, sig)
                found = commands.imports_torch(peer, arguments, self.folder(peer, name))
                self.facts["torch"].setdefault(name, {})[peer.name] = found

    def dora_latest(self) -> str:
        """What Dora answers to ``info -f -1``: it has no selector for the latest XP."""
        dora = self.peers["dora"]
        command = dora.command("-P", "argproj", "info", "-f", "-1")
        try:
            commands.run(command, self.folder(dora, "big"))
        except RunFailed as error:
            return str(error)
        return "answered (no error)"

    def jobs(self) -> list[Job]:
        """Every job, with its repeats; peers run side by side within each repetition."""
        both = ("dora", "overseer")
        options = self.options
        return [
            Job("info-argproj", options.repeats, both, lambda p: self.info(p, "argproj")),
            Job("info-hydraproj", options.repeats, both, lambda p: self.info(p, "hydraproj")),
            Job("big-sig", options.repeats, both, self.big_sig),
            Job("big-latest", options.repeats, ("overseer",), self.big_latest),
            Job("grid-argproj", options.grid_repeats, both, lambda p: self.grid(p, "argproj")),
            Job("grid-hydraproj", options.grid_repeats, both, lambda p: self.grid(p, "hydraproj")),
            Job("plan-argproj", options.process_repeats, both, lambda p: self.plan(p, "argproj")),
            Job(
                "plan-hydraproj", options.process_repeats, both, lambda p: self.plan(p, "hydraproj")
            ),
            Job("push", options.process_repeats, both, self.push),
        ]

    def run_jobs(self) -> None:
        """Each repetition runs every job once per peer, the peers' order swapped each time."""
        jobs = self.jobs()
        for repetition in range(max(job.repeats for job in jobs)):
            for job in jobs:
                if repetition >= job.repeats:
                    continue
                order = job.peers if repetition % 2 == 0 else job.peers[::-1]
                for name in order:
                    self._run_once(job, self.peers[name])
            print(f"bench: repetition {repetition + 1} done", file=sys.stderr, flush=True)

    def _run_once(self, job: Job, peer: Peer) -> None:
        if peer.name in self.errors.get(job.name, {}):
            return
        try:
            found = job.measure(peer)
        except RunFailed as error:
            self.errors.setdefault(job.name, {})[peer.name] = str(error)
            print(f"bench: {job.name} ({peer.name}) failed: {error}", file=sys.stderr)
            return
        for key, value in found.items():
            self.values.setdefault(key, {}).setdefault(peer.name, []).append(value)


def info_arguments(peer: Peer, package: str, sig: str) -> list[str]:
    """``info`` of one XP by its signature: Dora takes it as ``-f SIG``, ours as ``SIG``."""
    selector = ["-f", sig] if peer.name == "dora" else [sig]
    return ["-P", package, "info", *selector]


def per_xp(package: str, seconds: float) -> float:
    """A grid's figure: XPs per second for the argparse grid, ms per XP for the hydra one."""
    if package == "hydraproj":
        return seconds * 1000 / GRID_XPS[package]
    return GRID_XPS[package] / seconds


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; return 1 if a measure failed, else 0."""
    options = _parse(argv)
    began = time.perf_counter()
    differences = project_differences(PROJECTS / "dora", PROJECTS / "overseer")
    peers = {"dora": dora_peer(options.python), "overseer": overseer_peer(options.python)}
    shutil.rmtree(WORK, ignore_errors=True)
    bench = Bench(options, peers)
    try:
        bench.make_stores()
        bench.check_torch()
        dora_latest = bench.dora_latest()
    except RunFailed as error:
        print(f"bench: could not prepare the stores: {error}", file=sys.stderr)
        return 1
    bench.run_jobs()
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": time.perf_counter() - began,
        "machine": machine(peers["overseer"].python_version),
        "versions": {name: peer.versions for name, peer in peers.items()},
        "digest": source_digest(),
        "settings": _settings(options),
        "values": bench.values,
        "errors": bench.errors,
        "facts": {**bench.facts, "dora_latest": dora_latest},
        "differences": differences,
    }
    publish(TITLE, WRITER, render(results), results, RAW_RESULTS, write=options.write)
    return 1 if bench.errors else 0


def _settings(options: argparse.Namespace) -> dict[str, Any]:
    names = ("repeats", "grid_repeats", "process_repeats", "pushes", "store_size")
    return {name: getattr(options, name) for name in names} | {"grid_xps": GRID_XPS}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the Python both venvs use")
    parser.add_argument("--repeats", type=int, default=7, help="runs of each info command")
    parser.add_argument("--grid-repeats", type=int, default=5, help="runs of each grid command")
    parser.add_argument(
        "--process-repeats", type=int, default=3, help="processes that plan or push"
    )
    parser.add_argument("--pushes", type=int, default=2_000, help="push_metrics calls")
    parser.add_argument("--store-size", type=int, default=10_000, help="XPs of the large store")
    parser.add_argument("--quick", action="store_true", help="a small smoke run, not written")
    parser.add_argument("--no-write", dest="write", action="store_false", default=None)
    options = parser.parse_args(argv)
    if options.quick:
        options.repeats, options.grid_repeats, options.process_repeats = 2, 1, 1
        options.pushes, options.store_size = 200, 300
    if options.write is None:
        options.write = not options.quick
    return options


if __name__ == "__main__":
    sys.exit(main())
