"""Runs forever without giving anything: sleeping, spinning or blocked on a wait."""

import sys
import threading
import time

mode = sys.argv[1]
start = time.monotonic()
try:
    if mode == "sleep":
        while True:
            time.sleep(3600)
    elif mode == "spin":
        total = 0
        while True:
            total += 1
    else:
        threading.Event().wait()
finally:
    print(f"ran for {time.monotonic() - start:.3f} seconds")
