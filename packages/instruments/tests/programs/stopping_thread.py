"""A background thread gives the steps while the main thread only waits for it."""

import threading
import time

from overseer import give

done = threading.Event()
given = []


def work():
    for step in range(100_000):
        if done.is_set():
            return
        given.append(step)
        give(step=step)
        time.sleep(0.001)


worker = threading.Thread(target=work, name="worker")
worker.start()
try:
    worker.join()
finally:
    done.set()
    worker.join()
    print(f"stopped in {threading.current_thread().name}, worker alive: {worker.is_alive()}")
    print(f"worker gave {len(given)} steps")
