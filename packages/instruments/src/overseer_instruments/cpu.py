"""The ``cpu_monitor`` instrument: the machine's CPU load and memory, every interval.

From the command line, ``--cpu-monitor`` (and ``--cpu-monitor-interval SECONDS``, 1 by
default); from a voirfile::

    from overseer_instruments import cpu_monitor


    def instrument_main(ov):
        ov.require(cpu_monitor(interval=0.5))

From the start of the script to its end it gives, and writes to the data stream::

    {
        "cpudata": {"load": 0.52, "per_cpu": [0.61, 0.43], "memory": [3120562176, 25276514304]},
        "task": "main",
    }

- ``load``: the busy fraction of all CPUs together, from 0 to 1;
- ``per_cpu``: the busy fraction of each logical CPU, from 0 to 1;
- ``memory``: ``[used, total]`` bytes of the machine's memory, ``used`` being what is not
  available to new processes (total minus available).

Loads are averages over the time since the previous record, computed from the kernel's CPU
time counters (so a script calling ``psutil.cpu_percent()`` itself is not disturbed). The
first record's window runs from ``parse_args`` to the script's start, often a few clock
ticks only: its loads are coarse; a window in which the clock did not tick reads 0.0, as in
psutil. The record's time is its ``$t``.

Units, in every monitor: bytes, fractions from 0 to 1, watts, degrees Celsius, seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ._sampler import (
    DEFAULT_INTERVAL,
    Instrument,
    Sample,
    monitor_flags,
    sampling_instrument,
)

__all__ = ["command_line", "cpu_monitor"]

# CPU time counters that psutil reports and that are not time the CPU was available:
# on Linux, guest time is counted in user and nice already.
_COUNTED_TWICE = ("guest", "guest_nice")
_IDLE = ("idle", "iowait")


def cpu_monitor(*, interval: float = DEFAULT_INTERVAL) -> Instrument:
    """An instrument giving ``cpudata`` records every ``interval`` seconds.

    Args:
        interval: seconds between two records.

    Raises:
        ConfigurationError: ``interval`` is not a positive number.

    Example::

        ov.require(cpu_monitor(interval=0.5))
    """
    return sampling_instrument("cpu_monitor", "cpudata", interval, _prepare)


def command_line(ov: Any) -> Iterator[Any]:
    """Sample the machine's CPU load and memory while the script runs."""
    yield from monitor_flags(
        ov, "cpu-monitor", "the CPU load and memory (cpudata records)", cpu_monitor
    )


def _prepare() -> Sample:
    import psutil

    previous = psutil.cpu_times(percpu=True)

    def sample() -> dict[str, Any]:
        nonlocal previous
        current = psutil.cpu_times(percpu=True)
        # A CPU brought online or offline between two readings is left out of that one.
        pairs = zip(previous, current, strict=False)
        spans = [_span(before, after) for before, after in pairs]
        previous = current
        memory = psutil.virtual_memory()
        return {
            "load": _fraction(sum(busy for busy, _ in spans), sum(total for _, total in spans)),
            "per_cpu": [_fraction(busy, total) for busy, total in spans],
            "memory": [max(0, memory.total - memory.available), memory.total],
        }

    return sample


def _span(before: Any, after: Any) -> tuple[float, float]:
    """Busy and total CPU seconds of one CPU between two readings of its counters."""
    total = _total(after) - _total(before)
    idle = _sum(after, _IDLE) - _sum(before, _IDLE)
    return total - idle, total


def _total(times: Any) -> float:
    return float(sum(times)) - _sum(times, _COUNTED_TWICE)


def _sum(times: Any, fields: Sequence[str]) -> float:
    return float(sum(getattr(times, field, 0.0) for field in fields))


def _fraction(busy: float, total: float) -> float:
    if total <= 0:
        return 0.0
    return min(1.0, max(0.0, busy / total))
