"""The ``net_monitor`` instrument: the machine's network traffic, every interval.

From the command line, ``--net-monitor`` (and ``--net-monitor-interval SECONDS``, 1 by
default); from a voirfile::

    from overseer_instruments import net_monitor


    def instrument_main(ov):
        ov.require(net_monitor(interval=5))

From the start of the script to its end it gives, and writes to the data stream::

    {
        "netdata": {
            "sent_bytes": 52430,
            "received_bytes": 104857600,
            "sent_bytes_per_s": 2048.0,
            "received_bytes_per_s": 52428800.0,
        },
        "task": "main",
    }

- ``sent_bytes``, ``received_bytes``: bytes sent and received on every network interface
  of the machine (loopback included) since the monitor started (at ``parse_args``);
- ``sent_bytes_per_s``, ``received_bytes_per_s``: the same per second, averaged over the
  time since the previous record.

The counters are the kernel's, for the whole machine (all processes), summed over
interfaces by psutil. A machine where psutil finds none gets one notice and no records.

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

__all__ = ["command_line", "net_monitor"]


def net_monitor(*, interval: float = DEFAULT_INTERVAL) -> Instrument:
    """An instrument giving ``netdata`` records every ``interval`` seconds.

    Args:
        interval: seconds between two records.

    Raises:
        ConfigurationError: ``interval`` is not a positive number.

    Example::

        ov.require(net_monitor(interval=5))
    """
    return sampling_instrument("net_monitor", "netdata", interval, _prepare)


def command_line(ov: Any) -> Iterator[Any]:
    """Sample the machine's network traffic while the script runs."""
    yield from monitor_flags(
        ov, "net-monitor", "the network bytes sent and received (netdata records)", net_monitor
    )


def _prepare() -> Sample:
    import psutil

    def read() -> dict[str, int]:
        try:
            counters = psutil.net_io_counters()
        except (OSError, NotImplementedError) as error:
            message = f"psutil cannot read the network counters here ({error})"
            raise Unavailable(message) from error
        if counters is None:
            raise Unavailable("psutil finds no network counters on this machine")
        return {"sent_bytes": counters.bytes_sent, "received_bytes": counters.bytes_recv}

    return counter_sample(read)
