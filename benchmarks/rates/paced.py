"""A loop paced by sleep, whose steps both peers measure; it keeps its own clock readings.

    python paced.py step|wrap --steps 91 --period 0.01 --batch 32 --out times.json

``step``: ``give(task="train", step=i, batch=batch)`` after each step (the time between two
records is a step). ``wrap``: each step inside ``give.wrap("step", task="train",
batch=batch)``, with as long a pause between blocks, which the rate must leave out. At the end
it writes its ``time.perf_counter()`` readings to ``--out``: ``{"t": [...]}`` (when each step
ended) or ``{"blocks": [[begin, end], ...]}`` (read first and last inside each block).
"""

import argparse
import json
import time

try:
    from overseer import give
except ImportError:  # voir's environment: voir listens to giving's give
    from giving import give


class Batch:
    """Stands for a tensor of ``size`` items: both peers read ``len()`` or ``shape[0]``."""

    def __init__(self, size):
        self.shape = (size, 3)

    def __len__(self):
        return self.shape[0]


parser = argparse.ArgumentParser()
parser.add_argument("method", choices=["step", "wrap"])
parser.add_argument("--steps", type=int, required=True)
parser.add_argument("--period", type=float, required=True)
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--out", required=True)
args = parser.parse_args()

batch = Batch(args.batch)
times = []
for step in range(args.steps):
    if args.method == "wrap":
        with give.wrap("step", task="train", batch=batch):
            began = time.perf_counter()
            time.sleep(args.period)
            times.append([began, time.perf_counter()])
        time.sleep(args.period)
    else:
        time.sleep(args.period)
        times.append(time.perf_counter())
        give(task="train", step=step, batch=batch)

with open(args.out, "w") as file:
    json.dump({"t" if args.method == "step" else "blocks": times}, file)
