"""Times a loop whose assignment ``x = i * 2`` is probed, and prints the cost per assignment.

The voirfile probes ``//f > x``; ``g`` is the same loop, not probed. The cost of one probed
assignment is the median time of ``f(N)`` minus the median time of ``g(N)``, divided by N,
both timed in turns in this process after one warm-up call each.

    overseer bench_probe.py --n 20000 --rounds 5   # with VOIRFILE=voirfiles/probe_x.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable


def f(n: int) -> None:
    for i in range(n):
        x = i * 2  # noqa: F841 - the probed assignment


def g(n: int) -> None:
    for i in range(n):
        x = i * 2  # noqa: F841 - the same assignment, not probed


def seconds(function: Callable[[int], None], n: int) -> float:
    start = time.perf_counter()
    function(n)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    n = options.n
    seconds(g, n)
    seconds(f, n)
    plain, probed = [], []
    for _ in range(options.rounds):
        plain.append(seconds(g, n))
        probed.append(seconds(f, n))
    ns = (statistics.median(probed) - statistics.median(plain)) / n * 1e9
    print("BENCH " + json.dumps({"ns": ns, "gives": n * (options.rounds + 1)}), flush=True)


main()
