"""The GPU monitor: with a fake NVML provider, with a fake ``pynvml``, and on a real GPU.

The fake provider comes in through a voirfile that does
``ov.require(gpu_monitor(provider=FakeNVML(...)))``, as a user's would.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

GIB = 1 << 30

FAKE_PROVIDER = """
from overseer_instruments import gpu_monitor

DEVICES = [
    {"uuid": "GPU-0a1b2c3d-1111-2222-3333-444455556666", "name": "Fake A100"},
    {"uuid": "GPU-0a1b9999-aaaa-bbbb-cccc-ddddeeeeffff", "name": "Fake H100"},
    {"uuid": "GPU-7f00e1e1-0000-1111-2222-333344445555", "name": "Fake H200"},
]


class FakeNVML:
    # NVML's units: percent, bytes, degrees Celsius, milliwatts.
    def __init__(self, fail_after=None, unsupported=()):
        self.fail_after = fail_after
        self.unsupported = unsupported
        self.readings = 0

    def init(self):
        pass

    def device_count(self):
        return len(DEVICES)

    def handle(self, index):
        return index

    def uuid(self, handle):
        return DEVICES[handle]["uuid"]

    def name(self, handle):
        return DEVICES[handle]["name"]

    def utilization(self, handle):
        self.readings += 1
        if self.fail_after is not None and self.readings > self.fail_after:
            raise RuntimeError("GPU has fallen off the bus")
        return None if "utilization" in self.unsupported else 10 * (handle + 1)

    def memory(self, handle):
        return (handle + 1) * 2**30, 80 * 2**30

    def temperature(self, handle):
        return 40 + handle

    def power(self, handle):
        return None if "power" in self.unsupported else 100_000 + 1_500 * handle

    def processes(self, handle):
        return [(4200 + handle, 2**29), (4300 + handle, None)]


def instrument_gpu(ov):
    ov.require(gpu_monitor(interval=0.1, provider=FakeNVML({options})))
