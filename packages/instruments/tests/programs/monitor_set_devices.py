"""Sets CUDA_VISIBLE_DEVICES to its argument once the GPU monitor has sampled, as a script may
before CUDA starts.

Then waits for two more samples (the second one read the new setting, whatever the load of
the machine) and prints ``done``.
"""

import os
import sys
import time

from monitor_until import wait_for

wait_for({"gpudata": 1})
os.environ["CUDA_VISIBLE_DEVICES"] = sys.argv[1]
# A sample stamped after this may have read the setting before the change: not the next one.
wait_for({"gpudata": 2}, after=time.time())
print("done")
