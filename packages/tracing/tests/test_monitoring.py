"""Python 3.12+: decorated functions are plain functions, recorded through sys.monitoring."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from overseer_tracing import monitoring
from overseer_tracing.decorators import trace_func
from overseer_tracing.record import recording
from overseer_tracing.shims import shim_class

pytestmark = pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring: 3.12+")
events: Any = getattr(sys, "monitoring", None)


def scale(x: int, factor: int = 2) -> int:
    return x * factor


def test_a_decorated_function_is_no_wrapper_and_records_only_while_recording() -> None:
    traced = trace_func(scale)
    assert traced.__code__.co_name == "scale"  # its own code, not a wrapper's
    assert traced(3) == 6  # not recorded, and no event fires
    tool = monitoring._tool
    assert events.get_local_events(tool, traced.__code__) == 0
    with recording() as recorder:
        assert events.get_local_events(tool, traced.__code__) != 0
        assert traced(4, factor=3) == 12
        scale(5)  # the function it was made from stays untraced
    assert events.get_local_events(tool, traced.__code__) == 0
    assert events.get_events(tool) == 0
    (call,) = recorder.result().custom
    assert {name: value.short() for name, value in call.params.items()} == {
        "x": "int 4",
        "factor": "int 3",
    }


def test_a_function_decorated_while_recording_is_recorded() -> None:
    with recording() as recorder:

        @trace_func
        def late(x: int) -> int:
            return x + 1

        late(1)
    assert len(recorder.result().custom) == 1


def test_a_recursive_call_records_each_frame_with_its_parent() -> None:
    @trace_func
    def count(n: int) -> int:
        return 0 if n == 0 else 1 + count(n - 1)

    with recording() as recorder:
        count(2)
    calls = recorder.result().custom
    assert [call.parent for call in calls] == [None, calls[0].index, calls[1].index]
    assert all(call.status == "ok" for call in calls)


@pytest.fixture
def another_tool() -> Iterator[int]:
    """A tool id of another tool (a debugger, a coverage tool), freed after the test."""
    tool = next(tool for tool in range(6) if events.get_tool(tool) is None)
    events.use_tool_id(tool, "another tool")
    try:
        yield tool
    finally:
        events.set_events(tool, 0)
        events.free_tool_id(tool)


def test_a_call_inside_another_tool_s_callback_is_not_recorded_but_a_shim_s_is(
    another_tool: int,
) -> None:
    # The known limit of the README: no event reaches any tool while a callback runs.
    traced = trace_func(scale)

    class Model:
        def forward(self, x: int) -> int:
            return x

    def trigger() -> None:
        pass

    def callback(code: Any, offset: int) -> None:
        if code is trigger.__code__:
            traced(1)
            Model().forward(2)

    events.register_callback(another_tool, events.events.PY_START, callback)
    events.set_local_events(another_tool, trigger.__code__, events.events.PY_START)
    with recording() as recorder, shim_class(Model, "forward", "evaluation"):
        trigger()
        traced(3)
    assert [call.params["x"].short() for call in recorder.result().custom] == ["int 3"]
    assert [call.params["x"].short() for call in recorder.result().evaluation] == ["int 2"]


@pytest.fixture
def no_free_tool_id(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every id the package may claim taken by another tool, and the claim to make again."""
    taken = [tool for tool in range(6) if events.get_tool(tool) is None]
    for tool in taken:
        events.use_tool_id(tool, "another tool")
    monkeypatch.setattr(monitoring, "_TOOL_IDS", tuple(taken))
    monkeypatch.setattr(monitoring, "_tried", False)
    monkeypatch.setattr(monitoring, "_tool", None)
    try:
        yield
    finally:
        for tool in taken:
            events.free_tool_id(tool)


@pytest.mark.usefixtures("no_free_tool_id")
def test_without_a_free_tool_id_decorators_wrap_and_say_so_once() -> None:
    with pytest.warns(RuntimeWarning, match="no sys.monitoring tool id is free"):
        first = trace_func(scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = trace_func(stage_name="other")(scale)
    assert first.__code__.co_name == second.__code__.co_name == "wrapper"
    with recording() as recorder:
        first(1)
        second(2)
    assert [stage.name for stage in recorder.result()] == ["custom", "other"]
