"""A loop whose compute part is marked by compute_start / compute_end records, or not at all.

``--marks`` gives the records; without it, a voirfile's wrapper probe marks the loop's body.
Each step gives ``span``, the seconds its body took by the script's own clock; ``--work S``
sets how long the compute part lasts, ``--steps N`` how many steps there are.
"""

import argparse
import time

from overseer import give


def batches(count):
    for _ in range(count):
        time.sleep(0.005)  # loading: not compute
        yield [0] * 6


def train(loader, marks, work):
    for inp in loader:
        began = time.perf_counter()
        if marks:
            give(compute_start=True)
        time.sleep(work)
        give(span=time.perf_counter() - began, items=len(inp))
        if marks:
            give(compute_end=True, batch=inp)


parser = argparse.ArgumentParser()
parser.add_argument("--marks", action="store_true")
parser.add_argument("--work", type=float, default=0.01)
parser.add_argument("--steps", type=int, default=30)
args = parser.parse_args()
train(batches(args.steps), args.marks, args.work)
