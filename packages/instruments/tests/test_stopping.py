"""early_stop ends a real script under the overseer after exactly N records, or a time budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from overseer_instruments import ConfigurationError, early_stop

# The stream stamps records with the wall clock, the budget is kept by the monotonic one: over
# a second they can part by a fraction of a millisecond.
CLOCKS = 0.01


def progress_of(finished: Any) -> list[list[int]]:
    return [r["progress"] for r in finished.records if r.get("task") == "early_stop"]


def stamp(finished: Any, event: str, name: str | None = None) -> float:
    """When the stream wrote the one control record ``event`` (the phase ``name``)."""
    (found,) = [
        r["$t"]
        for r in finished.records
        if r.get("$event") == event and (name is None or r["$data"]["name"] == name)
    ]
    return float(found)


def test_the_nth_record_is_the_last_one_given(run_overseer: Any, workdir: Path) -> None:
    # An instrument that subscribes as the script starts, as early_stop does.
    (workdir / "voirfile.py").write_text(
        "def instrument_seen(ov):\n"
        "    yield ov.phases.load_script\n"
        "    ov.given['?step'].map(lambda step: {'seen': step}) >> ov.log\n"
    )
    finished = run_overseer("--early-stop-n", "10", "--log", "step", "stopping_steps.py")
    assert finished.returncode == 0, finished.stderr
    assert "last step given: 9" in finished.stdout
    assert finished.events("stop") == [{"value": "early_stop: 10 records of 'step'"}]
    # The stop is raised inside the 10th give(), after the other instruments saw it.
    assert finished.data("step") == list(range(10))
    assert finished.data("seen") == list(range(10))


def test_early_stop_flag_alone_stops_after_100_steps(run_overseer: Any) -> None:
    finished = run_overseer("--early-stop", "--log-given", "stopping_steps.py")
    assert finished.returncode == 0, finished.stderr
    assert "last step given: 99" in finished.stdout
    assert progress_of(finished) == [[i, 100] for i in range(1, 101)]
    assert len(finished.events("stop")) == 1


def test_a_script_shorter_than_n_runs_to_its_end(run_overseer: Any) -> None:
    finished = run_overseer("--early-stop-n", "50", "stopping_steps.py", "20")
    assert finished.returncode == 0, finished.stderr
    assert "last step given: 19" in finished.stdout
    assert finished.events("stop") == []


def test_only_records_of_the_task_count(run_overseer: Any) -> None:
    finished = run_overseer(
        "--early-stop-n", "5", "--early-stop-task", "valid", "stopping_tasks.py"
    )
    assert finished.returncode == 0, finished.stderr
    # valid gives its 5th step (step=4) at train step 8.
    assert "last record given: valid 4" in finished.stdout
    assert len(finished.events("stop")) == 1


def test_only_records_holding_the_key_count(run_overseer: Any) -> None:
    finished = run_overseer("--early-stop-n", "3", "--early-stop-key", "epoch", "stopping_tasks.py")
    assert finished.returncode == 0, finished.stderr
    # epoch is given once per train step, after it: the third one follows train step 2.
    assert "last record given: valid 1" in finished.stdout
    assert finished.events("stop") == [{"value": "early_stop: 3 records of 'epoch'"}]


def test_at_stops_at_the_first_record_whose_key_reaches_it(run_overseer: Any) -> None:
    flags = ("--early-stop-key", "step", "--early-stop-at", "41.5", "--log-given")
    finished = run_overseer(*flags, "stopping_steps.py")
    assert finished.returncode == 0, finished.stderr
    assert "last step given: 42" in finished.stdout
    assert finished.events("stop") == [{"value": "early_stop: 'step' reached 42 (at 41.5)"}]
    assert progress_of(finished) == [[step, 41.5] for step in range(43)]


def test_a_budget_at_a_value_holds_across_a_resume(run_overseer: Any) -> None:
    # A run resumed at 640 samples stops at 1,024 (6 steps of 64), where a count of records
    # would have started over and trained 1,000 samples more.
    flags = ("--early-stop-key", "samples", "--early-stop-at", "1000")
    finished = run_overseer(*flags, "stopping_samples.py", "640")
    assert finished.returncode == 0, finished.stderr
    assert "samples reached: 1024" in finished.stdout
    assert finished.events("stop") == [{"value": "early_stop: 'samples' reached 1024 (at 1000)"}]
    # Started beyond the budget, the run stops at its first step.
    again = run_overseer(*flags, "stopping_samples.py", "1024")
    assert "samples reached: 1088" in again.stdout


def test_a_voirfile_requires_it_with_arguments(run_overseer: Any, workdir: Path) -> None:
    (workdir / "voirfile.py").write_text(
        "from overseer_instruments import early_stop\n\n\n"
        "def instrument_stop(ov):\n"
        "    ov.require(early_stop(4, key='step', task='train'))\n"
    )
    finished = run_overseer("stopping_tasks.py")
    assert finished.returncode == 0, finished.stderr
    assert "last record given: train 3" in finished.stdout


@pytest.mark.parametrize("mode", ["sleep", "spin", "wait"])
def test_time_budget_stops_a_script_that_never_gives(run_overseer: Any, mode: str) -> None:
    finished = run_overseer(
        "--early-stop-seconds", "0.5", "--log-given", "stopping_forever.py", mode
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.events("stop") == [{"value": "early_stop: 0.5 seconds passed"}]
    # The script's finally block ran, in its main thread, once the budget was spent: the
    # budget counts from the end of load_script, and the stop is recorded after that block.
    assert "ran for " in finished.stdout
    assert stamp(finished, "stop") - stamp(finished, "phase", "load_script") >= 0.5 - CLOCKS
    assert progress_of(finished)[-1] == [0, 1]


def test_time_budget_stops_a_script_that_gives(run_overseer: Any) -> None:
    finished = run_overseer(
        "--early-stop-seconds", "1.5", "--log-given", "stopping_steps.py", "100000", "0.01"
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.events("stop") == [{"value": "early_stop: 1.5 seconds passed"}]
    last = int(finished.stdout.split("last step given: ")[1])
    assert 0 < last < 99_999
    assert finished.data("step")[-1] == last
    # Whole seconds out of the budget, rounded up.
    assert progress_of(finished)[0] == [1, 2]
    assert {tuple(p) for p in progress_of(finished)} == {(1, 2)}


def test_event_mode_writes_one_stop_record_and_lets_the_script_go_on(run_overseer: Any) -> None:
    finished = run_overseer(
        "--early-stop-n", "10", "--early-stop-signal", "event", "--log-given", "stopping_steps.py"
    )
    assert finished.returncode == 0, finished.stderr
    assert "last step given: 999" in finished.stdout
    [stop] = finished.events("stop")
    assert stop["value"] == "early_stop: 10 records of 'step'"
    assert stop["reason"] == "count"
    assert (stop["key"], stop["task"], stop["count"]) == ("step", None, 10)
    assert stop["elapsed"] >= 0
    # Written right after the 10th record, for the parent to act on.
    steps = [
        r.get("step", r.get("$event")) for r in finished.records if "loss" in r or "$data" in r
    ]
    assert steps[steps.index("stop") - 1] == 9
    assert progress_of(finished)[-1] == [10, 10]


def test_event_mode_time_budget(run_overseer: Any) -> None:
    finished = run_overseer(
        "--early-stop-seconds",
        "0.3",
        "--early-stop-signal",
        "event",
        "stopping_steps.py",
        "60",
        "0.01",
    )
    assert finished.returncode == 0, finished.stderr
    assert "last step given: 59" in finished.stdout
    [stop] = finished.events("stop")
    assert stop["reason"] == "seconds"
    assert stop["elapsed"] >= 0.3


def test_a_record_from_a_background_thread_stops_the_main_thread(run_overseer: Any) -> None:
    finished = run_overseer("--early-stop-n", "10", "--log-given", "stopping_thread.py")
    assert finished.returncode == 0, finished.stderr
    assert "stopped in MainThread, worker alive: False" in finished.stdout
    assert "Exception in thread" not in finished.stderr
    assert finished.events("stop") == [{"value": "early_stop: 10 records of 'step'"}]
    assert progress_of(finished)[-1] == [10, 10]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--early-stop-n", "0"], "--early-stop-n: expected a whole number above 0, not '0'"),
        (["--early-stop-n", "ten"], "--early-stop-n: expected a whole number above 0, not 'ten'"),
        (["--early-stop-seconds", "-1"], "--early-stop-seconds: expected a number of seconds"),
        (["--early-stop-seconds", "nan"], "--early-stop-seconds: expected a number of seconds"),
        (["--early-stop-signal", "kill"], "--early-stop-signal: invalid choice: 'kill'"),
        (["--early-stop-at", "nan"], "--early-stop-at: expected a number, e.g. 8000, not 'nan'"),
        (
            ["--early-stop-n", "5", "--early-stop-at", "9"],
            "--early-stop-n and --early-stop-at are two ends: give one",
        ),
    ],
)
def test_bad_flags_end_the_run_with_one_line(
    run_overseer: Any, flags: list[str], message: str
) -> None:
    finished = run_overseer(*flags, "stopping_steps.py")
    assert finished.returncode == 2
    assert message in finished.stderr.strip().splitlines()[-1]
    assert "last step given" not in finished.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n": 0}, r"early_stop\(n=0\) must be a whole number above 0"),
        ({"n": 2.5}, r"early_stop\(n=2.5\) must be a whole number above 0"),
        ({"seconds": 0}, r"early_stop\(seconds=0\) must be a number of seconds above 0"),
        ({"seconds": float("inf")}, r"early_stop\(seconds=inf\) must be a number"),
        ({"key": ""}, r"early_stop\(key=''\) must be the name of a key"),
        ({"signal": "kill"}, r"early_stop\(signal='kill'\) is unknown: use 'raise' or 'event'"),
        ({"at": "8000"}, r"early_stop\(at='8000'\) must be a finite number"),
        ({"at": float("inf")}, r"early_stop\(at=inf\) must be a finite number"),
        ({"n": 3, "at": 5}, r"early_stop\(n=3, at=5\) has two ends: give n or at"),
    ],
)
def test_bad_arguments_are_configuration_errors(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        early_stop(**arguments)
