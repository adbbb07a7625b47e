"""A loop paced by sleep that gives its steps the three ways, with its own timestamps.

    rates_paced.py step|delta|wrap --steps 40 --period 0.01 --warmup 4 --warmup-period 0.04

Every step record carries ``t`` (``time.perf_counter()`` when the step ended), and a record
``returned`` follows it: when its ``give`` returned. Each wrap block is followed by a record of
``items``, ``inside`` (the seconds read inside the block) and ``around`` (read around the
``with``). An instrument's clock readings fall between these readings of the script's, whatever
the load of the machine. Warm-up steps are slower.
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
        entered = time.perf_counter()
        with give.wrap("step", batch=batch):
            began = time.perf_counter()
            time.sleep(period)
            ended = time.perf_counter()
        left = time.perf_counter()
        give(items=len(batch), inside=ended - began, around=left - entered)
        time.sleep(period / 2)  # outside the block: not part of the rate
        continue
    time.sleep(period)
    now = time.perf_counter()
    if args.method == "step":
        give(step=step, batch=batch, t=now)
        give(returned=time.perf_counter())
    else:
        give(delta=now - previous, batch=batch, t=now)
    previous = now
