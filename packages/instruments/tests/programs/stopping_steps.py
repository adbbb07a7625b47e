"""Gives step=0..COUNT-1 (1000 by default), then prints the last step it gave."""

import sys
import time

from overseer import give

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
pause = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
last = None
try:
    for step in range(count):
        last = step
        give(step=step, loss=1 / (step + 1))
        if pause:
            time.sleep(pause)
finally:
    print(f"last step given: {last}")
