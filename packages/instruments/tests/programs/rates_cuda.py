"""A step loop under a stand-in torch whose CUDA synchronisation is recorded and takes 20 ms.

Gives use_cuda=True unless --no-cuda; at the end gives when each synchronisation ended
(``synchronized``) and when the ``give`` of each step returned (``returned``).
"""

import sys
import time
import types

from overseer import give

calls = []


def synchronize():
    time.sleep(0.02)  # the GPU finishing the work queued so far
    calls.append(time.perf_counter())  # when it was done


cuda = types.SimpleNamespace(is_available=lambda: True, synchronize=synchronize)
sys.modules["torch"] = types.SimpleNamespace(cuda=cuda)

if "--no-cuda" not in sys.argv:
    give(use_cuda=True)
returned = []
for step in range(12):
    time.sleep(0.005)
    give(step=step, batch=[0] * 4)
    returned.append(time.perf_counter())
give(synchronized=list(calls), returned=returned)
