"""Sleeps, giving nothing, until the data stream holds what a test waits for, then says so.

    monitor_until.py NAME COUNT [NAME COUNT ...]

It waits until, for each NAME, the stream holds COUNT records with the key NAME or the event
NAME, however long the machine takes to sample them (30 s at most: then it ends anyway and
the test finds what is missing). It reads the stream back from the file ``$DATA_FD`` writes.
The last line of its output is ``slept SECONDS``, as for monitor_sleep.py.
"""

import os
import sys
import time

from overseer.stream import read_records

PATIENCE = 30.0


def stamps(name):
    """When each record of ``name`` written so far was stamped."""
    path = f"/proc/self/fd/{os.environ['DATA_FD']}"
    return [
        record["$t"]
        for record in read_records(path)
        if name in record or record.get("$event") == name
    ]


def wait_for(wanted, after=0.0):
    """Sleep until the stream holds, for each name, ``wanted[name]`` records stamped after
    ``after`` (a ``time.time()``); give up after PATIENCE seconds.
    """
    give_up = time.monotonic() + PATIENCE
    while time.monotonic() < give_up:
        if all(sum(t > after for t in stamps(name)) >= count for name, count in wanted.items()):
            return
        time.sleep(0.02)


if __name__ == "__main__":
    start = time.monotonic()
    pairs = sys.argv[1:]
    wait_for({name: int(count) for name, count in zip(pairs[::2], pairs[1::2], strict=True)})
    print(f"slept {time.monotonic() - start:.6f}")
