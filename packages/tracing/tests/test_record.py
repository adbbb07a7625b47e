"""The recorder and the trace it builds, as the decorators and a notebook user see them."""

from __future__ import annotations

import asyncio
import copy
import pickle
import threading
import time
from typing import Any

import pytest

from overseer_tracing import values
from overseer_tracing.record import (
    Recorder,
    TraceCall,
    TraceResult,
    TraceStage,
    current_recorder,
    get_trace,
    recording,
    reset_trace,
)


def call(
    recorder: Recorder,
    stage: str,
    name: str,
    params: dict[str, object] | None = None,
    result: object = None,
) -> int:
    """Record one finished call as a decorator would; returns its token."""
    token = recorder.begin(stage, name, name.rsplit(".", 1)[-1], params)
    recorder.end(token, result=result)
    return token


def traced(stage: str, name: str) -> None:
    """What a decorated function does: record into the current recorder, if any."""
    recorder = current_recorder()
    if recorder is not None:
        call(recorder, stage, name)


@pytest.fixture
def result() -> TraceResult:
    recorder = Recorder()
    call(recorder, "my_stage", "step")
    call(recorder, "evaluation", "Model.forward", {"x": [1.0, 2.0]}, result=3.0)
    call(recorder, "collate", "Loader.collate_fn", {"batch": [1, 2]}, result=[1, 2])
    call(recorder, "collate", "Loader.collate_fn", {"batch": [3, 4]}, result=[3, 4])
    call(recorder, "dataset_getter", "Items.__getitem__", {"index": 0}, result=10)
    call(recorder, "another", "other")
    return recorder.result()


def test_stages_come_in_pipeline_order_then_user_stages_by_first_appearance(
    result: TraceResult,
) -> None:
    names = [stage.name for stage in result]
    assert names == ["dataset_getter", "collate", "evaluation", "my_stage", "another"]
    assert len(result) == 5


def test_calls_answer_to_number_name_and_attribute(result: TraceResult) -> None:
    collate = result["collate"]
    assert collate is result.collate is result[1]
    assert collate[0].params["batch"].short() == "list[2] [1, 2]"
    assert collate[-1].result is not None
    assert collate[-1].result.short() == "list[2] [3, 4]"
    assert collate["collate_fn"] == [collate[0], collate[1]]  # two calls: a list
    assert collate["Loader.collate_fn"] == collate.collate_fn
    assert result.evaluation.forward is result.evaluation[0]  # one call: the call itself
    assert [c.index for c in collate[0:2]] == [2, 3]


def test_dir_offers_stage_and_function_names_for_tab_completion(result: TraceResult) -> None:
    assert {"collate", "evaluation", "my_stage", "diff", "to_json"} <= set(dir(result))
    assert {"collate_fn", "calls", "name"} <= set(dir(result.collate))
    assert "Loader.collate_fn" not in dir(result.collate)  # not an identifier


def test_unknown_names_explain_what_exists(result: TraceResult) -> None:
    with pytest.raises(KeyError, match="recorded stages: dataset_getter, collate"):
        result["prepare_inputs"]
    with pytest.raises(AttributeError, match=r"has: Loader\.collate_fn"):
        result.collate.forward  # noqa: B018
    assert not hasattr(result, "resolve_data")
    assert not hasattr(result.collate, "_private")


@pytest.mark.parametrize(
    "copier", [copy.copy, copy.deepcopy, lambda x: pickle.loads(pickle.dumps(x))]
)
def test_trace_objects_copy_and_pickle(result: TraceResult, copier: object) -> None:
    assert callable(copier)
    copied = copier(result)
    assert [s.name for s in copied] == [s.name for s in result]
    assert copied.collate.collate_fn[1].params["batch"].short() == "list[2] [3, 4]"
    stage, one = copier(result.collate), copier(result.evaluation[0])
    assert isinstance(stage, TraceStage)
    assert [c.index for c in stage] == [2, 3]
    assert isinstance(one, TraceCall)
    assert one.result is not None
    assert one.result.short() == "float 3.0"


@pytest.mark.parametrize("name", ["missing", "_missing", "__missing__", "shape"])
def test_hasattr_is_false_for_unknown_names_on_every_trace_object(
    result: TraceResult, name: str
) -> None:
    for thing in (result, result.collate, result.collate[0]):
        assert not hasattr(thing, name)
        assert not hasattr(copy.copy(thing), name)


