"""The ``gpu_monitor`` instrument: each NVIDIA GPU the script sees, every interval, via NVML.

Needs nvidia-ml-py (``pip install 'overseer-instruments[gpu]'``). From the command line,
``--gpu-monitor`` (and ``--gpu-monitor-interval SECONDS``, 1 by default); from a voirfile::

    from overseer_instruments import gpu_monitor


    def instrument_main(ov):
        ov.require(gpu_monitor(interval=0.5))

From the start of the script to its end it gives, and writes to the data stream, one entry
per device the script sees, under the index the script knows it by (``cuda:0`` is ``"0"``)::

    {
        "gpudata": {
            "0": {
                "name": "NVIDIA H100 80GB HBM3",
                "uuid": "GPU-5e1b...",
                "load": 0.97,
                "memory": [61203283968, 85520809984],
                "temperature": 64,
                "power": 512.3,
                "processes": [{"pid": 4242, "memory": 60129542144}],
            }
        },
        "task": "main",
    }

- ``load``: the fraction of the last sample period in which a kernel ran, 0 to 1;
- ``memory``: ``[used, total]`` bytes of device memory;
- ``temperature``: degrees Celsius; ``power``: watts;
- ``processes``: the processes computing on the device, each with its ``pid`` and the
  device memory it holds in bytes (``null`` where NVML does not know it, and pids as the
  driver sees them, which inside a container may not be the container's);
- a value the device does not report is ``null``, with one notice.

``CUDA_VISIBLE_DEVICES`` is honoured as CUDA reads it: indices and UUIDs (``GPU-5e1b...``,
or any prefix naming one device), in the order given, up to the first entry that names no
device. It is read again whenever the script changes it. With no nvidia-ml-py, no driver or
no GPU, one notice on stderr and no records; the run goes on.

Units, in every monitor: bytes, fractions from 0 to 1, watts, degrees Celsius, seconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from ._sampler import (
    DEFAULT_INTERVAL,
    Instrument,
    Sample,
    Unavailable,
    monitor_flags,
    notice,
    sampling_instrument,
)

__all__ = ["NVMLProvider", "PynvmlProvider", "command_line", "gpu_monitor"]

_NAME = "gpu_monitor"
_INSTALL = "pip install 'overseer-instruments[gpu]'"


class NVMLProvider(Protocol):
    """The NVML calls the GPU monitor makes, in NVML's own units.

    :class:`PynvmlProvider` makes them through nvidia-ml-py; a test passes its own object
    with these methods to ``gpu_monitor(provider=...)``. A method returning ``None`` says the
    device does not report that value.
    """

    def init(self) -> None:
        """Start NVML (``nvmlInit``); raise when there is no driver or no library."""

    def device_count(self) -> int:
        """How many GPUs NVML sees, whatever ``CUDA_VISIBLE_DEVICES`` says."""

    def handle(self, index: int) -> Any:
        """The handle of the device at NVML ``index``."""

    def uuid(self, handle: Any) -> str:
        """The device's UUID, ``"GPU-..."``."""

    def name(self, handle: Any) -> str:
        """The device's product name."""

    def utilization(self, handle: Any) -> int | None:
        """Percent of the last sample period in which a kernel ran, 0 to 100."""

    def memory(self, handle: Any) -> tuple[int, int]:
        """Used and total device memory, in bytes."""

    def temperature(self, handle: Any) -> int | None:
        """The GPU's temperature, in degrees Celsius."""

    def power(self, handle: Any) -> int | None:
        """The power the device draws, in milliwatts."""

    def processes(self, handle: Any) -> list[tuple[int, int | None]]:
        """``(pid, device memory in bytes or None)`` of each process computing on it."""


def gpu_monitor(
    *, interval: float = DEFAULT_INTERVAL, provider: NVMLProvider | None = None
) -> Instrument:
    """An instrument giving ``gpudata`` records every ``interval`` seconds.

    Args:
        interval: seconds between two records.
        provider: where the NVML readings come from; nvidia-ml-py by default.

    Raises:
        ConfigurationError: ``interval`` is not a positive number.

    Example::

        ov.require(gpu_monitor(interval=0.5))
    """

    def prepare() -> Sample:
        return _prepare(provider if provider is not None else PynvmlProvider())

    return sampling_instrument(_NAME, "gpudata", interval, prepare, identity=(id(provider),))


def command_line(ov: Any) -> Iterator[Any]:
    """Sample each NVIDIA GPU the script sees (load, memory, temperature, power, processes)."""
    yield from monitor_flags(
        ov, "gpu-monitor", "the NVIDIA GPUs the script sees (gpudata records)", gpu_monitor
    )


def _prepare(provider: NVMLProvider) -> Sample:
    try:
        provider.init()
    except ImportError as error:
        message = f"pynvml cannot be imported ({error}); install it with {_INSTALL}"
        raise Unavailable(message) from error
    except Exception as error:
        message = f"NVML does not start ({type(error).__name__}: {error}): no NVIDIA driver or GPU"
        raise Unavailable(message) from error
    if provider.device_count() == 0:
        raise Unavailable("NVML sees no GPU on this machine")
    return _Devices(provider).sample


