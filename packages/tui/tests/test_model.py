"""Runs built from runner entries: metrics, step, progress, status, log, history, RunSet."""

from __future__ import annotations

import math
from typing import Any

import pytest

from overseer_tui.model import LOG_LEVELS, LogLine, Run, RunSet, RunStatus, log_level

BATCH = {"$tensor": {"shape": [512, 2, 3, 3], "dtype": "float32", "device": "cpu"}}


def data(record: dict[str, Any], t: float = 100.0, pid: int = 2528) -> dict[str, Any]:
    return {"event": "data", "data": record, "pipe": None, "t": t, "index": 0, "pid": pid}


def entry(
    event: str, payload: Any = None, t: float = 100.0, pipe: str | None = None
) -> dict[str, Any]:
    return {"event": event, "data": payload, "pipe": pipe, "t": t, "index": 0}


def status_of(run: Run) -> RunStatus:
    """The status now (mypy would keep the one narrowed by an earlier assert)."""
    return run.status


def points(run: Run, name: str) -> list[tuple[float, float, float]]:
    series = run.metrics[name]
    xs, ys = series.x_values("step"), series.y_values()
    ts = series.x_values("wall")
    return list(zip(xs.tolist(), ts.tolist(), ys.tolist(), strict=True))


def test_numbers_tensors_and_non_finite_strings_become_metric_points() -> None:
    run = Run("abc", "modest-badger")
    run.apply(data({"step": 2, "batch": BATCH, "loss": 3.2, "acc": {"$tensor": {"value": 0.5}}}))
    run.apply(data({"step": 3, "loss": "NaN", "grad": "Infinity", "low": "-Infinity"}, t=101.0))
    assert sorted(run.metrics) == ["acc", "grad", "loss", "low"]
    assert points(run, "loss")[0] == (2.0, 100.0, 3.2)
    assert points(run, "acc") == [(2.0, 100.0, 0.5)]
    assert math.isnan(points(run, "loss")[1][2])
    assert points(run, "grad")[0][2] == math.inf
    assert points(run, "low")[0][2] == -math.inf


def test_flags_text_summaries_and_dollar_keys_are_not_metrics() -> None:
    run = Run("abc", "x")
    record = {
        "use_cuda": False,
        "done": True,
        "model": {"$repr": "PolicyValueNetwork(...)"},
        "units": "items/s",
        "name": "hello",
        "$wrap": 3,
        "weights": {"$tensor": {"shape": [3], "dtype": "float32"}},
        "nested": {"a": 1},
        "values": [1, 2],
    }
    run.apply(data(record))
    assert run.metrics == {}


def test_a_task_other_than_main_prefixes_the_metric_names() -> None:
    run = Run("abc", "x")
    run.apply(data({"task": "train", "rate": 3004.9, "units": "items/s"}))
    run.apply(data({"task": "main", "memory": 12.0}))
    assert sorted(run.metrics) == ["memory", "train.rate"]


def test_step_sets_the_x_of_later_points_else_the_record_count() -> None:
    run = Run("abc", "x")
    run.apply(data({"loss": 1.0}))
    run.apply(data({"use_cuda": False}))
    run.apply(data({"loss": 0.9}))
    assert [x for x, _, _ in points(run, "loss")] == [0.0, 2.0]
    run.apply(data({"step": 10, "loss": 0.8}))
    run.apply(data({"task": "train", "rate": 5.0}))
    assert run.step == 10.0
    assert points(run, "loss")[-1][0] == 10.0
    assert points(run, "train.rate") == [(10.0, 100.0, 5.0)]


def test_progress_sets_progress_and_eta_from_its_rate() -> None:
    run = Run("abc", "x")
    run.apply(entry("start", {"argv": [], "pid": 1}, t=0.0))
    run.apply(data({"progress": [10, 100], "task": "train"}, t=10.0))
    assert run.progress == (10.0, 100.0)
    # One record only: the rate is measured from the start.
    assert run.eta(now=10.0) == pytest.approx(90.0)
    run.apply(data({"progress": [30, 100], "task": "train"}, t=20.0))
    # 20 items in 10 s from the first progress record: 70 left take 35 s, 5 of them passed.
    assert run.eta(now=25.0) == pytest.approx(30.0)
    assert "progress" not in run.metrics
    run.apply(data({"progress": [100, 100], "task": "train"}, t=60.0))
    assert run.eta(now=60.0) == 0.0


def test_eta_is_unknown_without_progress_or_once_done() -> None:
    run = Run("abc", "x")
    run.apply(entry("start", {"argv": [], "pid": 1}, t=0.0))
    assert run.eta(now=5.0) is None
    run.apply(data({"progress": [3, 10]}, t=3.0))
    run.apply(entry("end", {"returncode": 0, "duration": 4.0}, t=4.0))
    assert run.eta(now=5.0) is None


