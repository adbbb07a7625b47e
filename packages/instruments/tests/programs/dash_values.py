"""A short loop giving numbers, a progress, a text, a long list and an array, then ending."""

import time

from overseer import give


class Array:
    """What the panel reads of a tensor or an array: its type, shape and dtype."""

    shape = (64, 3)
    dtype = "float32"


for step in range(30):
    give(loss=1.0 / (step + 1), step=step, progress=(step + 1, 30), phase="warm")
    give(sizes=list(range(20)), weights=Array())
    if step % 10 == 0:
        print(f"step {step}", flush=True)
    time.sleep(0.02)
print("done")