class _Devices:
    """The GPUs NVML sees, sampled as the script sees them."""

    def __init__(self, provider: NVMLProvider) -> None:
        self._provider = provider
        self._handles = [provider.handle(index) for index in range(provider.device_count())]
        self._uuids = [provider.uuid(handle) for handle in self._handles]
        self._names = [provider.name(handle) for handle in self._handles]
        self._read = False
        self._setting: str | None = None
        self._visible: list[int] = []
        self._missing: set[str] = set()

    def sample(self) -> dict[str, Any] | None:
        visible = self._visible_now()
        if not visible:
            return None
        return {str(seen): self._device(index) for seen, index in enumerate(visible)}

    def _visible_now(self) -> list[int]:
        # Read at every sample, not once: CUDA reads it when it starts, in the script,
        # which may set it first.
        setting = os.environ.get("CUDA_VISIBLE_DEVICES")
        if self._read and setting == self._setting:
            return self._visible
        self._read, self._setting = True, setting
        self._visible, rejected = _visible_devices(setting, self._uuids)
        if rejected is not None:
            _report_setting(setting, rejected)
        return self._visible

    def _device(self, index: int) -> dict[str, Any]:
        provider, handle = self._provider, self._handles[index]
        used, total = provider.memory(handle)
        load, power = provider.utilization(handle), provider.power(handle)
        device = {
            "name": self._names[index],
            "uuid": self._uuids[index],
            "load": None if load is None else load / 100,
            "memory": [used, total],
            "temperature": provider.temperature(handle),
            "power": None if power is None else power / 1000,
            "processes": [
                {"pid": pid, "memory": memory} for pid, memory in provider.processes(handle)
            ],
        }
        self._report_missing(index, device)
        return device

    def _report_missing(self, index: int, device: dict[str, Any]) -> None:
        for field in ("load", "temperature", "power"):
            if device[field] is None and field not in self._missing:
                self._missing.add(field)
                notice(
                    _NAME,
                    f"{self._uuids[index]} does not report its {field}; it is written as null",
                )


def _visible_devices(setting: str | None, uuids: Sequence[str]) -> tuple[list[int], str | None]:
    """NVML indices of the devices CUDA shows under ``setting``, in the order it numbers them.

    Also returns the first entry that names no device (CUDA ignores it and all after it).

    >>> _visible_devices("1,GPU-ab", ["GPU-ab12", "GPU-cd34"])
    ([1, 0], None)
    >>> _visible_devices("0,7,1", ["GPU-ab12", "GPU-cd34"])
    ([0], '7')
    """
    if setting is None:
        return list(range(len(uuids))), None
    chosen: list[int] = []
    for entry in setting.split(","):
        index = _device_named(entry.strip(), uuids)
        if index is None or index in chosen:
            return chosen, entry.strip()
        chosen.append(index)
    return chosen, None


def _device_named(entry: str, uuids: Sequence[str]) -> int | None:
    if entry.isdigit():
        index = int(entry)
        return index if index < len(uuids) else None
    if entry[:4].upper() == "GPU-":
        matches = [i for i, uuid in enumerate(uuids) if uuid.lower().startswith(entry.lower())]
        return matches[0] if len(matches) == 1 else None
    return None


def _report_setting(setting: str | None, rejected: str) -> None:
    if not rejected and setting is not None and not setting.strip():
        notice(_NAME, "CUDA_VISIBLE_DEVICES is empty: the script sees no GPU, none is sampled")
    else:
        notice(
            _NAME,
            f"CUDA_VISIBLE_DEVICES={setting!r}: {rejected!r} names no single GPU that NVML"
            " sees, or one named before; CUDA ignores it and the entries after it, and so"
            " does this monitor",
        )


class PynvmlProvider:
    """:class:`NVMLProvider` through nvidia-ml-py (the ``pynvml`` module).

    A value the device does not support (``NVML_ERROR_NOT_SUPPORTED``) or does not let this
    user read (``NVML_ERROR_NO_PERMISSION``) is ``None``; any other NVML error is raised.
    """

    def __init__(self) -> None:
        self._nvml: Any = None

    def init(self) -> None:
        import pynvml

        pynvml.nvmlInit()
        self._nvml = pynvml

    def device_count(self) -> int:
        return int(self._nvml.nvmlDeviceGetCount())

    def handle(self, index: int) -> Any:
        return self._nvml.nvmlDeviceGetHandleByIndex(index)

    def uuid(self, handle: Any) -> str:
        return _text(self._nvml.nvmlDeviceGetUUID(handle))

    def name(self, handle: Any) -> str:
        return _text(self._nvml.nvmlDeviceGetName(handle))

    def utilization(self, handle: Any) -> int | None:
        rates = self._optional(self._nvml.nvmlDeviceGetUtilizationRates, handle)
        return None if rates is None else int(rates.gpu)

    def memory(self, handle: Any) -> tuple[int, int]:
        info = self._nvml.nvmlDeviceGetMemoryInfo(handle)
        return int(info.used), int(info.total)

    def temperature(self, handle: Any) -> int | None:
        sensor = self._nvml.NVML_TEMPERATURE_GPU
        value = self._optional(self._nvml.nvmlDeviceGetTemperature, handle, sensor)
        return None if value is None else int(value)

    def power(self, handle: Any) -> int | None:
        value = self._optional(self._nvml.nvmlDeviceGetPowerUsage, handle)
        return None if value is None else int(value)

    def processes(self, handle: Any) -> list[tuple[int, int | None]]:
        running = self._optional(self._nvml.nvmlDeviceGetComputeRunningProcesses, handle)
        return [(int(process.pid), _bytes(process.usedGpuMemory)) for process in running or ()]

    def _optional(self, call: Any, *args: Any) -> Any:
        nvml = self._nvml
        try:
            return call(*args)
        except nvml.NVMLError as error:
            if error.value in (nvml.NVML_ERROR_NOT_SUPPORTED, nvml.NVML_ERROR_NO_PERMISSION):
                return None
            raise


def _text(value: str | bytes) -> str:
    # Older nvidia-ml-py releases return bytes.
    return value.decode() if isinstance(value, bytes) else str(value)


def _bytes(value: int | None) -> int | None:
    # NVML marks an unknown amount with the largest unsigned 64-bit value.
    if value is None or value >= 2**63:
        return None
    return int(value)
