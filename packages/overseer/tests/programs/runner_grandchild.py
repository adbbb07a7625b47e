"""Starts a grandchild that keeps our stdout open, prints its pid and exits at once."""

import subprocess
import sys

grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(grandchild.pid, flush=True)
