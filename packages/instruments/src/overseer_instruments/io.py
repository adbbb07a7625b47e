"""The ``io_monitor`` instrument: the machine's disk reads and writes, every interval.

From the command line, ``--io-monitor`` (and ``--io-monitor-interval SECONDS``, 1 by
default); from a voirfile::

    from overseer_instruments import io_monitor


    def instrument_main(ov):
        ov.require(io_monitor(interval=5))

From the start of the script to its end it gives, and writes to the data stream::

    {
        "iodata": {
            "read_bytes": 1048576,
            "write_bytes": 8388608,
            "read_bytes_per_s": 0.0,
            "write_bytes_per_s": 4194304.0,
        },
        "task": "main",
    }

- ``read_bytes``, ``write_bytes``: bytes read from and written to every disk of the
  machine since the monitor started (at ``parse_args``);
- ``read_bytes_per_s``, ``write_bytes_per_s``: the same per second, averaged over the time
  since the previous record.

The counters are the kernel's, for the whole machine (all processes), summed over disks by
psutil. A machine where psutil finds none (some containers) gets one notice and no records.

Units, in every monitor: bytes, fractions from 0 to 1, watts, degrees Celsius, seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._sampler import (
    DEFAULT_INTERVAL,
    Instrument,
    Sample,
    Unavailable,
    counter_sample,
    monitor_flags,
    sampling_instrument,
)

__all__ = ["command_line", "io_monitor"]


def io_monitor(*, interval: float = DEFAULT_INTERVAL) -> Instrument:
    """An instrument giving ``iodata`` records every ``interval`` seconds.

    Args:
        interval: seconds between two records.

    Raises:
        ConfigurationError: ``interval`` is not a positive number.

    Example::

        ov.require(io_monitor(interval=5))
    """
    return sampling_instrument("io_monitor", "iodata", interval, _prepare)


def command_line(ov: Any) -> Iterator[Any]:
    """Sample the machine's disk reads and writes while the script runs."""
    yield from monitor_flags(
        ov, "io-monitor", "the disk bytes read and written (iodata records)", io_monitor
    )


def _prepare() -> Sample:
    import psutil

    def read() -> dict[str, int]:
        try:
            counters = psutil.disk_io_counters()
        except (OSError, NotImplementedError) as error:
            message = f"psutil cannot read the disk I/O counters here ({error})"
            raise Unavailable(message) from error
        if counters is None:
            raise Unavailable("psutil finds no disk I/O counters on this machine")
        return {"read_bytes": counters.read_bytes, "write_bytes": counters.write_bytes}

    return counter_sample(read)
