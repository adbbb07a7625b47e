"""A traced function takes its arguments exactly as the plain one does, and records them bound."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import pytest

from overseer_tracing.decorators import trace_func
from overseer_tracing.record import TraceCall, recording
from overseer_tracing.values import summarise


def every_kind(
    a: int, b: int = 2, /, c: int = 3, *rest: int, d: int, e: int = 5, **more: int
) -> Any:
    return (a, b, c, rest, d, e, more)


CALLS = [
    ((1,), {"d": 4}),
    ((1, 20, 30, 40, 50), {"d": 4, "e": 6, "f": 7}),
    ((1,), {"c": 9, "d": 4}),
]


def recorded(call: TraceCall) -> dict[str, str]:
    return {name: summary.short() for name, summary in call.params.items()}


@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_every_kind_of_parameter_binds_as_the_signature_binds(
    args: tuple[int, ...], kwargs: dict[str, int]
) -> None:
    traced = trace_func(every_kind)
    with recording() as recorder:
        assert traced(*args, **kwargs) == every_kind(*args, **kwargs)
    bound = inspect.signature(every_kind).bind(*args, **kwargs)
    bound.apply_defaults()
    expected = {name: summarise(value).short() for name, value in bound.arguments.items()}
    assert recorded(recorder.result().custom.every_kind) == expected


def test_a_positional_only_name_given_by_keyword_lands_in_star_star_kwargs() -> None:
    # As the interpreter binds it (inspect.Signature.bind refuses this call).
    traced = trace_func(every_kind)
    with recording() as recorder:
        assert traced(1, d=4, b=8)[1:] == (2, 3, (), 4, 5, {"b": 8})
    shown = recorded(recorder.result().custom.every_kind)
    assert (shown["b"], shown["more"]) == ("int 2", "dict[1] {'b': 8}")


def test_a_call_that_does_not_fit_raises_what_the_plain_function_raises() -> None:
    traced = trace_func(every_kind)
    for args, kwargs in [((), {"d": 1}), ((1,), {}), ((), {})]:
        with pytest.raises(TypeError) as plain:
            every_kind(*args, **kwargs)
        with recording(), pytest.raises(TypeError) as through:
            traced(*args, **kwargs)
        assert str(through.value) == str(plain.value)


def test_defaults_are_the_function_s_own_objects() -> None:
    @trace_func
    def remember(item: int, seen: list[int] = []) -> list[int]:  # noqa: B006 (the point)
        seen.append(item)
        return seen

    with recording():
        first = remember(1)
    assert remember(2) is first == [1, 2]


def test_a_function_that_wraps_another_records_the_inner_parameters() -> None:
    def logged(func: Any) -> Any:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        return inner

    @trace_func
    @logged
    def scale(x: int, factor: int = 10) -> int:
        return x * factor

    with recording() as recorder:
        assert scale(2) == 20
    assert recorded(recorder.result().custom.scale) == {"x": "int 2", "factor": "int 10"}


def test_parameters_named_like_the_wrapper_s_own_names_still_work() -> None:
    @trace_func
    def odd(__ov_recorder: int, Exception: int = 2) -> int:
        return __ov_recorder + Exception

    with recording() as recorder:
        assert odd(1) == 3
    assert recorded(recorder.result().custom.odd) == {
        "__ov_recorder": "int 1",
        "Exception": "int 2",
    }


def test_a_selection_reads_positions_names_and_extra_keywords() -> None:
    traced = trace_func(params_to_capture=[0, 3, "e", "f", "missing"])(every_kind)
    with recording() as recorder:
        traced(1, 20, 30, 40, d=4, f=7)
    call = recorder.result().custom.every_kind
    assert recorded(call) == {"a": "int 1", "rest[0]": "int 40", "e": "int 5", "f": "int 7"}
    assert call.status == "capture_error"
    assert call.exception is not None
    assert "'missing'" in call.exception[1]
