"""Sets CUDA_VISIBLE_DEVICES to its argument after 0.3 s, as a script may before CUDA starts.

Then sleeps 0.4 s more and prints ``done``.
"""

import os
import sys
import time

time.sleep(0.3)
os.environ["CUDA_VISIBLE_DEVICES"] = sys.argv[1]
time.sleep(0.4)
print("done")
