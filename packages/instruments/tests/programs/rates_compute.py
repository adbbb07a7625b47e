"""A loop whose compute part is marked by compute_start / compute_end records, or not at all.

``--marks`` gives the records; without it, a voirfile's wrapper probe marks the loop's body.
``--work S`` sets how long the compute part lasts, ``--steps N`` how many steps there are.

After each step, the loader gives a record of ``items``, ``inside`` (the seconds of the
compute part, read just around it) and ``around`` (from when the loader handed the batch over
to when the loop asked for the next one). However the compute part is marked, and whatever the
load of the machine, an instrument's span of a step lies between the two.
"""

import argparse
import time

from overseer import give

step = {}


def batches(count):
    for _ in range(count):
        time.sleep(0.005)  # loading: not compute
        batch = [0] * 6
        handed = time.perf_counter()
        yield batch
        back = time.perf_counter()
        give(items=len(batch), inside=step["inside"], around=back - handed)


def train(loader, marks, work):
    for inp in loader:
        if marks:
            give(compute_start=True)
        began = time.perf_counter()
        time.sleep(work)
        step["inside"] = time.perf_counter() - began
        if marks:
            give(compute_end=True, batch=inp)


parser = argparse.ArgumentParser()
parser.add_argument("--marks", action="store_true")
parser.add_argument("--work", type=float, default=0.01)
parser.add_argument("--steps", type=int, default=30)
args = parser.parse_args()
train(batches(args.steps), args.marks, args.work)