def test_gpudata_updates_the_gpus_not_the_metrics() -> None:
    run = Run("abc", "x")
    device = {"name": "H100", "load": 0.97, "memory": [6e10, 8.5e10], "processes": []}
    run.apply(data({"gpudata": {"0": device}, "task": "main"}))
    run.apply(data({"gpudata": {"0": {**device, "load": 0.5}, "1": device}, "task": "main"}))
    assert run.metrics == {}
    assert run.gpus["0"]["load"] == 0.5
    assert sorted(run.gpus) == ["0", "1"]


def test_cpu_monitor_records_become_the_cpu_load_and_memory_fraction() -> None:
    run = Run("a1b2c3d4e5f6", "calm-river")
    cpudata = {"load": 0.52, "per_cpu": [0.61, 0.43], "memory": [3.0e9, 12.0e9]}
    run.apply(data({"cpudata": cpudata, "task": "main"}, t=5.0))
    assert sorted(run.metrics) == ["cpu.load", "cpu.memory"]
    assert run.metrics["cpu.load"].latest == 0.52
    assert run.metrics["cpu.memory"].latest == 0.25


def test_status_follows_start_and_end() -> None:
    run = Run("abc", "x")
    assert run.status is RunStatus.PENDING
    run.apply(entry("start", {"argv": ["a"], "pid": 2528}, t=1.0))
    assert (run.status, run.started, run.pids) == (RunStatus.RUNNING, 1.0, {2528})
    run.apply(entry("end", {"returncode": 0, "duration": 4.0}, t=5.0))
    assert (run.status, run.ended, run.updated) == (RunStatus.COMPLETED, 5.0, 5.0)


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([("end", {"returncode": 1})], RunStatus.FAILED),
        ([("end", {"returncode": -9})], RunStatus.FAILED),
        ([("signal", {"signal": "SIGTERM"}), ("end", {"returncode": 143})], RunStatus.CANCELLED),
        ([("signal", {"signal": "SIGINT"}), ("end", {"returncode": -2})], RunStatus.CANCELLED),
        ([("end", {"returncode": -15})], RunStatus.CANCELLED),
    ],
)
def test_a_failed_or_stopped_run(events: list[tuple[str, Any]], expected: RunStatus) -> None:
    run = Run("abc", "x")
    run.apply(entry("start", {"argv": [], "pid": 1}, t=1.0))
    for index, (event, payload) in enumerate(events):
        run.apply(entry(event, payload, t=2.0 + index))
    assert run.status is expected


def test_an_error_event_and_a_command_that_could_not_start_say_why() -> None:
    run = Run("abc", "x")
    run.apply(entry("error", {"type": "ValueError", "message": "bad lr"}))
    assert run.error == "ValueError: bad lr"
    message = "cannot start 'x': not found on PATH"
    run.apply(entry("end", {"returncode": 127, "duration": 0.0, "error": message}))
    assert (run.status, run.error) == (RunStatus.FAILED, message)


def test_the_newer_of_job_json_and_the_events_gives_the_status() -> None:
    run = Run("abc", "x")
    run.apply_job({"state": "RUNNING", "updated": 10.0})
    run.apply(entry("start", {"argv": [], "pid": 1}, t=11.0))
    run.apply(entry("end", {"returncode": 0, "duration": 9.0}, t=20.0))
    assert run.status is RunStatus.COMPLETED  # job.json says RUNNING, but it is older
    run.apply_job({"state": "REQUEUED", "updated": 30.0})
    assert status_of(run) is RunStatus.PENDING
    run.apply(entry("start", {"argv": [], "pid": 2}, t=40.0))
    assert (run.status, run.started, run.ended) == (RunStatus.RUNNING, 11.0, None)
    run.apply_job({"state": "TIMEOUT", "updated": 50.0})
    assert status_of(run) is RunStatus.FAILED


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("PENDING", RunStatus.PENDING),
        ("SUBMITTING", RunStatus.PENDING),
        ("PREEMPTED", RunStatus.PENDING),
        ("CANCELLED", RunStatus.CANCELLED),
        ("UNKNOWN", RunStatus.UNKNOWN),
        ("SOMETHING_NEW", RunStatus.UNKNOWN),
    ],
)
def test_job_states(state: str, status: RunStatus) -> None:
    run = Run("abc", "x")
    run.apply_job({"state": state, "updated": 1.0})
    assert run.status is status


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Traceback (most recent call last):", "error"),
        ("ValueError: bad lr", "error"),
        ("ERROR lost the GPU", "error"),
        ("an Exception happened", "error"),
        ("UserWarning: deprecated", "warning"),
        ("WARNING: slow step", "warning"),
        ("DEBUG cache hit", "debug"),
        ("epoch 3 loss 0.5", "info"),
        ("errors are lowercase here", "info"),
    ],
)
def test_log_levels_come_from_the_words(text: str, level: str) -> None:
    assert log_level(text) == level
    assert level in LOG_LEVELS


