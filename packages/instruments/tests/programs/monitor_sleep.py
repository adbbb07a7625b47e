"""Sleeps for the seconds given (0.5 by default), giving nothing, and prints how long it slept.

The last line of its output is ``slept SECONDS`` (``time.monotonic``, measured by the script).
"""

import sys
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
start = time.monotonic()
time.sleep(seconds)
print(f"slept {time.monotonic() - start:.6f}")
