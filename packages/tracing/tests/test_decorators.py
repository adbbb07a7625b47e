"""The decorators record what a user would look for, and never break the function they trace."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import threading
import timeit
from typing import Any

import pytest

from overseer_tracing.decorators import trace_dataset_func, trace_func, trace_model_func
from overseer_tracing.record import Recorder, TraceCall, TraceResult, current_recorder, recording


def shown(call: TraceCall) -> dict[str, str]:
    """The captured arguments of a call, as the trace prints them."""
    return {name: summary.short() for name, summary in call.params.items()}


def run_traced(body: Any, recorder: Recorder | None = None) -> TraceResult:
    with recording(recorder) as active:
        body()
    return active.result()


@trace_func
def add(a: int, b: int = 2, *, scale: int = 1) -> int:
    """Add, then scale."""
    return (a + b) * scale


def test_bare_decorator_records_every_argument_with_defaults_in_the_custom_stage() -> None:
    result = run_traced(lambda: add(1, scale=3))
    call = result.custom.add
    assert isinstance(call, TraceCall)
    assert shown(call) == {"a": "int 1", "b": "int 2", "scale": "int 3"}
    assert call.result is not None
    assert call.result.short() == "int 9"
    assert (call.status, call.exception, call.display_name) == ("ok", None, "add")


def test_without_a_recording_the_function_runs_as_itself() -> None:
    assert current_recorder() is None
    assert add(1, 2, scale=2) == 6
    assert add.__name__ == "add"
    assert add.__doc__ == "Add, then scale."
    assert "scale" in inspect.signature(add).parameters


def test_parametrised_decorators_choose_the_stage_and_the_arguments() -> None:
    @trace_func(stage_name="collate", params_to_capture=["batch"])
    def collate(batch: list[int], pad: int = 0) -> list[int]:
        return [*batch, pad]

    @trace_dataset_func
    def get_flux(index: int) -> float:
        return index * 2.0

    @trace_model_func(params_to_capture="x")
    def forward(x: int, y: int = 1) -> int:
        return x + y

    result = run_traced(lambda: (collate([1, 2]), get_flux(3), forward(4)))
    assert [stage.name for stage in result] == ["dataset_getter", "collate", "evaluation"]
    assert shown(result.collate[0]) == {"batch": "list[2] [1, 2]"}
    assert shown(result.dataset_getter[0]) == {"index": "int 3"}
    assert shown(result.evaluation[0]) == {"x": "int 4"}


def test_arguments_by_name_and_position_survive_keyword_calls_and_defaults() -> None:
    # hyrax indexes the positional tuple: a keyword call raises IndexError in the caller.
    @trace_func(params_to_capture=[0, "b", 2])
    def scaled(a: int, b: int = 10, c: int = 100) -> int:
        return a + b + c

    @trace_func(params_to_capture={"first": 0, "second": "b"})
    def labelled(a: int, b: int = 10) -> int:
        return a * b

    def calls() -> None:
        assert scaled(a=1) == 111
        assert scaled(1, c=3, b=2) == 6
        assert labelled(b=3, a=2) == 6

    result = run_traced(calls)
    first, second = result.custom["scaled"]
    assert shown(first) == {"a": "int 1", "b": "int 10", "c": "int 100"}
    assert shown(second) == {"a": "int 1", "b": "int 2", "c": "int 3"}
    assert shown(result.custom.labelled) == {"first": "int 2", "second": "int 3"}


def test_positions_past_the_named_ones_read_star_args_and_names_read_star_kwargs() -> None:
    @trace_func(params_to_capture=[1, 2, "extra"])
    def gather(first: int, *rest: int, **options: int) -> int:
        return first + sum(rest) + sum(options.values())

    result = run_traced(lambda: gather(1, 2, 3, extra=4))
    assert shown(result.custom.gather) == {"rest[0]": "int 2", "rest[1]": "int 3", "extra": "int 4"}


def test_a_capture_that_fails_is_recorded_and_the_call_still_returns() -> None:
    @trace_func(params_to_capture=["a", "missing", 5])
    def one(a: int) -> int:
        return a

    result = run_traced(lambda: one(a=7))
    call = result.custom.one
    assert isinstance(call, TraceCall)
    assert call.status == "capture_error"
    assert shown(call) == {"a": "int 7"}
    assert call.exception is not None
    assert "'missing'" in call.exception[1]
    assert "position 5" in call.exception[1]


def test_params_to_capture_of_the_wrong_kind_is_refused_at_decoration() -> None:
    with pytest.raises(TypeError, match=r"1\.5 is not a parameter name"):
        trace_func(params_to_capture=[1.5])  # type: ignore[list-item]


def test_an_exception_is_recorded_then_reraised_unchanged() -> None:
    error = ValueError("bad pixel")

    @trace_func
    def broken(x: int) -> int:
        raise error

    with recording() as recorder, pytest.raises(ValueError, match="bad pixel") as raised:
        broken(1)
    assert raised.value is error
    call = recorder.result().custom.broken
    assert isinstance(call, TraceCall)
    assert (call.status, call.exception) == ("error", ("ValueError", "bad pixel"))
    assert call.result is None
    assert call.duration_ns >= 0
    assert "broken" in str(recorder.result())  # the trace still prints


class Model:
    @trace_model_func
    def forward(self, batch: int) -> int:
        return batch * 2

    @trace_model_func
    @staticmethod
    def norm_outside(x: int) -> int:
        return -x

    @staticmethod
    @trace_model_func
    def norm_inside(x: int) -> int:
        return abs(x)

    @trace_model_func(params_to_capture=[1])
    @classmethod
    def build_outside(cls, size: int) -> int:
        return size

    @classmethod
    @trace_model_func
    def build_inside(cls, size: int) -> int:
        return size + 1


class Scaler:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    @trace_model_func(params_to_capture=["x"])
    def forward(self, x: int, limit: int = 3) -> int:
        if x > limit:
            raise ValueError(f"{x} is past {limit}")
        return x * self.factor


@trace_func(stage_name="collate")
def checked(*items: int) -> int:
    if sum(items) > 3:
        raise ValueError("too much")
    return sum(items)


def limited(x: int, limit: int) -> int:
    if x > limit:
        raise ValueError(f"{x} is over {limit}")
    return x


# Not a plain function: wrapped, its arguments bound through its signature on every Python.
partly_limited = trace_func(functools.partial(limited, limit=3))


@pytest.mark.parametrize(
    ("function", "stage", "label", "failed_with", "message"),
    [
        (Scaler(2).forward, "evaluation", "x", ["int 4", "int 5"], "5 is past 3"),
        (checked, "collate", "items", ["tuple[1] [4]", "tuple[1] [5]"], "too much"),
        (partly_limited, "custom", "x", ["int 4", "int 5"], "5 is over 3"),
    ],
)
def test_past_the_first_calls_a_failing_call_is_kept_with_its_arguments(
    function: Any, stage: str, label: str, failed_with: list[str], message: str
) -> None:
    recorder = Recorder(max_calls_per_stage=2, first_only=True)

    def run() -> None:
        for x in range(6):
            with contextlib.suppress(ValueError):
                function(x)

    calls = run_traced(run, recorder)[stage]
    assert [call.status for call in calls] == ["ok", "ok", "error", "error"]
    assert [call.params[label].short() for call in calls[2:]] == failed_with
    assert calls[3].exception == ("ValueError", message)
    assert (calls.dropped, calls.total) == (2, 6)  # x = 2 and 3: run, not recorded


def test_methods_static_and_class_methods_record_without_self_or_cls() -> None:
    model = Model()

    def calls() -> None:
        assert model.forward(3) == 6
        assert (Model.norm_outside(2), model.norm_inside(-2)) == (-2, 2)
        assert (Model.build_outside(4), model.build_inside(5)) == (4, 6)

    result = run_traced(calls)
    names = [call.name for call in result.evaluation]
    assert names == [
        "Model.forward",
        "Model.norm_outside",
        "Model.norm_inside",
        "Model.build_outside",
        "Model.build_inside",
    ]
    assert [shown(call) for call in result.evaluation] == [
        {"batch": "int 3"},
        {"x": "int 2"},
        {"x": "int -2"},
        {"size": "int 4"},
        {"size": "int 5"},
    ]


def test_a_generator_function_records_the_call_that_creates_the_generator() -> None:
    @trace_func
    def count(n: int) -> Any:
        yield from range(n)

    with recording() as recorder:
        assert list(count(3)) == [0, 1, 2]
    call = recorder.result().custom.count
    assert isinstance(call, TraceCall)
    assert shown(call) == {"n": "int 3"}
    assert call.result is not None
    assert call.result.kind == "generator"


def test_nested_traced_calls_name_their_parent() -> None:
    @trace_func
    def inner(x: int) -> int:
        return x

    @trace_func
    def outer(x: int) -> int:
        return inner(x) + 1

    result = run_traced(lambda: outer(1))
    assert result.custom.inner.parent == result.custom.outer.index


def test_an_async_function_traced_inside_a_task_spans_its_awaits() -> None:
    @trace_func
    def step(x: int) -> int:
        return x

    @trace_model_func
    async def infer(x: int) -> int:
        await asyncio.sleep(0)
        return step(x) * 10

    assert inspect.iscoroutinefunction(infer)

    async def main() -> tuple[int, ...]:
        return tuple(await asyncio.gather(*(asyncio.create_task(infer(i)) for i in (1, 2))))

    with recording() as recorder:
        assert asyncio.run(main()) == (10, 20)
    result = recorder.result()
    infers = {call.params["x"].short(): call for call in result.evaluation}
    assert sorted(infers) == ["int 1", "int 2"]
    for step_call in result.custom:
        owner = infers[step_call.params["x"].short()]
        assert step_call.parent == owner.index  # recorded after the await, inside its own task
        assert owner.result is not None
    results = {call.result.short() for call in result.evaluation if call.result}
    assert results == {"int 10", "int 20"}


def test_calls_from_another_thread_are_left_out_unless_asked_for() -> None:
    def in_thread() -> None:
        worker = threading.Thread(target=add, args=(5,))
        worker.start()
        worker.join()
        add(1)

    only_mine = run_traced(in_thread)
    assert [shown(call)["a"] for call in only_mine.custom] == ["int 1"]
    everyone = run_traced(in_thread, Recorder(all_threads=True))
    assert sorted(shown(call)["a"] for call in everyone.custom) == ["int 1", "int 5"]


def test_off_cost_is_a_small_multiple_of_a_plain_call() -> None:
    # A ratio measured here, in the same process, never an absolute time. The off path costs
    # about 4 plain calls; any capture work when off (binding, summarising) costs 50 or more.
    def plain(x: int, y: int = 1) -> int:
        return x

    decorated = trace_func(plain)
    assert current_recorder() is None

    def best(func: Any) -> float:
        return min(timeit.repeat("func(1)", globals={"func": func}, number=20_000, repeat=7))

    assert best(decorated) / best(plain) < 20
