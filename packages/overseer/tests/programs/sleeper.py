"""Gives, says it is ready, then waits to be signalled."""

import sys
import time

from overseer import give

give(before=1)
try:
    print("ready", flush=True)
    time.sleep(60)
finally:
    print("cleanup ran", flush=True)
    sys.stdout.flush()
