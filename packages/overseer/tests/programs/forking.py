"""Gives from a forked worker, as a DataLoader worker does."""

import os

from overseer import give

give(parent=1)
pid = os.fork()
if pid == 0:
    give(child=os.getpid())
    os._exit(0)
os.waitpid(pid, 0)
give(parent=2)
