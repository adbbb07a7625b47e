"""The CPU, disk, network and process monitors, run under a real overseer on this machine."""

from __future__ import annotations

import itertools
import json
import textwrap
from pathlib import Path
from typing import Any

import psutil
import pytest

MIB = 1 << 20


def records_of(done: Any, key: str) -> list[dict[str, Any]]:
    """The data records holding ``key``, whole (with their ``$t``)."""
    return [r for r in done.records if "$event" not in r and key in r]


def is_fraction(value: object) -> bool:
    return isinstance(value, float) and 0.0 <= value <= 1.0


def test_cpu_records_hold_fractions_and_memory_in_bytes(run_overseer: Any) -> None:
    done = run_overseer("--cpu-monitor-interval", "0.2", "monitor_child.py")

    assert done.returncode == 0, done.stderr
    records = done.data("cpudata")
    assert len(records) >= 3
    total_memory = psutil.virtual_memory().total
    for record in records:
        assert set(record) == {"load", "per_cpu", "memory"}
        assert is_fraction(record["load"])
        assert len(record["per_cpu"]) == psutil.cpu_count()
        assert all(is_fraction(value) for value in record["per_cpu"])
        used, total = record["memory"]
        assert isinstance(used, int)
        assert 0 < used <= total == total_memory
    # The child burns a whole CPU for a second: some window sees the machine busy.
    assert max(record["load"] for record in records) >= 0.5 / (psutil.cpu_count() or 1)


def test_process_records_follow_the_script_and_its_child(run_overseer: Any) -> None:
    done = run_overseer("--process-monitor-interval", "0.1", "monitor_child.py")

    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    records = records_of(done, "process")
    assert {record["process"]["pid"] for record in records} == {records[0]["$pid"]}
    assert max(record["process"]["children"] for record in records) == 1
    assert records[-1]["process"]["children"] == 0
    for record in records:
        values = record["process"]
        assert is_fraction(values["cpu"])
        assert values["rss"] > MIB
        assert values["threads"] >= 2
    # Summed over the records, the tree's CPU fraction of the machine is the CPU time the
    # script measured for itself and its child (plus what the overseer spends around it).
    cpus = psutil.cpu_count() or 1
    counted = sum(
        after["process"]["cpu"] * (after["$t"] - before["$t"]) * cpus
        for before, after in itertools.pairwise(records)
    )
    assert 0.7 < counted / measured["cpu_seconds"] < 1.5, (counted, measured)


def test_io_and_net_records_count_bytes_since_the_start(run_overseer: Any) -> None:
    disk_before = psutil.disk_io_counters()
    done = run_overseer(
        "--io-monitor-interval", "0.1", "--net-monitor-interval", "0.1", "monitor_traffic.py"
    )
    disk_after = psutil.disk_io_counters()

    assert done.returncode == 0, done.stderr
    for key, names in (("iodata", ("read", "write")), ("netdata", ("sent", "received"))):
        records = records_of(done, key)
        assert len(records) >= 5
        for name in names:
            totals = [record[key][f"{name}_bytes"] for record in records]
            assert totals == sorted(totals)
            assert totals[0] >= 0
            # Each rate is the growth of its total over the time since the record before.
            for before, after in itertools.pairwise(records):
                grown = after[key][f"{name}_bytes"] - before[key][f"{name}_bytes"]
                rate = after[key][f"{name}_bytes_per_s"]
                # The stream stamps a record a little after its sample: allow that jitter.
                elapsed = after["$t"] - before["$t"]
                assert rate * elapsed == pytest.approx(grown, rel=0.5, abs=64 * 1024)
    # Loopback traffic is counted on every interface psutil sums.
    assert done.data("netdata")[-1]["sent_bytes"] >= 4 * MIB
    if disk_before and disk_after and disk_after.write_bytes - disk_before.write_bytes >= 8 * MIB:
        # This machine's disk counters saw the file (not a RAM disk): so did the monitor.
        assert done.data("iodata")[-1]["write_bytes"] >= 8 * MIB


def test_a_counter_psutil_cannot_find_stops_its_monitor_with_one_notice(
    run_overseer: Any, workdir: Path
) -> None:
    (workdir / "voirfile.py").write_text(
        textwrap.dedent(
            """
            import psutil

            psutil.disk_io_counters = lambda *args, **kwargs: None
            """
        )
    )

    done = run_overseer(
        "--io-monitor", "--cpu-monitor-interval", "0.1", "monitor_until.py", "cpudata", "2"
    )

    assert done.returncode == 0, done.stderr
    assert done.data("iodata") == []
    assert len(done.data("cpudata")) >= 2
    notices = [line for line in done.stderr.splitlines() if "io_monitor" in line]
    assert notices == [
        "overseer: io_monitor: off: psutil finds no disk I/O counters on this machine"
    ]


def test_access_denied_mid_run_is_reported_once_and_the_run_goes_on(
    run_overseer: Any, workdir: Path
) -> None:
    (workdir / "voirfile.py").write_text(
        textwrap.dedent(
            """
            import psutil

            readings = []
            real = psutil.virtual_memory


            def virtual_memory():
                readings.append(1)
                if len(readings) > 2:
                    raise psutil.AccessDenied(msg="not allowed to read memory")
                return real()


            psutil.virtual_memory = virtual_memory
            """
        )
    )

    flags = ("--cpu-monitor-interval", "0.05", "--net-monitor-interval", "0.05")
    done = run_overseer(*flags, "monitor_until.py", "instrument_error", "1", "netdata", "3")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("slept ")
    assert len(done.data("cpudata")) == 2
    assert len(done.data("netdata")) > 2  # the other monitors go on
    errors = done.events("instrument_error")
    assert [(error["instrument"], error["type"]) for error in errors] == [
        ("cpu_monitor", "AccessDenied")
    ]
    lines = [line for line in done.stderr.splitlines() if "cpu_monitor" in line]
    assert len(lines) == 1
    assert "not allowed to read memory" in lines[0]
