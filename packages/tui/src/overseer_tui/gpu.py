"""GPU readings: from runs' ``gpudata`` records or this machine's NVML, and their history.

::

    history = GpuHistory()
    history.add(readings_from_gpudata(run.gpus), t=clock.now())  # what a run reported
    history.add(read_local_gpus(), t=clock.now())  # this machine; [] without GPU or NVML
    for key in history.devices():
        reading = history.latest(key)
        print(reading.name, history.loads(key)[-60:], runs_of_processes(reading, runs))

Units are those of the ``gpu_monitor`` instrument: load and memory fractions from 0 to 1,
bytes, watts, degrees Celsius. A value a device does not report is ``None``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .entries import metric_value
from .model import Run

__all__ = [
    "HISTORY_LENGTH",
    "GpuHistory",
    "GpuReading",
    "read_local_gpus",
    "readings_from_gpudata",
    "runs_of_processes",
]

HISTORY_LENGTH = 120
_T = TypeVar("_T")


@dataclass(frozen=True)
class GpuReading:
    """One device at one moment."""

    key: str
    name: str
    load: float | None
    memory_used: float | None
    memory_total: float | None
    power: float | None
    temperature: float | None
    processes: tuple[tuple[int, float | None], ...]  # (pid, bytes of device memory)

    @property
    def memory_fraction(self) -> float | None:
        """Used over total memory, when both are known."""
        if self.memory_used is None or not self.memory_total:
            return None
        return self.memory_used / self.memory_total


def _processes(value: Any) -> tuple[tuple[int, float | None], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        (each["pid"], metric_value(each.get("memory")))
        for each in value
        if isinstance(each, dict) and isinstance(each.get("pid"), int)
    )


def _device_order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (1 << 30, key)


def reading_from_device(key: str, device: Mapping[str, Any]) -> GpuReading:
    """The reading of one device of a ``gpudata`` record."""
    memory = device.get("memory")
    used, total = memory if isinstance(memory, list) and len(memory) == 2 else (None, None)
    return GpuReading(
        key=key,
        name=str(device.get("name") or f"GPU {key}"),
        load=metric_value(device.get("load")),
        memory_used=metric_value(used),
        memory_total=metric_value(total),
        power=metric_value(device.get("power")),
        temperature=metric_value(device.get("temperature")),
        processes=_processes(device.get("processes")),
    )


def readings_from_gpudata(gpudata: Mapping[str, Any]) -> list[GpuReading]:
    """The readings of a ``gpudata`` record (``run.gpus``), by device index.

    Example::

        gpudata = {"0": {"name": "H100", "load": 0.97, "memory": [6e10, 8.5e10]}}
        readings_from_gpudata(gpudata)[0].memory_fraction  # 0.705...
    """
    keys = sorted((str(key) for key in gpudata), key=_device_order)
    devices = {str(key): value for key, value in gpudata.items()}
    return [
        reading_from_device(key, devices[key]) for key in keys if isinstance(devices[key], dict)
    ]


class _Nvml:
    """Whether NVML started: tried once, so a machine without it pays once."""

    started = False
    unavailable = False


def _maybe(call: Callable[[], _T]) -> _T | None:
    try:
        return call()
    except Exception:  # NVMLError_NotSupported and kin: the device does not report it
        return None


def _local_device(pynvml: Any, index: int) -> GpuReading:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    name = _maybe(lambda: pynvml.nvmlDeviceGetName(handle))
    rates = _maybe(lambda: pynvml.nvmlDeviceGetUtilizationRates(handle))
    memory = _maybe(lambda: pynvml.nvmlDeviceGetMemoryInfo(handle))
    power = _maybe(lambda: pynvml.nvmlDeviceGetPowerUsage(handle))
    sensor = getattr(pynvml, "NVML_TEMPERATURE_GPU", 0)
    temperature = _maybe(lambda: pynvml.nvmlDeviceGetTemperature(handle, sensor))
    processes = _maybe(lambda: pynvml.nvmlDeviceGetComputeRunningProcesses(handle)) or []
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    return GpuReading(
        key=str(index),
        name=str(name or f"GPU {index}"),
        load=None if rates is None else rates.gpu / 100.0,
        memory_used=None if memory is None else float(memory.used),
        memory_total=None if memory is None else float(memory.total),
        power=None if power is None else power / 1000.0,
        temperature=None if temperature is None else float(temperature),
        processes=tuple(
            (p.pid, metric_value(getattr(p, "usedGpuMemory", None))) for p in processes
        ),
    )


def read_local_gpus() -> list[GpuReading]:
    """This machine's GPUs through NVML; ``[]`` without nvidia-ml-py, driver or device."""
    if _Nvml.unavailable:
        return []
    try:
        import pynvml

        if not _Nvml.started:
            pynvml.nvmlInit()
            _Nvml.started = True
        count = int(pynvml.nvmlDeviceGetCount())
    except Exception:  # ImportError, or NVMLError when no library or driver
        _Nvml.unavailable = True
        return []
    try:
        return [_local_device(pynvml, index) for index in range(count)]
    except Exception:  # a device that went away between the count and the reading
        return []


class GpuHistory:
    """The latest reading and the last loads and memory fractions of each device.

    Every reading added is a sample, equal to the one before or not (an idle GPU reads the
    same every second): callers add a run's gpudata only when it got a new record.
    """

    def __init__(self, length: int = HISTORY_LENGTH) -> None:
        self.length = length
        self.updated: dict[str, float] = {}
        self._latest: dict[str, GpuReading] = {}
        self._loads: dict[str, deque[float]] = {}
        self._memory: dict[str, deque[float]] = {}

    def add(self, readings: Sequence[GpuReading], t: float) -> None:
        """Record ``readings`` taken at ``t``."""
        for reading in readings:
            self._latest[reading.key] = reading
            self.updated[reading.key] = t
            if reading.load is not None:
                self._samples(self._loads, reading.key).append(reading.load)
            if reading.memory_fraction is not None:
                self._samples(self._memory, reading.key).append(reading.memory_fraction)

    def devices(self) -> list[str]:
        """Every device key seen, in index order."""
        return sorted(self._latest, key=_device_order)

    def latest(self, key: str) -> GpuReading | None:
        """The latest reading of device ``key``."""
        return self._latest.get(key)

    def loads(self, key: str) -> list[float]:
        """The last loads of device ``key``, oldest first."""
        return list(self._loads.get(key, ()))

    def memory_fractions(self, key: str) -> list[float]:
        """The last memory fractions (used / total) of device ``key``, oldest first."""
        return list(self._memory.get(key, ()))

    def _samples(self, table: dict[str, deque[float]], key: str) -> deque[float]:
        if key not in table:
            table[key] = deque(maxlen=self.length)
        return table[key]


def runs_of_processes(reading: GpuReading, runs: Mapping[str, Run]) -> list[tuple[int, str | None]]:
    """Each process of ``reading`` with the name of the run it belongs to, else ``None``."""
    owners = {pid: run.name for run in runs.values() for pid in run.pids}
    return [(pid, owners.get(pid)) for pid, _ in reading.processes]
