"""The sampling thread under every monitor: when it samples, when it stops, how it fails.

Each test runs a real script under the overseer with a monitor on, and reads its stream.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from overseer_instruments import ConfigurationError, cpu_monitor, io_monitor, monitor_all


def records_of(done: Any, key: str) -> list[dict[str, Any]]:
    """The data records holding ``key``, whole (with their ``$t``)."""
    return [r for r in done.records if "$event" not in r and key in r]


def phase_time(done: Any, name: str) -> float:
    """When the phase ``name`` ended, by the stream's clock."""
    (record,) = [
        r for r in done.records if r.get("$event") == "phase" and r["$data"]["name"] == name
    ]
    return float(record["$t"])


def slept(done: Any) -> float:
    """The seconds monitor_sleep.py measured itself sleeping."""
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("slept "), done.stdout
    return float(last.split()[1])


def test_records_arrive_while_the_script_never_gives(run_overseer: Any) -> None:
    done = run_overseer("--cpu-monitor-interval", "0.2", "monitor_sleep.py", "1.5")

    assert done.returncode == 0, done.stderr
    records = records_of(done, "cpudata")
    # About 8 at 0.2 s over 1.5 s; a loaded machine may delay some, never drop them all.
    assert len(records) >= 3
    times = [record["$t"] for record in records]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert all(record["task"] == "main" for record in records)
    # Sampled while the script runs: after it is loaded, before it ends.
    assert phase_time(done, "load_script") <= times[0]
    assert times[-1] <= phase_time(done, "run_script")


def test_first_sample_at_once_and_no_waiting_out_the_interval(run_overseer: Any) -> None:
    done = run_overseer("--cpu-monitor-interval", "30", "monitor_sleep.py", "0.5")

    assert done.returncode == 0, done.stderr
    # The one sample taken at the start: the next one would be 30 s later.
    assert len(records_of(done, "cpudata")) == 1
    # From the script's start to the process's exit takes the script's own time and a little
    # more: a sampler sleeping out its interval would hold the exit for the 5 s that stopping
    # waits for a sample in progress. Half of that is more than a loaded machine adds.
    (exit_record,) = [r for r in done.records if r.get("$event") == "exit"]
    after_load = exit_record["$t"] - phase_time(done, "load_script")
    assert after_load - slept(done) < 2.5


# The third call writes a record of its own before it fails, for monitor_until.py to wait on.
FLAKY_VOIRFILE = """
from overseer_instruments._sampler import Unavailable, sampling_instrument

calls = []


def instrument_flaky(ov):
    def prepare():
        def sample():
            calls.append(1)
            if len(calls) == 3:
                ov.log({{"$event": "third_call", "$data": {{}}}})
                raise {error}
            return {{"call": len(calls)}}

        return sample

    ov.require(sampling_instrument("flaky_monitor", "flaky", 0.05, prepare))
"""


def write_voirfile(workdir: Path, text: str) -> None:
    (workdir / "voirfile.py").write_text(textwrap.dedent(text))


def test_a_failing_sample_is_reported_once_and_the_run_goes_on(
    run_overseer: Any, workdir: Path
) -> None:
    write_voirfile(workdir, FLAKY_VOIRFILE.format(error='RuntimeError("sensor fell off")'))

    done = run_overseer("monitor_until.py", "third_call", "1")

    assert done.returncode == 0, done.stderr
    assert slept(done) > 0  # the script went on to its end
    assert done.data("flaky") == [{"call": 1}, {"call": 2}]
    lines = [line for line in done.stderr.splitlines() if "flaky_monitor" in line]
    assert len(lines) == 1, done.stderr
    assert "RuntimeError: sensor fell off" in lines[0]
    assert done.events("instrument_error") == [
        {"instrument": "flaky_monitor", "type": "RuntimeError", "message": "sensor fell off"}
    ]


def test_a_sample_finding_nothing_to_measure_stops_with_one_notice(
    run_overseer: Any, workdir: Path
) -> None:
    write_voirfile(workdir, FLAKY_VOIRFILE.format(error='Unavailable("no sensor here")'))

    done = run_overseer("monitor_until.py", "third_call", "1")

    assert done.returncode == 0, done.stderr
    assert done.data("flaky") == [{"call": 1}, {"call": 2}]
    lines = [line for line in done.stderr.splitlines() if "flaky_monitor" in line]
    assert lines == ["overseer: flaky_monitor: stopped: no sensor here"]
    # Nothing is wrong with the run or the monitor: no error record.
    assert done.events("instrument_error") == []


def test_a_bad_interval_flag_is_one_line_and_status_2(run_overseer: Any) -> None:
    done = run_overseer("--cpu-monitor-interval", "0", "monitor_sleep.py", "0")

    assert done.returncode == 2
    assert "--cpu-monitor-interval: expected a number of seconds above 0" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("factory", [cpu_monitor, io_monitor, monitor_all])
@pytest.mark.parametrize("interval", [0, -1.0, float("nan"), "1"])
def test_a_bad_interval_argument_names_the_fix(factory: Any, interval: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"interval must be a positive number") as info:
        factory(interval=interval)

    assert f"{factory.__name__}(interval=1.0)" in str(info.value)


def test_the_same_monitor_required_twice_runs_once(run_overseer: Any, workdir: Path) -> None:
    write_voirfile(
        workdir,
        """
        from overseer_instruments import cpu_monitor


        def instrument_twice(ov):
            ov.require(cpu_monitor(interval=30), cpu_monitor(interval=30))
        """,
    )

    done = run_overseer("--cpu-monitor-interval", "30", "monitor_until.py", "cpudata", "1")

    assert done.returncode == 0, done.stderr
    assert len(done.data("cpudata")) == 1


def test_with_log_given_each_record_is_written_once(run_overseer: Any) -> None:
    flags = ("--log-given", "--cpu-monitor-interval", "30")
    done = run_overseer(*flags, "monitor_until.py", "cpudata", "1")

    assert done.returncode == 0, done.stderr
    assert len(done.data("cpudata")) == 1
