"""XP stores for the terminal measures, and the writer that keeps one streaming.

::

    python benchmarks/tui/xp_store.py make .bench/tui-work/live --runs 100
    python benchmarks/tui/xp_store.py make .bench/tui-work/done --runs 100 --finished
    python benchmarks/tui/xp_store.py write .bench/tui-work/live   # until killed

A store holds ``xps/<sig>/`` folders shaped like the XP manager's (``argv.json``,
``meta.json``, ``job.json``, ``events.jsonl``; compare ``rl-study/xps/*``). Every run starts
with ``HISTORY`` data entries, so a plot has something to draw. ``make --finished`` writes
runs that ended (job COMPLETED, an ``end`` entry) with their files dated an hour back, as a
store looks once its grid is done. ``write`` appends one data entry per run per second,
spread evenly over the second as unsynchronised runs would, until it is killed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any, TextIO

HISTORY = 300  # data entries every run holds before the writer starts
ADJECTIVES = ("calm", "brisk", "bold", "keen", "odd", "shy", "wry", "glad", "pale", "deft")
NOUNS = ("otter", "heron", "lynx", "moth", "finch", "newt", "vole", "wren", "hare", "crab")
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3)
BATCH_SIZES = (32, 64, 128, 256, 512)


def run_name(index: int) -> str:
    """The alias of run ``index``: short and unique up to 100 runs, then numbered.

    >>> run_name(0), run_name(11), run_name(100)
    ('calm-otter', 'brisk-heron', 'calm-otter1')
    """
    name = f"{ADJECTIVES[index % 10]}-{NOUNS[(index // 10) % 10]}"
    return name if index < 100 else f"{name}{index // 100}"


def run_sig(index: int) -> str:
    """A 12-hex-digit signature, stable for ``index``."""
    return hashlib.sha1(f"tui-bench-{index}".encode()).hexdigest()[:12]


def names(count: int) -> list[str]:
    """The aliases of a store of ``count`` runs, in creation order."""
    return [run_name(index) for index in range(count)]


def data_entry(step: int, t: float, pid: int, seed: int) -> dict[str, Any]:
    """A runner data entry: a step with a decaying noisy loss and a rising accuracy."""
    noise = random.Random(seed * 1_000_003 + step).gauss(0.0, 0.02)
    loss = 3.0 * math.exp(-step / 400) + 0.1 + noise
    accuracy = 1.0 - 0.9 * math.exp(-step / 300) + noise / 4
    data = {"step": step, "loss": loss, "accuracy": accuracy}
    return {"event": "data", "data": data, "pipe": None, "t": t, "pid": pid, "rank": 0}


def write_json(path: Path, value: dict[str, Any]) -> None:
    path.write_text(json.dumps(value, indent=1))


def make_run(folder: Path, index: int, *, now: float, finished: bool) -> None:
    """One XP folder whose history ends at ``now``."""
    folder.mkdir(parents=True)
    lr, batch = LEARNING_RATES[index % 4], BATCH_SIZES[(index // 4) % 5]
    argv = [f"--lr={lr}", f"--batch_size={batch}", f"--seed={index}"]
    config = {"lr": lr, "batch_size": batch, "seed": index, "epochs": 10}
    delta = {"lr": lr, "batch_size": batch, "seed": index}
    write_json(
        folder / "argv.json",
        {
            "argv": argv,
            "backend": "argparse",
            "config": config,
            "delta": delta,
            "package": "bench",
            "rule": 1,
        },
    )
    started = now - HISTORY - 5
    created = started - 1 + index * 1e-3
    write_json(folder / "meta.json", {"alias": run_name(index), "created": created})
    job = {
        "state": "COMPLETED" if finished else "RUNNING",
        "job_id": f"local-{index}",
        "executor": "local",
        "updated": now if finished else started,
    }
    if finished:
        job["returncode"] = 0
    write_json(folder / "job.json", job)
    pid = 100_000 + index
    lines = [
        {
            "event": "start",
            "data": {"argv": ["python", "train.py", *argv], "pid": pid},
            "pipe": None,
            "t": started,
            "index": 0,
        }
    ]
    lines += [data_entry(step, started + step, pid, index) for step in range(1, HISTORY + 1)]
    if finished:
        lines.append(
            {
                "event": "end",
                "data": {"returncode": 0, "duration": HISTORY + 1.0},
                "pipe": None,
                "t": now,
                "index": 0,
            }
        )
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (folder / "events.jsonl").write_text(text)


def make_store(root: Path, runs: int, *, finished: bool = False) -> list[str]:
    """A fresh store of ``runs`` XPs under ``root``; returns their signatures.

    Finished stores have every file dated an hour back: nothing in them changed lately.
    """
    xps = root / "xps"
    xps.mkdir(parents=True)
    now = time.time() - (3600 if finished else 0)
    sigs = [run_sig(index) for index in range(runs)]
    for index, sig in enumerate(sigs):
        make_run(xps / sig, index, now=now, finished=finished)
    if finished:
        for path in sorted(root.rglob("*"), reverse=True):
            os.utime(path, (now, now))
        os.utime(root, (now, now))
    return sigs


def stream(root: Path, rate: float = 1.0) -> None:
    """Append one data entry per run every ``1 / rate`` seconds, until killed.

    Writes follow a fixed schedule (run i at second k + i / runs), so a late write does not
    shift the ones after it; each line is flushed as a runner flushes it.
    """
    folders = sorted((root / "xps").iterdir(), key=lambda path: run_index(path))
    files: list[TextIO] = [(folder / "events.jsonl").open("a") for folder in folders]
    period = 1.0 / rate
    began = time.monotonic()
    wall = time.time()
    step = HISTORY
    while True:
        step += 1
        for index, handle in enumerate(files):
            due = began + (step - HISTORY - 1) * period + index * period / len(files)
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t = wall + (time.monotonic() - began)
            handle.write(json.dumps(data_entry(step, t, 100_000 + index, index)) + "\n")
            handle.flush()


def run_index(folder: Path) -> int:
    """The index a folder of :func:`make_store` was made for (its creation order)."""
    alias = json.loads((folder / "meta.json").read_text())["alias"]
    head, _, number = alias.partition("-")
    noun = number.rstrip("0123456789")
    hundreds = int(number[len(noun) :] or 0)
    return hundreds * 100 + NOUNS.index(noun) * 10 + ADJECTIVES.index(head)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make", help="a fresh store")
    make.add_argument("root", type=Path)
    make.add_argument("--runs", type=int, default=100)
    make.add_argument("--finished", action="store_true")
    write = commands.add_parser("write", help="stream into a store until killed")
    write.add_argument("root", type=Path)
    write.add_argument("--rate", type=float, default=1.0, help="entries per run per second")
    options = parser.parse_args(argv)
    if options.command == "make":
        make_store(options.root, options.runs, finished=options.finished)
    else:
        with contextlib.suppress(KeyboardInterrupt):
            stream(options.root, options.rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