def test_nested_recordings_stack_and_the_outer_one_resumes() -> None:
    with recording() as outer:
        traced("custom", "before")
        with recording() as inner:
            assert current_recorder() is inner
            traced("custom", "inside")
        assert current_recorder() is outer
        traced("custom", "after")
    assert current_recorder() is None
    assert [c.name for c in outer.result().custom] == ["before", "after"]
    assert [c.name for c in inner.result().custom] == ["inside"]


def run_in_thread(target: object) -> None:
    assert callable(target)
    thread = threading.Thread(target=target, name="worker")
    thread.start()
    thread.join()


def test_other_threads_stay_out_unless_all_threads() -> None:
    with recording() as recorder:
        run_in_thread(lambda: traced("custom", "from_worker"))
        traced("custom", "from_main")
    assert [c.name for c in recorder.result().custom] == ["from_main"]

    with recording(Recorder(all_threads=True)) as recorder:
        token = recorder.begin("custom", "outer", "outer", None)
        run_in_thread(lambda: traced("custom", "from_worker"))
        recorder.end(token)
    worker = recorder.result().custom[-1]
    assert worker.name == "from_worker"
    assert worker.thread == "worker"
    assert worker.parent is None  # the main thread's open call is not its parent
    assert current_recorder() is None  # all_threads ends with its recording


def test_nested_calls_link_to_their_parent() -> None:
    recorder = Recorder()
    outer = recorder.begin("evaluation", "Model.forward", "forward", None)
    inner = recorder.begin("custom", "Layer.__call__", "layer", None)
    deepest = call(recorder, "custom", "relu")
    recorder.end(inner)
    recorder.end(outer)
    after = call(recorder, "custom", "after")
    trace = recorder.result()
    assert trace.call(deepest).parent == inner
    assert trace.call(inner).parent == outer
    assert trace.call(outer).parent is None
    assert trace.call(after).parent is None
    assert trace.call(trace.call(deepest).parent).name == "Layer.__call__"  # type: ignore[arg-type]


def test_concurrent_tasks_keep_their_own_parents() -> None:
    recorder = Recorder()

    async def task(name: str) -> int:
        token = recorder.begin("custom", name, name, None)
        await asyncio.sleep(0)  # the other task begins its call meanwhile
        child = call(recorder, "custom", f"{name}_child")
        recorder.end(token)
        return child

    async def main() -> list[int]:
        return list(await asyncio.gather(task("a"), task("b")))

    children = asyncio.run(main())
    trace = recorder.result()
    parents = [trace.call(trace.call(child).parent).name for child in children]  # type: ignore[arg-type]
    assert parents == ["a", "b"]


def test_an_exception_is_recorded_with_type_message_and_duration() -> None:
    recorder = Recorder()
    token = recorder.begin("collate", "collate_fn", "collate_fn", {"batch": [1]})
    time.sleep(0.001)
    recorder.end(token, error=ValueError("batch too small"))
    failed = recorder.result().collate[0]
    assert failed.status == "error"
    assert failed.exception == ("ValueError", "batch too small")
    assert failed.duration_ns >= 1_000_000
    assert "ValueError: batch too small" in str(recorder.result())


def test_a_capture_that_failed_is_recorded_as_such() -> None:
    recorder = Recorder()
    token = recorder.begin("collate", "f", "f", {"a": 1}, capture_error="no argument at 3")
    recorder.end(token, result=2)
    failed = recorder.result().collate[0]
    assert failed.status == "capture_error"
    assert failed.exception == ("CaptureError", "no argument at 3")
    assert failed.result is not None  # what could be captured still is


def test_a_value_that_cannot_be_summarised_never_breaks_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = values.summarise

    def fussy(value: object) -> values.Summary:
        if value == "bad":
            raise TypeError("cannot look at this")
        return real(value)

    monkeypatch.setattr(values, "summarise", fussy)
    recorder = Recorder()
    call(recorder, "custom", "f", {"good": 1, "oops": "bad"})
    call(recorder, "custom", "g", None, result="bad")
    first, second = recorder.result().custom
    assert first.status == "capture_error"
    assert list(first.params) == ["good"]
    assert first.exception == ("CaptureError", "oops: cannot look at this")
    assert second.status == "capture_error"
    assert second.result is None


