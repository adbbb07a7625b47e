"""Starts a child process that burns 1 s of CPU, waits for it, and reports the CPU it measured.

Sleeps 0.4 s, runs the child while sleeping 0.6 s itself, waits for it, sleeps 0.4 s more.
Its last line is JSON: ``{"child_pid": int, "cpu_seconds": float}``, the CPU time of the
script and of its waited-for children between the first and the last sleep (``os.times``).
"""

import json
import os
import subprocess
import sys
import time

BURN = """
import time
start = time.process_time()
while time.process_time() - start < 1.0:
    pass
"""


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


time.sleep(0.4)
before = cpu_seconds()
child = subprocess.Popen([sys.executable, "-c", BURN])
time.sleep(0.6)
child.wait()
time.sleep(0.4)
used = cpu_seconds() - before
print(json.dumps({"child_pid": child.pid, "cpu_seconds": used}))
