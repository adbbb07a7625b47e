"""Times one tracing measure in this process and prints it as one ``BENCH {json}`` line.

    python bench_trace.py --case off-positional --n 200000 --rounds 5
    python bench_trace.py --case print --rounds 5

Per-call cases compare a function decorated with ``trace_func`` against the same function
undecorated, called by the same loop: the cost is the median time of the traced loop minus
the median time of the plain loop, over N. Both loops run in turns, after one warm-up round
of each. ``print`` times the first ``str(recorder.result())`` of a fresh 10,000-call trace,
as ``print(get_trace())`` does, and reports the median of the rounds (a new trace each).

Every case checks what it recorded (nothing while off; every call, with its arguments and
result, while on; a print under 200 lines): a case that loses calls fails instead of
looking fast.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from overseer_tracing import Recorder, get_trace, recording, trace_func

PRINT_CALLS = 10_000
PRINT_STAGES = ("dataset_getter", "collate", "evaluation")
MAX_PRINT_LINES = 200


def add(a: int, b: int) -> int:
    return a + b


traced_add = trace_func(stage_name="evaluation")(add)


def positional_loop(function: Callable[[int, int], int], n: int) -> None:
    for _ in range(n):
        function(1, 2)


def keyword_loop(function: Callable[[int, int], int], n: int) -> None:
    for _ in range(n):
        function(1, b=2)


def seconds(loop: Callable[[Callable[[int, int], int], int], None], function: Any, n: int) -> float:
    start = time.perf_counter()
    loop(function, n)
    return time.perf_counter() - start


def added_ns(loop: Callable[[Callable[[int, int], int], int], None], n: int, rounds: int) -> float:
    """Nanoseconds the traced function adds to one call of the plain one."""
    seconds(loop, add, n)
    seconds(loop, traced_add, n)
    plain, traced = [], []
    for _ in range(rounds):
        plain.append(seconds(loop, add, n))
        traced.append(seconds(loop, traced_add, n))
    return (statistics.median(traced) - statistics.median(plain)) / n * 1e9


def off(loop: Callable[[Callable[[int, int], int], int], None], n: int, rounds: int) -> float:
    ns = added_ns(loop, n, rounds)
    if get_trace() is not None:
        raise SystemExit("a call was recorded while no recording was active")
    return ns


def on(n: int, rounds: int, kept: bool) -> float:
    """Per captured call of ``add(1, 2)``, under a default recorder (cap 10,000 a stage).

    ``kept``: the calls fit under the cap, every one is kept; else most calls push an older
    one out of the recorder, as in a long traced run.
    """
    with recording() as recorder:
        ns = added_ns(positional_loop, n, rounds)
    stage = recorder.result()["evaluation"]
    expected = n * (rounds + 1)
    if stage.total != expected or (stage.dropped == 0) != kept:
        raise SystemExit(f"recorded {stage.total} calls of {expected}, {stage.dropped} dropped")
    last = stage[-1]
    shown = (last.params["a"].short(), last.params["b"].short(), str(last.result))
    if last.status != "ok" or shown != ("int 1", "int 2", "<Summary int 3>"):
        raise SystemExit(f"the last call was recorded as {last!r}")
    return ns


def traced_pipeline() -> Recorder:
    """A 10,000-call trace over three stages, each call with an int, a list and a result."""
    steps = [
        trace_func(stage_name=stage)(lambda index, batch: batch[-1] + index)
        for stage in PRINT_STAGES
    ]
    with recording(Recorder()) as recorder:
        for index in range(PRINT_CALLS):
            steps[index % len(steps)](index, [index, index + 1])
    return recorder


def print_ms(rounds: int) -> float:
    """The first print of a fresh trace, as a user sees it: nothing of it computed before."""
    times = []
    for _ in range(rounds + 1):  # the first round warms the code up, and is not counted
        recorder = traced_pipeline()
        start = time.perf_counter()
        text = str(recorder.result())
        times.append(time.perf_counter() - start)
        lines = len(text.splitlines())
        if lines >= MAX_PRINT_LINES or f"{PRINT_CALLS:,} calls" not in text:
            raise SystemExit(f"the print of {PRINT_CALLS:,} calls has {lines} lines:\n{text}")
    return statistics.median(times[1:]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    cases = ("off-positional", "off-keyword", "on-kept", "on-capped", "print")
    parser.add_argument("--case", choices=cases, required=True)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    if options.case == "off-positional":
        value = {"ns": off(positional_loop, options.n, options.rounds)}
    elif options.case == "off-keyword":
        value = {"ns": off(keyword_loop, options.n, options.rounds)}
    elif options.case.startswith("on-"):
        value = {"ns": on(options.n, options.rounds, kept=options.case == "on-kept")}
    else:
        value = {"ms": print_ms(options.rounds)}
    value["python"] = sys.version.split()[0]
    print("BENCH " + json.dumps(value), flush=True)


if __name__ == "__main__":
    main()
