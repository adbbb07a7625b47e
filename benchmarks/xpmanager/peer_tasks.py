"""What the benchmark times inside one process of a peer's environment; prints ``BENCH {json}``.

    cd .bench/xpmanager-work/overseer/grid && python peer_tasks.py --peer overseer plan argproj
    python peer_tasks.py --peer dora store argproj 10000    # an XP store, made by the API
    python peer_tasks.py --peer dora push argproj 2000      # push_metrics, one process

Run from a copy of ``projects/<peer>/``: the project package (``argproj`` or ``hydraproj``) is
imported from the current directory, as both ``dora`` and ``suite xp`` do, and its store is
``./outputs``. The same code drives both peers; where their APIs differ, the two calls sit
side by side in one function.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

HYDRA_PACKAGE = "hydraproj"
LEARNING_RATES = (0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 3e-4, 1e-4, 3e-5, 1e-5)
METRICS = {"train": {"loss": 0.51, "acc": 0.82}, "valid": {"loss": 0.63, "acc": 0.79}, "lr": 0.1}
BLOCK = 100  # pushes per timed block


def project_main(package: str) -> Any:
    """The decorated main of ``PACKAGE.train``, imported from the current directory."""
    sys.path.insert(0, str(Path.cwd()))
    return importlib.import_module(f"{package}.train").main


def xp_argv(package: str, index: int) -> list[str]:
    """The command line of the ``index``-th XP of a store: its own seed, one of ten rates."""
    values = {"lr": LEARNING_RATES[index % len(LEARNING_RATES)], "seed": index}
    if package == HYDRA_PACKAGE:
        return [f"{name}={value}" for name, value in values.items()]
    return [f"--{name}={value}" for name, value in values.items()]


def made_xp(peer: str, main: Any, argv: list[str]) -> Any:
    """The XP ``argv`` defines, with its folder made, as the peer's own run would make it."""
    xp = main.get_xp(argv)
    if peer == "dora":
        main.init_xp(xp)  # Dora's get_xp only computes; init_xp writes the folder
    return xp


def make_store(peer: str, package: str, count: int) -> dict[str, Any]:
    """Make ``count`` XPs in ``./outputs``; their first, middle and last signatures."""
    main = project_main(package)
    start = time.perf_counter()
    sigs = [made_xp(peer, main, xp_argv(package, index)).sig for index in range(count)]
    seconds = time.perf_counter() - start
    if len(set(sigs)) != count:
        raise SystemExit(f"{count} command lines gave {len(set(sigs))} signatures")
    return {"count": count, "seconds": seconds, "sigs": [sigs[0], sigs[count // 2], sigs[-1]]}


def plan(peer: str, package: str) -> dict[str, Any]:
    """Plan ``PACKAGE/grids/sweep.py`` twice in this process: seconds and XPs of each."""
    main = project_main(package)
    explorer = importlib.import_module(f"{package}.grids.sweep").explorer
    planner = _dora_plan if peer == "dora" else _overseer_plan
    rounds = []
    for _ in range(2):
        start = time.perf_counter()
        count = planner(main, explorer)
        rounds.append({"seconds": time.perf_counter() - start, "xps": count})
    return {"cold": rounds[0], "warm": rounds[1]}


def _overseer_plan(main: Any, explorer: Any) -> int:
    from overseer_xpmanager.grid import plan_grid

    return len(plan_grid(main, explorer).items)


def _dora_plan(main: Any, explorer: Any) -> int:
    # The planning half of dora.grid.run_grid, as it is written there: a pool of 4 processes
    # for a "slow" (hydra) main.
    from concurrent.futures import ProcessPoolExecutor

    from dora.explore import Herd, Launcher
    from dora.shep import Shepherd

    herd = Herd()
    shepherd = Shepherd(main, log=_quiet)
    slurm = main.get_slurm_config()
    if main._slow:
        with ProcessPoolExecutor(4) as pool:
            explorer(Launcher(shepherd, slurm, herd, pool=pool))
            herd.complete()
    else:
        explorer(Launcher(shepherd, slurm, herd))
    return len(herd.sheeps)


def _quiet(*args: Any) -> None:
    """Dora's log function, silenced; module-level, as Dora's pool pickles the shepherd."""


def push(peer: str, package: str, count: int) -> dict[str, Any]:
    """``count`` pushes into one fresh XP, after one untimed push into another XP."""
    main = project_main(package)
    warm_up, measured = (made_xp(peer, main, xp_argv(package, i)) for i in (0, 1))
    _pushes(peer, warm_up, 1)
    blocks = _pushes(peer, measured, count)
    history = _history(peer, measured)
    if len(history) != count or history[-1].get("step") != count - 1:
        raise SystemExit(f"pushed {count} entries, the history holds {len(history)}")
    return {"count": count, "seconds": sum(blocks), "block": BLOCK, "blocks": blocks}


def _pushes(peer: str, xp: Any, count: int) -> list[float]:
    if peer == "dora":
        with xp.enter():  # Dora's link writes only inside its XP context
            return _timed_pushes(xp, count)
    return _timed_pushes(xp, count)


def _timed_pushes(xp: Any, count: int) -> list[float]:
    blocks = []
    link = xp.link
    for first in range(0, count, BLOCK):
        start = time.perf_counter()
        for step in range(first, min(first + BLOCK, count)):
            link.push_metrics({"step": step, **METRICS})
        blocks.append(time.perf_counter() - start)
    return blocks


def _history(peer: str, xp: Any) -> list[dict[str, Any]]:
    if peer == "dora":
        history: list[dict[str, Any]] = json.loads(xp.history.read_text())
        return history
    return list(xp.link.history)


def main(argv: list[str] | None = None) -> None:
    """Run one task and print its ``BENCH`` line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=["dora", "overseer"], required=True)
    parser.add_argument("task", choices=["store", "plan", "push"])
    parser.add_argument("package", choices=["argproj", HYDRA_PACKAGE])
    parser.add_argument("count", type=int, nargs="?", default=1)
    options = parser.parse_args(argv)
    if options.task == "plan":
        found = plan(options.peer, options.package)
    elif options.task == "store":
        found = make_store(options.peer, options.package, options.count)
    else:
        found = push(options.peer, options.package, options.count)
    print("BENCH " + json.dumps({**found, "python": sys.version.split()[0]}), flush=True)


if __name__ == "__main__":
    main()
