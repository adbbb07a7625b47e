"""A training loop resumed at ``START`` samples: gives the samples seen so far at each step.

    stopping_samples.py START [PER_STEP]

It counts on from ``START`` (what a checkpoint would hold), ``PER_STEP`` (64) samples a
step, for at most 100 steps, then prints the samples it reached.
"""

import sys

from overseer import give

samples = int(sys.argv[1])
per_step = int(sys.argv[2]) if len(sys.argv) > 2 else 64
try:
    for step in range(100):
        samples += per_step
        give(step=step, samples=samples)
finally:
    print(f"samples reached: {samples}")
