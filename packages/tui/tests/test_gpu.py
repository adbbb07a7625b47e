"""GPU readings from gpudata records and NVML, their history, and whose processes they are."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from overseer_tui import gpu
from overseer_tui.gpu import (
    GpuHistory,
    GpuReading,
    read_local_gpus,
    readings_from_gpudata,
    runs_of_processes,
)
from overseer_tui.model import Run

H100 = {
    "name": "NVIDIA H100 80GB HBM3",
    "uuid": "GPU-5e1b0000",
    "load": 0.97,
    "memory": [61203283968, 85520809984],
    "temperature": 64,
    "power": 512.3,
    "processes": [{"pid": 4242, "memory": 60129542144}, {"pid": 77, "memory": None}],
}


def reading(key: str = "0", load: float | None = 0.5, used: float = 1.0) -> GpuReading:
    return GpuReading(key, "GPU", load, used, 4.0, 100.0, 50.0, ())


def test_a_gpu_monitor_record_reads_as_readings_in_index_order() -> None:
    unreported = {"name": "A100", "load": None, "memory": None, "temperature": None}
    readings = readings_from_gpudata({"10": H100, "2": unreported, "0": H100})
    assert [each.key for each in readings] == ["0", "2", "10"]
    first = readings[0]
    assert first.name == "NVIDIA H100 80GB HBM3"
    assert (first.load, first.temperature, first.power) == (0.97, 64.0, 512.3)
    assert first.memory_fraction == pytest.approx(61203283968 / 85520809984)
    assert first.processes == ((4242, 60129542144.0), (77, None))
    second = readings[1]
    assert (second.load, second.memory_used, second.memory_fraction) == (None, None, None)


def test_read_local_gpus_is_empty_without_a_gpu_and_does_not_raise() -> None:
    readings = read_local_gpus()
    assert all(isinstance(each, GpuReading) for each in readings)
    if not Path("/dev/nvidia0").exists():
        assert readings == []
        assert gpu._Nvml.unavailable  # so the next call does not try NVML again
        assert read_local_gpus() == []


def fake_pynvml() -> Any:
    handles = ["h0", "h1"]

    def not_supported(handle: str) -> Any:
        raise RuntimeError("NVMLError_NotSupported")

    return SimpleNamespace(
        NVML_TEMPERATURE_GPU=0,
        nvmlInit=lambda: None,
        nvmlDeviceGetCount=lambda: len(handles),
        nvmlDeviceGetHandleByIndex=lambda index: handles[index],
        nvmlDeviceGetName=lambda handle: b"NVIDIA H200" if handle == "h0" else "NVIDIA H200",
        nvmlDeviceGetUtilizationRates=lambda handle: SimpleNamespace(gpu=97, memory=40),
        nvmlDeviceGetMemoryInfo=lambda handle: SimpleNamespace(used=6e10, total=1.4e11),
        nvmlDeviceGetPowerUsage=not_supported,
        nvmlDeviceGetTemperature=lambda handle, sensor: 61,
        nvmlDeviceGetComputeRunningProcesses=lambda handle: [
            SimpleNamespace(pid=4242, usedGpuMemory=5e10)
        ],
    )


def test_read_local_gpus_reads_each_device_through_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml())
    monkeypatch.setattr(gpu._Nvml, "started", False)
    monkeypatch.setattr(gpu._Nvml, "unavailable", False)
    readings = read_local_gpus()
    assert [each.key for each in readings] == ["0", "1"]
    assert readings[0] == GpuReading(
        "0", "NVIDIA H200", 0.97, 6e10, 1.4e11, None, 61.0, ((4242, 5e10),)
    )
    assert readings[1].name == "NVIDIA H200"


def test_history_keeps_the_last_readings_of_each_device() -> None:
    history = GpuHistory(length=3)
    for step in range(5):
        history.add([reading("0", load=step / 10), reading("1", used=step)], t=float(step))
    assert history.devices() == ["0", "1"]
    assert history.loads("0") == [0.2, 0.3, 0.4]
    assert history.memory_fractions("1") == [0.5, 0.75, 1.0]
    assert history.latest("0") == reading("0", load=0.4)
    assert history.updated["1"] == 4.0
    assert history.latest("9") is None
    assert history.loads("9") == []


def test_the_default_history_holds_120_samples() -> None:
    history = GpuHistory()
    for step in range(130):
        history.add([reading(load=step / 200)], t=float(step))
    assert len(history.loads("0")) == 120


def test_a_reading_equal_to_the_last_is_still_a_sample() -> None:
    # An idle GPU polled every second reads the same: its sparkline still moves on.
    history = GpuHistory()
    history.add([reading(load=0.5)], t=1.0)
    history.add([reading(load=0.5)], t=2.0)
    history.add([reading(load=0.6)], t=3.0)
    assert history.loads("0") == [0.5, 0.5, 0.6]
    assert history.updated["0"] == 3.0


def test_a_reading_without_load_or_memory_adds_no_sample() -> None:
    history = GpuHistory()
    history.add([GpuReading("0", "GPU", None, None, None, None, None, ())], t=1.0)
    assert history.devices() == ["0"]
    assert (history.loads("0"), history.memory_fractions("0")) == ([], [])


def test_processes_are_matched_to_the_runs_holding_their_pid() -> None:
    first, second = Run("a1", "calm-river"), Run("b2", "bold-otter")
    first.apply({"event": "start", "data": {"argv": [], "pid": 4242}, "t": 1.0})
    second.apply({"event": "data", "data": {"loss": 1.0}, "t": 1.0, "pid": 99})
    device = readings_from_gpudata({"0": H100})[0]
    assert runs_of_processes(device, {"a1": first, "b2": second}) == [
        (4242, "calm-river"),
        (77, None),
    ]


@pytest.mark.gpu
def test_a_real_gpu_is_read_through_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pynvml", reason="nvidia-ml-py: pip install 'overseer-tui[gpu]'")
    monkeypatch.setattr(gpu._Nvml, "unavailable", False)
    readings = read_local_gpus()
    if not readings and os.environ.get("OVERSEER_REQUIRE_GPU") != "1":
        pytest.skip("NVML sees no GPU here: set OVERSEER_REQUIRE_GPU=1 to fail instead")
    assert readings, "NVML answered no device, and OVERSEER_REQUIRE_GPU=1 asks for one"
    for each in readings:
        assert each.name.strip()
        assert each.load is not None
        assert 0.0 <= each.load <= 1.0
        assert each.memory_total is not None
        assert each.memory_total > 0
        assert each.memory_used is not None
        assert 0 <= each.memory_used <= each.memory_total
    history = GpuHistory()
    history.add(readings, 0.0)
    assert history.devices() == [each.key for each in readings]
