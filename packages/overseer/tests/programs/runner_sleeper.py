"""Says it is ready, then sleeps; with `ignore-term` it ignores SIGTERM first."""

import signal
import sys
import time

if "ignore-term" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(60)