def test_line_entries_become_log_lines_with_their_pipe() -> None:
    run = Run("abc", "x")
    run.apply(entry("line", "loading data", t=3.0, pipe="stderr"))
    run.apply(entry("line", "RuntimeError: boom", t=4.0, pipe="stderr"))
    assert list(run.log) == [
        LogLine(3.0, "stderr", "loading data", "info"),
        LogLine(4.0, "stderr", "RuntimeError: boom", "error"),
    ]


def test_the_log_keeps_the_last_ten_thousand_lines() -> None:
    run = Run("abc", "x")
    for number in range(10_005):
        run.apply(entry("line", f"line {number}", pipe="stdout"))
    assert len(run.log) == 10_000
    assert run.log[0].text == "line 5"


def test_history_lines_use_step_then_epoch_then_their_index() -> None:
    run = Run("abc", "x")
    run.apply_history({"epoch": 1, "policy_loss": 2.1, "$t": 50.0}, 0)
    run.apply_history({"step": 7, "epoch": 2, "policy_loss": 2.0, "t": 60.0}, 1)
    run.apply_history({"value_loss": 0.9, "ok": True}, 2)
    assert points(run, "policy_loss") == [(1.0, 50.0, 2.1), (7.0, 60.0, 2.0)]
    assert [x for x, _, _ in points(run, "value_loss")] == [2.0]
    assert points(run, "epoch") == [(7.0, 60.0, 2.0)]  # a metric when step is the x
    assert "ok" not in run.metrics


def test_a_value_both_given_and_pushed_is_plotted_once_from_the_events() -> None:
    run = Run("abc", "x")
    run.apply_history({"epoch": 1, "policy_loss": 2.1}, 0)
    run.apply(data({"step": 50}))
    run.apply(data({"epoch": 1, "policy_loss": 2.1}))
    run.apply_history({"epoch": 2, "policy_loss": 2.0}, 1)
    assert points(run, "policy_loss") == [(50.0, 100.0, 2.1)]


def test_reset_events_drops_what_the_events_gave_but_not_the_history() -> None:
    run = Run("abc", "x")
    run.apply(entry("start", {"argv": [], "pid": 1}, t=1.0))
    run.apply(data({"step": 5, "loss": 1.0, "progress": [1, 2]}))
    run.apply(entry("line", "hello", pipe="stdout"))
    run.apply_history({"epoch": 1, "policy_loss": 2.1}, 0)
    run.reset_events()
    assert sorted(run.metrics) == ["policy_loss"]
    assert (run.step, run.progress, len(run.log), run.started) == (None, None, 0, None)
    run.apply(data({"loss": 0.5}))
    assert points(run, "loss") == [(0.0, 100.0, 0.5)]  # the record count starts over
    run.reset_history()
    assert sorted(run.metrics) == ["loss"]


def test_a_run_set_tells_what_changed_since_the_last_look() -> None:
    runs = RunSet()
    runs.add(Run("a1", "calm-river", args={"lr": 0.1}))
    runs.add(Run("b2", "bold-otter", args={"lr": 0.1}))
    version = runs.version
    assert runs.take_changes() == {"a1", "b2"}
    assert runs.take_changes() == set()
    runs.touch("b2")
    assert runs.take_changes() == {"b2"}
    assert runs.version > version
    assert len(runs) == 2


def test_metric_names_are_the_union_of_every_run() -> None:
    runs = RunSet()
    first, second = Run("a1", "a"), Run("b2", "b")
    first.apply(data({"loss": 1.0}))
    second.apply(data({"accuracy": 0.5, "loss": 2.0}))
    runs.add(first)
    runs.add(second)
    assert runs.metric_names() == ["accuracy", "loss"]


def test_differing_args_are_those_that_differ_or_are_missing_somewhere() -> None:
    runs = RunSet()
    runs.add(Run("a1", "a", args={"lr": 0.1, "size": 3, "seed": 0, "layers": [1, 2]}))
    runs.add(Run("b2", "b", args={"lr": 0.2, "size": 3, "layers": [1, 2]}))
    runs.add(Run("c3", "c", args={"lr": 0.1, "size": 3, "layers": [1, 3]}))
    assert runs.differing_args() == ["layers", "lr", "seed"]


def test_differing_args_compare_values_as_their_json_does() -> None:
    runs = RunSet()
    nan = float("nan")
    first = {"int": 1, "flag": 1, "text": "1", "zero": 0.0, "nan": nan, "nested": {"a": 1, "b": 2}}
    second = {
        "int": 1.0,
        "flag": True,
        "text": 1,
        "zero": -0.0,
        "nan": nan,
        "nested": {"b": 2, "a": 1},
    }
    runs.add(Run("a1", "a", args=first))
    runs.add(Run("b2", "b", args=second))
    runs.add(Run("c3", "c", args=first))
    assert runs.differing_args() == ["flag", "int", "text", "zero"]
