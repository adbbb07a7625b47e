"""Saving a whole trace (JSON, Chrome trace files) and comparing two traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from overseer_tracing.export import CallChange, chrome_trace_events
from overseer_tracing.record import Recorder, TraceResult


def pipeline(batches: list[list[int]], scale: float = 2.0, extra: bool = False) -> TraceResult:
    """A small traced run: a model call around a layer call per batch."""
    recorder = Recorder()
    for batch in batches:
        outer = recorder.begin("evaluation", "Model.forward", "forward", {"batch": batch})
        inner = recorder.begin("custom", "Layer.scale", "scale", {"factor": scale})
        recorder.end(inner, result=[x * scale for x in batch])
        recorder.end(outer, result=sum(batch) * scale)
    if extra:
        recorder.end(recorder.begin("custom", "Layer.scale", "scale", {"factor": scale}))
    return recorder.result()


def test_json_holds_every_call_and_reads_back(tmp_path: Path) -> None:
    result = pipeline([[1, 2], [3, 4]])
    text = result.to_json(tmp_path / "trace.json")
    document = json.loads((tmp_path / "trace.json").read_text(encoding="utf-8"))
    assert document == json.loads(text)
    assert document["format"] == "overseer-tracing/trace"
    assert document["version"] == 1
    assert [stage["name"] for stage in document["stages"]] == ["evaluation", "custom"]
    forward = document["stages"][0]["calls"][1]
    assert forward["index"] == 2
    assert forward["name"] == "Model.forward"
    assert forward["params"]["batch"]["kind"] == "list"
    assert forward["params"]["batch"]["length"] == 2
    assert forward["result"]["short"] == "float 14.0"
    assert document["stages"][1]["calls"][0]["parent"] == 0
    assert sum(len(stage["calls"]) for stage in document["stages"]) == len(result.calls)


def test_json_is_strict_even_for_nan_and_failures() -> None:
    recorder = Recorder()
    token = recorder.begin("custom", "f", "f", {"x": float("nan"), "y": float("inf")})
    recorder.end(token, error=RuntimeError("nan loss"))
    recorder.end(recorder.begin("custom", "g", "g", None, capture_error="bad arg"))

    def refuse(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    calls = json.loads(recorder.result().to_json(), parse_constant=refuse)["stages"][0]["calls"]
    assert calls[0]["status"] == "error"
    assert calls[0]["exception"] == ["RuntimeError", "nan loss"]
    assert calls[1]["exception"] == ["CaptureError", "bad arg"]


def test_the_chrome_trace_holds_one_complete_event_per_call(tmp_path: Path) -> None:
    result = pipeline([[1, 2], [3, 4], [5, 6]])
    path = result.to_chrome_trace(tmp_path / "trace.perfetto.json")
    events = json.loads(path.read_text(encoding="utf-8"))["traceEvents"]
    complete = [event for event in events if event["ph"] == "X"]
    assert len(complete) == len(result.calls) == 6
    for event, call in zip(complete, result.calls, strict=True):
        assert event["name"] == call.display_name
        assert event["cat"] == call.stage
        assert event["ts"] == pytest.approx(call.start_ns / 1000)
        assert event["dur"] == pytest.approx(call.duration_ns / 1000)
    forward, scale = complete[0], complete[1]
    assert forward["tid"] == scale["tid"]
    assert forward["ts"] <= scale["ts"]  # the layer call nests inside the model call
    assert scale["ts"] + scale["dur"] <= forward["ts"] + forward["dur"]
    assert scale["args"]["parent"] == 0
    assert scale["args"]["factor"] == "float 2.0"
    names = [event["args"]["name"] for event in events if event["ph"] == "M"]
    assert names == ["MainThread"]


def test_a_running_call_still_makes_a_complete_event() -> None:
    recorder = Recorder()
    recorder.begin("custom", "f", "f", None)
    (event, _) = chrome_trace_events(recorder.result())
    assert event["ph"] == "X"
    assert event["dur"] == 0
    assert event["args"]["status"] == "running"  # type: ignore[index]


def test_the_diff_of_identical_runs_is_empty() -> None:
    diff = pipeline([[1, 2], [3, 4]]).diff(pipeline([[1, 2], [3, 4]]))
    assert not diff
    assert len(diff) == 0
    assert str(diff) == "TraceDiff: no call changed"


def test_the_diff_finds_the_changed_call() -> None:
    diff = pipeline([[1, 2], [3, 4]]).diff(pipeline([[1, 2], [4, 3]]))
    assert [(c.stage, c.position, c.name, c.fields) for c in diff] == [
        ("evaluation", 1, "Model.forward", ("param batch",)),  # same sum: only the argument
        ("custom", 1, "Layer.scale", ("result",)),
    ]
    assert diff[0].before is not None
    assert diff[0].before.index == 2
    assert "evaluation[1] Model.forward: param batch" in str(diff)


def test_the_diff_sees_orders_that_an_xor_hash_would_miss() -> None:
    diff = pipeline([[0, 1, 1, 0]]).diff(pipeline([[1, 0, 0, 1]]))
    assert [c.fields for c in diff if c.stage == "evaluation"] == [("param batch",)]


def test_the_diff_reports_calls_only_one_trace_has() -> None:
    diff = pipeline([[1]], scale=3.0).diff(pipeline([[1]], scale=3.0, extra=True))
    assert diff.changes == (
        CallChange("custom", 1, "Layer.scale", ("only after",), None, diff[0].after),
    )
    flipped = pipeline([[1]], extra=True).diff(pipeline([[1]]))
    assert flipped[0].fields == ("only before",)


def test_a_long_diff_prints_short() -> None:
    many = pipeline([[i] for i in range(300)]).diff(pipeline([[-i - 1] for i in range(300)]))
    assert len(many) == 600
    lines = str(many).splitlines()
    assert len(lines) < 110
    assert lines[-1] == "  ... 500 more"