"""


def expected_device(index: int) -> dict[str, Any]:
    """What the fake provider's device at NVML ``index`` becomes in a record."""
    names = ["Fake A100", "Fake H100", "Fake H200"]
    uuids = [
        "GPU-0a1b2c3d-1111-2222-3333-444455556666",
        "GPU-0a1b9999-aaaa-bbbb-cccc-ddddeeeeffff",
        "GPU-7f00e1e1-0000-1111-2222-333344445555",
    ]
    return {
        "name": names[index],
        "uuid": uuids[index],
        "load": (index + 1) / 10,
        "memory": [(index + 1) * GIB, 80 * GIB],
        "temperature": 40 + index,
        "power": 100.0 + 1.5 * index,
        "processes": [
            {"pid": 4200 + index, "memory": GIB // 2},
            {"pid": 4300 + index, "memory": None},
        ],
    }


def use_fake_provider(workdir: Path, options: str = "") -> None:
    (workdir / "voirfile.py").write_text(FAKE_PROVIDER.replace("{options}", options))


def gpu_lines(done: Any) -> list[str]:
    return [line for line in done.stderr.splitlines() if "gpu_monitor" in line]


@pytest.mark.parametrize(
    ("setting", "nvml_indices"),
    [
        (None, [0, 1, 2]),
        ("2,0", [2, 0]),
        (" 2 , 1", [2, 1]),
        ("GPU-7f00,GPU-0a1b2c3d-1111-2222-3333-444455556666", [2, 0]),
        ("gpu-0a1b99", [1]),
    ],
)
def test_each_visible_device_under_the_index_the_script_sees(
    run_overseer: Any,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: str | None,
    nvml_indices: list[int],
) -> None:
    use_fake_provider(workdir)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    env = {} if setting is None else {"CUDA_VISIBLE_DEVICES": setting}

    done = run_overseer("monitor_until.py", "gpudata", "2", env=env)

    assert done.returncode == 0, done.stderr
    records = done.data("gpudata")
    assert len(records) >= 2
    expected = {str(seen): expected_device(index) for seen, index in enumerate(nvml_indices)}
    assert all(record == expected for record in records)
    assert gpu_lines(done) == []


@pytest.mark.parametrize(
    ("setting", "nvml_indices", "rejected"),
    [
        ("1,GPU-0a1b,0", [1], "GPU-0a1b"),  # a prefix of two UUIDs names neither
        ("2,7,0", [2], "7"),  # no such index
        ("0,0", [0], "0"),  # named twice
        ("MIG-3b4c", [], "MIG-3b4c"),
    ],
)
def test_an_entry_naming_no_device_ends_the_list_as_in_cuda(
    run_overseer: Any, workdir: Path, setting: str, nvml_indices: list[int], rejected: str
) -> None:
    use_fake_provider(workdir)
    # The notice comes with the first sample: the script waits for it where it gives a record.
    script = ("monitor_until.py", "gpudata", "1") if nvml_indices else ("monitor_sleep.py", "0.3")

    done = run_overseer(*script, env={"CUDA_VISIBLE_DEVICES": setting})

    assert done.returncode == 0, done.stderr
    records = done.data("gpudata")
    if nvml_indices:
        assert records
        assert all(sorted(record) == ["0"] for record in records)
        assert records[0]["0"]["uuid"] == expected_device(nvml_indices[0])["uuid"]
    else:
        assert records == []
    (line,) = gpu_lines(done)
    assert f"{rejected!r} names no single GPU" in line


def test_an_empty_setting_hides_every_gpu(run_overseer: Any, workdir: Path) -> None:
    use_fake_provider(workdir)

    done = run_overseer("monitor_sleep.py", "0.3", env={"CUDA_VISIBLE_DEVICES": ""})

    assert done.returncode == 0, done.stderr
    assert done.data("gpudata") == []
    assert gpu_lines(done) == [
        "overseer: gpu_monitor: CUDA_VISIBLE_DEVICES is empty: the script sees no GPU,"
        " none is sampled"
    ]


def test_a_setting_the_script_makes_is_followed(
    run_overseer: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_provider(workdir)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)

    done = run_overseer("monitor_set_devices.py", "GPU-7f")

    assert done.returncode == 0, done.stderr
    seen = [[device["name"] for device in record.values()] for record in done.data("gpudata")]
    assert seen[0] == ["Fake A100", "Fake H100", "Fake H200"]
    assert seen[-1] == ["Fake H200"]


def test_a_provider_failing_mid_run_is_reported_once(run_overseer: Any, workdir: Path) -> None:
    use_fake_provider(workdir, "fail_after=6")  # two samples of three devices, then it fails

    done = run_overseer("monitor_until.py", "instrument_error", "1")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("slept ")
    assert len(done.data("gpudata")) == 2
    (line,) = gpu_lines(done)
    assert "RuntimeError: GPU has fallen off the bus" in line
    assert done.events("instrument_error") == [
        {
            "instrument": "gpu_monitor",
            "type": "RuntimeError",
            "message": "GPU has fallen off the bus",
        }
    ]


def test_a_value_a_device_does_not_report_is_null_with_one_notice(
    run_overseer: Any, workdir: Path
) -> None:
    use_fake_provider(workdir, "unsupported=('power',)")

    done = run_overseer("monitor_until.py", "gpudata", "2", env={"CUDA_VISIBLE_DEVICES": "0,1"})

    assert done.returncode == 0, done.stderr
    records = done.data("gpudata")
    assert len(records) >= 2
    assert all(device["power"] is None for record in records for device in record.values())
    assert records[0]["1"]["load"] == 0.2
    (line,) = gpu_lines(done)
    assert "does not report its power" in line


FAKE_PYNVML = """
NVML_TEMPERATURE_GPU = 0
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4


class NVMLError(Exception):
    def __init__(self, value):
        super().__init__(f"NVML error {value}")
        self.value = value


class Rates:
    gpu = 87
    memory = 40


class Memory:
    used = 3 * 2**30
    free = 138 * 2**30
    total = 141 * 2**30


class Process:
    def __init__(self, pid, used):
        self.pid = pid
        self.usedGpuMemory = used


def nvmlInit():
    pass


def nvmlDeviceGetCount():
    return 1


def nvmlDeviceGetHandleByIndex(index):
    return ("handle", index)


def nvmlDeviceGetUUID(handle):
    return b"GPU-feedface-0000"  # older releases answer bytes


def nvmlDeviceGetName(handle):
    return "Fake H200"


def nvmlDeviceGetUtilizationRates(handle):
    return Rates()


def nvmlDeviceGetMemoryInfo(handle):
    return Memory()


def nvmlDeviceGetTemperature(handle, sensor):
    raise NVMLError(NVML_ERROR_NOT_SUPPORTED)


def nvmlDeviceGetPowerUsage(handle):
    return 245_500


def nvmlDeviceGetComputeRunningProcesses(handle):
    return [Process(4242, 2**30), Process(4343, 2**64 - 1)]
"""


def test_the_pynvml_provider_converts_nvml_units(run_overseer: Any, workdir: Path) -> None:
    (workdir / "pynvml.py").write_text(FAKE_PYNVML)

    done = run_overseer("--gpu-monitor-interval", "0.1", "monitor_until.py", "gpudata", "1")

    assert done.returncode == 0, done.stderr
    records = done.data("gpudata")
    assert records
    assert records[0] == {
        "0": {
            "name": "Fake H200",
            "uuid": "GPU-feedface-0000",
            "load": 0.87,
            "memory": [3 * GIB, 141 * GIB],
            "temperature": None,
            "power": 245.5,
            "processes": [{"pid": 4242, "memory": GIB}, {"pid": 4343, "memory": None}],
        }
    }
    (line,) = gpu_lines(done)
    assert "does not report its temperature" in line


@pytest.mark.parametrize(
    ("module", "said"),
    [
        (
            "raise ModuleNotFoundError(\"No module named 'pynvml'\", name='pynvml')",
            "overseer: gpu_monitor: off: pynvml cannot be imported (No module named 'pynvml');"
            " install it with pip install 'overseer-instruments[gpu]'",
        ),
        (
            "class NVMLError(Exception):\n    pass\n\n\n"
            "def nvmlInit():\n    raise NVMLError('Driver Not Loaded')\n",
            "overseer: gpu_monitor: off: NVML does not start (NVMLError: Driver Not Loaded):"
            " no NVIDIA driver or GPU",
        ),
    ],
    ids=["no-pynvml", "no-driver"],
)
def test_no_gpu_is_one_notice_and_no_records(
    run_overseer: Any, workdir: Path, module: str, said: str
) -> None:
    # A pynvml.py beside the script stands for this machine's: missing, or without a driver.
    (workdir / "pynvml.py").write_text(module)

    done = run_overseer("--gpu-monitor-interval", "0.1", "monitor_sleep.py", "0.3")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("slept ")
    assert done.data("gpudata") == []
    assert gpu_lines(done) == [said]
    assert done.events("instrument_error") == []


def require_nvml() -> int:
    """How many GPUs NVML sees; skip (or fail, with OVERSEER_REQUIRE_GPU=1) without any."""
    try:
        import pynvml

        pynvml.nvmlInit()
        count = int(pynvml.nvmlDeviceGetCount())
    except Exception as error:  # ImportError, or pynvml.NVMLError: no driver, no GPU
        reason = f"NVML is not usable here ({type(error).__name__}: {error})"
        if os.environ.get("OVERSEER_REQUIRE_GPU") == "1":
            pytest.fail(f"{reason}, and OVERSEER_REQUIRE_GPU=1 asks for a GPU")
        pytest.skip(f"{reason}: set OVERSEER_REQUIRE_GPU=1 to fail instead")
    if count == 0:
        pytest.fail("NVML starts but sees no GPU")
    return count


@pytest.mark.gpu
def test_a_real_gpu_is_sampled(run_overseer: Any) -> None:
    count = require_nvml()

    done = run_overseer("--gpu-monitor-interval", "0.2", "monitor_sleep.py", "1")

    assert done.returncode == 0, done.stderr
    records = done.data("gpudata")
    assert len(records) >= 2
    if "CUDA_VISIBLE_DEVICES" not in os.environ:
        assert all(len(record) == count for record in records)
    for record in records:
        assert list(record) == [str(index) for index in range(len(record))]
        for device in record.values():
            assert device["uuid"].startswith(("GPU-", "MIG-"))
            assert device["name"]
            assert device["load"] is None or 0.0 <= device["load"] <= 1.0
            used, total = device["memory"]
            assert 0 <= used <= total
            assert device["power"] is None or 0.0 < device["power"] < 5_000  # watts, not mW
            assert device["temperature"] is None or 0 < device["temperature"] < 150
            assert all(isinstance(process["pid"], int) for process in device["processes"])
