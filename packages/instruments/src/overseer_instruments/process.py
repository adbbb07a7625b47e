"""The ``process_monitor`` instrument: the script's own process tree, every interval.

From the command line, ``--process-monitor`` (and ``--process-monitor-interval SECONDS``, 1
by default); from a voirfile::

    from overseer_instruments import process_monitor


    def instrument_main(ov):
        ov.require(process_monitor(interval=0.5))

From the start of the script to its end it gives, and writes to the data stream::

    {
        "process": {"pid": 4242, "cpu": 0.49, "rss": 734003200, "threads": 14, "children": 4},
        "task": "main",
    }

The tree is the overseer's process (the script runs in it) and all its descendants (a
DataLoader's workers, subprocesses...):

- ``pid``: the overseer's process;
- ``cpu``: the CPU time the whole tree used, as a fraction of every CPU of the machine
  (0 to 1: 1 is all logical CPUs busy for the whole window; one busy thread on an 8-CPU
  machine is 0.125), averaged over the time since the previous record;
- ``rss``: resident memory of the tree, in bytes, summed over its processes (a page shared
  between processes counts once for each);
- ``threads``: threads of the tree, summed over its processes;
- ``children``: descendants of the overseer's process, at every depth.

CPU time is read from the kernel's counters at each record, never by sleeping in the
sampler: a process's own time plus that of the children it has waited for, so a child that
ends between two records is still counted. A descendant psutil may not read is left out,
with one notice; a root that may not be read stops the monitor.

Units, in every monitor: bytes, fractions from 0 to 1, watts, degrees Celsius, seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from ._sampler import (
    DEFAULT_INTERVAL,
    Instrument,
    Sample,
    monitor_flags,
    notice,
    sampling_instrument,
)

__all__ = ["command_line", "process_monitor"]


def process_monitor(*, interval: float = DEFAULT_INTERVAL) -> Instrument:
    """An instrument giving ``process`` records every ``interval`` seconds.

    Args:
        interval: seconds between two records.

    Raises:
        ConfigurationError: ``interval`` is not a positive number.

    Example::

        ov.require(process_monitor(interval=0.5))
    """
    return sampling_instrument("process_monitor", "process", interval, _prepare)


def command_line(ov: Any) -> Iterator[Any]:
    """Sample the CPU, memory and threads of the script's process tree while it runs."""
    yield from monitor_flags(
        ov, "process-monitor", "the script's process tree (process records)", process_monitor
    )


class _Reading:
    """The tree at one moment: CPU seconds used so far, resident bytes, threads, children."""

    __slots__ = ("children", "cpu_seconds", "rss", "threads")

    def __init__(self, cpu_seconds: float, rss: int, threads: int, children: int) -> None:
        self.cpu_seconds = cpu_seconds
        self.rss = rss
        self.threads = threads
        self.children = children


def _prepare() -> Sample:
    import psutil

    tree = _Tree(psutil)
    cpus = psutil.cpu_count() or 1
    previous, then = tree.read(), time.monotonic()

    def sample() -> dict[str, Any]:
        nonlocal previous, then
        current, now = tree.read(), time.monotonic()
        used = max(0.0, current.cpu_seconds - previous.cpu_seconds)
        elapsed = max(now - then, 1e-9)
        previous, then = current, now
        return {
            "pid": tree.root.pid,
            "cpu": min(1.0, used / (elapsed * cpus)),
            "rss": current.rss,
            "threads": current.threads,
            "children": current.children,
        }

    return sample


class _Tree:
    """The overseer's process and its descendants, read through psutil."""

    def __init__(self, psutil: Any) -> None:
        self._psutil = psutil
        self.root = psutil.Process()
        self._denied_reported = False

    def read(self) -> _Reading:
        """One reading of the whole tree; raises when the root itself cannot be read."""
        descendants = self.root.children(recursive=True)
        cpu_seconds, rss, threads = self._read_one(self.root)
        for child in descendants:
            try:
                child_cpu, child_rss, child_threads = self._read_one(child)
            except self._psutil.NoSuchProcess:
                continue  # it ended since the list was made: its time is its parent's now
            except self._psutil.AccessDenied as denied:
                self._report_denied(child, denied)
                continue
            cpu_seconds += child_cpu
            rss += child_rss
            threads += child_threads
        return _Reading(cpu_seconds, rss, threads, len(descendants))

    def _read_one(self, process: Any) -> tuple[float, int, int]:
        with process.oneshot():
            times = process.cpu_times()
            used = times.user + times.system
            # Time of the children this process has waited for: a child that ended between
            # two readings leaves its live time here, so the tree's total never drops.
            used += getattr(times, "children_user", 0.0) + getattr(times, "children_system", 0.0)
            return used, process.memory_info().rss, process.num_threads()

    def _report_denied(self, process: Any, denied: BaseException) -> None:
        if not self._denied_reported:
            self._denied_reported = True
            notice(
                "process_monitor",
                f"psutil may not read process {process.pid} ({denied}); processes it may not"
                " read are left out of the tree",
            )
