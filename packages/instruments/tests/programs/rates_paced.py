"""A loop paced by sleep that gives its steps the three ways, with its own timestamps.

    rates_paced.py step|delta|wrap --steps 40 --period 0.01 --warmup 4 --warmup-period 0.04

Every record carries ``t`` (``time.perf_counter()`` when the step ended); wrap blocks carry
``t_begin`` and ``t_end``, read inside the block. Warm-up steps are slower.
"""

import argparse
import time

from overseer import give

parser = argparse.ArgumentParser()
parser.add_argument("method", choices=["step", "delta", "wrap"])
parser.add_argument("--steps", type=int, default=40)
parser.add_argument("--period", type=float, default=0.01)
parser.add_argument("--warmup", type=int, default=4)
parser.add_argument("--warmup-period", type=float, default=0.04)
parser.add_argument("--batch", type=int, default=8)
args = parser.parse_args()

batch = list(range(args.batch))
previous = time.perf_counter()
for step in range(args.steps):
    period = args.warmup_period if step < args.warmup else args.period
    if args.method == "wrap":
        with give.wrap("step", batch=batch) as extra:
            extra["t_begin"] = time.perf_counter()
            time.sleep(period)
            extra["t_end"] = time.perf_counter()
        time.sleep(period / 2)  # outside the block: not part of the rate
        continue
    time.sleep(period)
    now = time.perf_counter()
    if args.method == "step":
        give(step=step, batch=batch, t=now)
    else:
        give(delta=now - previous, batch=batch, t=now)
    previous = now