def test_the_cap_keeps_the_first_and_last_calls_and_counts_the_rest() -> None:
    recorder = Recorder(max_calls_per_stage=10)
    tokens = [call(recorder, "collate", "f", {"i": i}) for i in range(25)]
    stage = recorder.result().collate
    assert [c.index for c in stage] == tokens[:5] + tokens[-5:]
    assert stage.dropped == 15
    assert stage.total == 25
    assert "15 dropped" in str(recorder.result())


def test_ring_mode_keeps_only_the_latest_calls() -> None:
    recorder = Recorder(max_calls_per_stage=4, ring=True)
    tokens = [call(recorder, "collate", "f") for _ in range(25)]
    call(recorder, "evaluation", "g")
    trace = recorder.result()
    assert [c.index for c in trace.collate] == tokens[-4:]
    assert trace.collate.dropped == 21
    assert trace.dropped == 21
    assert len(trace.evaluation) == 1


def test_first_only_keeps_the_first_calls_and_leaves_the_others_out() -> None:
    recorder = Recorder(max_calls_per_stage=3, first_only=True)
    tokens = [recorder.begin("collate", "f", "f", {"i": i}) for i in range(5)]
    assert tokens[3:] == [None, None]  # not recorded: no token, and end() ignores None
    for token in tokens:
        recorder.end(token, result=0)
    call(recorder, "evaluation", "g")
    trace = recorder.result()
    assert [c.params["i"].short() for c in trace.collate] == ["int 0", "int 1", "int 2"]
    assert (trace.collate.dropped, trace.collate.total) == (2, 5)
    assert len(trace.evaluation) == 1  # each stage has its own first calls
    assert "5 calls, 3 kept (2 dropped by the cap)" in str(trace)


def test_first_only_still_keeps_a_later_call_that_fails() -> None:
    recorder = Recorder(max_calls_per_stage=1, first_only=True)
    call(recorder, "evaluation", "forward", {"x": 1})
    outer = recorder.begin("custom", "outer", "outer", None)
    assert recorder.begin("evaluation", "forward", "forward", {"x": 2}) is None
    recorder.fail("evaluation", "forward", "forward", {"x": 2}, ValueError("bad x"))
    recorder.end(outer)
    recorder.fail("custom", "outer", "outer", None, ValueError("begun: not kept twice"))
    stage = recorder.result().evaluation
    assert [(c.status, c.params["x"].short()) for c in stage] == [
        ("ok", "int 1"),
        ("error", "int 2"),
    ]
    assert stage[1].exception == ("ValueError", "bad x")
    assert stage[1].parent == outer  # the traced call it failed in
    assert stage.dropped == 0
    assert len(recorder.result().custom) == 1


@pytest.mark.parametrize(("cap", "ring"), [(0, False), (-3, True), (None, True)])
def test_a_cap_that_cannot_work_is_refused_with_the_fix(cap: int | None, ring: bool) -> None:
    with pytest.raises(ValueError, match="max_calls_per_stage"):
        Recorder(max_calls_per_stage=cap, ring=ring)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"max_calls_per_stage": None}, "first_only=True needs max_calls_per_stage"),
        ({"max_calls_per_stage": 4, "ring": True}, "keep the latest calls or the first"),
    ],
)
def test_first_only_without_a_cap_or_with_ring_is_refused(options: Any, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Recorder(first_only=True, **options)


def test_a_snapshot_shows_running_calls_and_does_not_change_after() -> None:
    recorder = Recorder()
    token = recorder.begin("evaluation", "forward", "forward", None)
    before = recorder.result()
    recorder.end(token, result=1)
    assert before.evaluation[0].status == "running"
    assert "running" in str(before)
    assert recorder.result().evaluation[0].status == "ok"
    recorder.end(token)  # ended twice: ignored, never raised into the program


def test_get_trace_gives_the_current_then_the_last_trace_until_reset() -> None:
    reset_trace()
    assert get_trace() is None
    with recording():
        traced("custom", "one")
        so_far = get_trace()
        assert so_far is not None
        assert len(so_far.custom) == 1
        reset_trace()
        traced("custom", "two")
    last = get_trace()
    assert last is not None
    assert [c.name for c in last.custom] == ["two"]
    reset_trace()
    assert get_trace() is None
