"""Gives progress for two tasks, prints a line meanwhile, then says whether rich was loaded."""

import sys
import time

from overseer import give

for step in range(1, 41):
    give(task="train", progress=(step, 40))
    if step % 4 == 0:
        give(task="valid", progress=(step // 4, 10))
    if step == 20:
        print("halfway there")
    time.sleep(0.01)
give(task="malformed", progress="not a pair")
print(f"rich loaded: {'rich' in sys.modules}")
