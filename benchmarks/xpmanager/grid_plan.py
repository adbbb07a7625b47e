"""Grid planning speed: how many XPs a second ``plan_grid`` turns a grid file into.

    python benchmarks/xpmanager/grid_plan.py            # prints one ``BENCH {json}`` line

The grid asks for 1,000 XPs (10 learning rates x 10 batch sizes x 10 seeds, on top of bound
epochs and a model) of an argparse project with 24 arguments, the size of a real training
script's parser. Each round plans the whole grid in this process: the launcher calls, the
command lines, the parse of each, its delta and signature. The result is the median of 5
rounds after one warm-up, with the fastest and slowest. A round that writes anything under
the store's root, or plans fewer than 1,000 distinct XPs, fails instead of looking fast.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from overseer_xpmanager.explore import Explorer, Launcher
from overseer_xpmanager.grid import plan_grid
from overseer_xpmanager.main import ArgparseMain, argparse_main

XPS = 1_000
ROUNDS = 5


def project_parser() -> argparse.ArgumentParser:
    """A training script's parser: optimisation, model, data, logging, flags."""
    parser = argparse.ArgumentParser()
    for name, value in [("lr", 0.1), ("momentum", 0.9), ("weight_decay", 1e-4), ("dropout", 0.1)]:
        parser.add_argument(f"--{name}", type=float, default=value)
    for name, value in [("epochs", 10), ("batch_size", 32), ("seed", 0), ("layers", 4)]:
        parser.add_argument(f"--{name}", type=int, default=value)
    for name, value in [("hidden", 256), ("warmup", 500), ("num_workers", 4), ("log_every", 50)]:
        parser.add_argument(f"--{name}", type=int, default=value)
    parser.add_argument("--grad_clip", type=float, default=None)
    parser.add_argument("--model", choices=["small", "base", "large"], default="base")
    parser.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], default="adam")
    parser.add_argument("--schedule", choices=["cosine", "step", "none"], default="cosine")
    parser.add_argument("--data", default="/datasets/imagenet")
    parser.add_argument("--checkpoint_every", type=int, default=1)
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--debug", action="store_true")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=False)
    return parser


def project_main(root: Path) -> ArgparseMain:
    """The project's decorated main, its store under ``root``."""

    @argparse_main(dir=root, parser=project_parser(), exclude=["num_workers", "log_every"])
    def main() -> None:
        pass

    return main


@Explorer
def explorer(launcher: Launcher) -> None:
    """1,000 XPs: 10 learning rates x 10 batch sizes x 10 seeds."""
    launcher.slurm_(gpus=1, partition="learnlab")
    launcher.bind_({"epochs": 40, "model": "large"}, "--amp")
    for lr in [0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 3e-4, 1e-4, 3e-5, 1e-5]:
        sub = launcher.bind(lr=lr)
        for batch_size in [16, 32, 48, 64, 96, 128, 192, 256, 384, 512]:
            for seed in range(10):
                sub(batch_size=batch_size, seed=seed)


def plan_seconds(main: ArgparseMain) -> float:
    """Seconds to plan the grid once, checked for its size."""
    start = time.perf_counter()
    plan = plan_grid(main, explorer)
    elapsed = time.perf_counter() - start
    if len(plan.items) != XPS:
        raise SystemExit(f"the grid planned {len(plan.items)} XPs, not {XPS}")
    return elapsed


def measure() -> dict[str, Any]:
    """Plan the grid ``ROUNDS`` times; XPs per second at the median, fastest and slowest."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "outputs"
        main = project_main(root)
        plan_seconds(main)
        seconds = [plan_seconds(main) for _ in range(ROUNDS)]
        if root.exists():
            raise SystemExit(f"planning wrote under {root}: it must write nothing")
    median = statistics.median(seconds)
    return {
        "benchmark": "xpmanager/grid_plan",
        "xps": XPS,
        "rounds": ROUNDS,
        "median_s": median,
        "xps_per_s": XPS / median,
        "fastest_xps_per_s": XPS / min(seconds),
        "slowest_xps_per_s": XPS / max(seconds),
    }


if __name__ == "__main__":
    print("BENCH " + json.dumps(measure()))
