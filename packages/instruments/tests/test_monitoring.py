"""``--monitor-all`` and ``monitor_all()``: every monitor at once, each once."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

KEYS = ("cpudata", "iodata", "netdata", "process")
# The stream stamps records with the wall clock, the sampler keeps its turns by the monotonic
# one: over a second they can part by a fraction of a millisecond.
CLOCKS = 0.01


@pytest.fixture
def no_pynvml(workdir: Path) -> None:
    """Make this machine one without nvidia-ml-py, whatever it has."""
    (workdir / "pynvml.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'pynvml'\", name='pynvml')\n"
    )


@pytest.mark.usefixtures("no_pynvml")
def test_monitor_all_turns_every_monitor_on(run_overseer: Any) -> None:
    waited = [word for key in KEYS for word in (key, "2")]
    done = run_overseer("--monitor-all-interval", "0.2", "monitor_until.py", *waited)

    assert done.returncode == 0, done.stderr
    for key in KEYS:
        records = [r for r in done.records if key in r]
        assert len(records) >= 2, key
        assert all(record["task"] == "main" for record in records)
    # No GPU here: said once, and the other monitors run.
    assert done.data("gpudata") == []
    notices = [line for line in done.stderr.splitlines() if "gpu_monitor" in line]
    assert len(notices) == 1
    assert "pip install 'overseer-instruments[gpu]'" in notices[0]


@pytest.mark.usefixtures("no_pynvml")
def test_a_monitor_with_its_own_flag_keeps_its_interval(run_overseer: Any) -> None:
    flags = ("--monitor-all-interval", "30", "--cpu-monitor-interval", "0.5")
    done = run_overseer(*flags, "monitor_until.py", "cpudata", "3")

    assert done.returncode == 0, done.stderr
    # One CPU monitor, every 0.5 s from the script's start: its n-th record comes n turns or
    # more after the script was loaded, however late the machine ran it (a second one, every
    # 30 s, would add its own first record at the start).
    phases = {r["$data"]["name"]: r["$t"] for r in done.records if r.get("$event") == "phase"}
    times = sorted(r["$t"] for r in done.records if "cpudata" in r)
    assert len(times) >= 3
    for turn, t in enumerate(times):
        assert t >= phases["load_script"] + 0.5 * turn - CLOCKS, (turn, times)
    for key in ("iodata", "netdata", "process"):
        assert len(done.data(key)) == 1, key  # the first sample, then 30 s to the next


@pytest.mark.usefixtures("no_pynvml")
def test_monitor_all_from_a_voirfile_runs_each_monitor_once(
    run_overseer: Any, workdir: Path
) -> None:
    (workdir / "voirfile.py").write_text(
        textwrap.dedent(
            """
            from overseer_instruments import cpu_monitor, monitor_all


            def instrument_monitors(ov):
                ov.require(monitor_all(interval=30), cpu_monitor(interval=30))
            """
        )
    )

    firsts = [word for key in KEYS for word in (key, "1")]
    done = run_overseer("--cpu-monitor-interval", "30", "monitor_until.py", *firsts)

    assert done.returncode == 0, done.stderr
    # Required three times with the same interval, sampled by one thread: one record.
    for key in KEYS:
        assert len(done.data(key)) == 1, key


def test_help_lists_every_monitor_flag(run_overseer: Any) -> None:
    done = run_overseer("--help", stream=False)

    assert done.returncode == 0, done.stderr
    for flag in ("gpu-monitor", "cpu-monitor", "io-monitor", "net-monitor", "process-monitor"):
        assert f"--{flag} " in done.stdout
        assert f"--{flag}-interval SECONDS" in done.stdout
    assert "--monitor-all " in done.stdout
    assert "--monitor-all-interval SECONDS" in done.stdout
