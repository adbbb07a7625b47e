"""Gives from a background thread and from the main thread."""

import threading

from overseer import give


def sample():
    for index in range(5):
        give(sampled=index)


thread = threading.Thread(target=sample)
thread.start()
thread.join()
give(main=1)
