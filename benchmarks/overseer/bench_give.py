"""Times ``give(x=1)`` in a loop and prints the cost of one call, in nanoseconds.

Run it plainly, under ``voir`` or under ``overseer``: the timing happens here, in the
process that gives, so the launcher's start-up is not part of it. The cost of one call is
the median time of a loop of N gives minus the median time of the same loop with an empty
body, divided by N; both loops are timed in turns, after one warm-up round of each.

The loops live in functions: voir runs a script's last statements at module level, where a
loop would pay for global lookups that no real training loop pays for.

    python bench_give.py --give giving --n 100000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any


def give(*args: Any, **values: Any) -> Any:
    """Replaced by the chosen library's ``give`` in :func:`main`."""
    raise NotImplementedError


def given_loop(n: int) -> None:
    for _ in range(n):
        give(x=1)


def empty_loop(n: int) -> None:
    for _ in range(n):
        pass


def seconds(loop: Callable[[int], None], n: int) -> float:
    start = time.perf_counter()
    loop(n)
    return time.perf_counter() - start


def cost_ns(n: int, rounds: int) -> float:
    """Nanoseconds one give adds to an empty loop iteration."""
    seconds(empty_loop, n)
    seconds(given_loop, n)
    empty, given = [], []
    for _ in range(rounds):
        empty.append(seconds(empty_loop, n))
        given.append(seconds(given_loop, n))
    return (statistics.median(given) - statistics.median(empty)) / n * 1e9


def choose_give(library: str) -> Callable[..., Any]:
    if library == "giving":
        from giving import give as giving_give

        return giving_give  # type: ignore[no-any-return]
    from overseer import give as overseer_give

    return overseer_give


def main() -> None:
    global give
    parser = argparse.ArgumentParser()
    parser.add_argument("--give", choices=["giving", "overseer"], required=True)
    parser.add_argument("--listen", choices=["none", "given"], default="none")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    give = choose_give(options.give)
    if options.listen == "given":
        from giving import given

        with given() as stream:
            stream.subscribe(lambda values: None)
            ns = cost_ns(options.n, options.rounds)
    else:
        ns = cost_ns(options.n, options.rounds)
    gives = options.n * (options.rounds + 1)
    print("BENCH " + json.dumps({"ns": ns, "gives": gives}), flush=True)


main()
