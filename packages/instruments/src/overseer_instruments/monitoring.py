"""The ``monitor_all`` instrument: every monitor at once, GPU, CPU, disk, network, process.

From the command line, ``--monitor-all`` (and ``--monitor-all-interval SECONDS``, 1 by
default); from a voirfile::

    from overseer_instruments import monitor_all


    def instrument_main(ov):
        ov.require(monitor_all(interval=2))

It turns on :func:`~overseer_instruments.gpu_monitor` (``gpudata`` records),
:func:`~overseer_instruments.cpu_monitor` (``cpudata``),
:func:`~overseer_instruments.io_monitor` (``iodata``),
:func:`~overseer_instruments.net_monitor` (``netdata``) and
:func:`~overseer_instruments.process_monitor` (``process``), each at ``interval``; their
modules describe their records. A monitor also turned on by its own flag
(``--monitor-all --cpu-monitor-interval 0.2``) runs once, at the interval its flags say.
A monitor that cannot run here (no GPU, no disk counters) says so once on stderr; the
others go on.

Units, in every monitor: bytes, fractions from 0 to 1, watts, degrees Celsius, seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ._sampler import (
    DEFAULT_INTERVAL,
    Instrument,
    check_interval,
    interval_flags,
    requested_interval,
)

__all__ = ["command_line", "monitor_all"]

# The flag of each monitor and where its factory lives, loaded when monitor_all runs.
_MONITORS = {
    "gpu-monitor": ("gpu", "gpu_monitor"),
    "cpu-monitor": ("cpu", "cpu_monitor"),
    "io-monitor": ("io", "io_monitor"),
    "net-monitor": ("net", "net_monitor"),
    "process-monitor": ("process", "process_monitor"),
}


def monitor_all(*, interval: float = DEFAULT_INTERVAL) -> Instrument:
    """An instrument turning on every monitor, each giving its records every ``interval`` s.

    Args:
        interval: seconds between two records of each monitor.

    Raises:
        ConfigurationError: ``interval`` is not a positive number.

    Example::

        ov.require(monitor_all(interval=2))
    """
    check_interval("monitor_all", interval)

    def monitor_all_instrument(ov: Any) -> None:
        ov.require(*(factory(interval=interval) for factory in _factories(_MONITORS)))

    monitor_all_instrument.__name__ = monitor_all_instrument.__qualname__ = "monitor_all"
    return monitor_all_instrument


def command_line(ov: Any) -> Iterator[Any]:
    """Sample the GPUs, CPU, disks, network and the script's processes while it runs."""
    interval_flags(ov, "monitor-all", "GPUs, CPU, disks, network and process tree at once")
    yield ov.phases.parse_args
    interval = requested_interval(ov.options, "monitor-all")
    if interval is None:
        return
    # A monitor turned on by its own flags is required by its own module, at its interval.
    others = {
        flag: where
        for flag, where in _MONITORS.items()
        if requested_interval(ov.options, flag) is None
    }
    ov.require(*(factory(interval=interval) for factory in _factories(others)))


def _factories(monitors: dict[str, tuple[str, str]]) -> list[Callable[..., Instrument]]:
    import importlib

    return [
        getattr(importlib.import_module(f".{module}", __package__), name)
        for module, name in monitors.values()
    ]
