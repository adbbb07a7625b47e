"""Shims come off exactly: whatever the method and however the trace ends, classes and objects
are as before, and the next trace records each call once (hyrax leaves ``forward = None`` on a
subclass, never removes instance shims, and lets a nested trace switch the outer one off)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from overseer_tracing.context import TraceContext
from overseer_tracing.decorators import trace_model_func
from overseer_tracing.record import TraceResult, recording
from overseer_tracing.shims import shim_class, shim_instance


@dataclass
class Case:
    """A method to shim: the target, how to call it, and what must be left as it was."""

    target: object
    name: str
    call: Callable[[], object]
    classes: tuple[type, ...]
    objects: tuple[object, ...] = ()


def plain() -> Case:
    class Model:
        def forward(self, x: int) -> int:
            return x + 1

    return Case(Model, "forward", lambda: Model().forward(1), (Model,))


def inherited() -> Case:
    class Base:
        def forward(self, x: int) -> int:
            return x + 1

    class Child(Base):
        pass

    return Case(Child, "forward", lambda: Child().forward(1), (Base, Child))


def static() -> Case:
    class Ops:
        @staticmethod
        def forward(x: int) -> int:
            return x + 1

    return Case(Ops, "forward", lambda: (Ops.forward(1), Ops().forward(1)), (Ops,))


def klass() -> Case:
    class Builder:
        @classmethod
        def forward(cls, x: int) -> int:
            return x + 1

    return Case(Builder, "forward", lambda: (Builder.forward(1), Builder().forward(1)), (Builder,))


def slotted() -> Case:
    class Slotted:
        __slots__ = ("offset",)

        def __init__(self) -> None:
            self.offset = 1

        def forward(self, x: int) -> int:
            return x + self.offset

    return Case(Slotted, "forward", lambda: Slotted().forward(1), (Slotted,))


def bound() -> Case:
    class Model:
        def forward(self, x: int) -> int:
            return x + 1

    model = Model()
    return Case(model, "forward", lambda: model.forward(1), (Model,), (model,))


def bound_attribute() -> Case:
    class Model:
        def forward(self, x: int) -> int:
            return x + 1

    class Pipeline:
        def __init__(self) -> None:
            self.step = Model().forward  # a bound method of another object, held as data

    pipeline = Pipeline()
    return Case(pipeline, "step", lambda: pipeline.step(1), (Model, Pipeline), (pipeline,))


CASES = [plain, inherited, static, klass, slotted, bound, bound_attribute]


def context(case: Case) -> TraceContext:
    return TraceContext(shims=[(case.target, case.name, "evaluation")])


def exit_normally(case: Case) -> list[TraceResult | None]:
    with context(case) as trace:
        case.call()
    return [trace.result]


def raise_inside(trace: TraceContext, case: Case, error: BaseException) -> None:
    with trace:
        case.call()
        raise error


def exit_by_exception(case: Case) -> list[TraceResult | None]:
    trace = context(case)
    with pytest.raises(RuntimeError, match="boom"):
        raise_inside(trace, case, RuntimeError("boom"))
    return [trace.result]


def exit_by_keyboard_interrupt(case: Case) -> list[TraceResult | None]:
    trace = context(case)
    with pytest.raises(KeyboardInterrupt):
        raise_inside(trace, case, KeyboardInterrupt())
    return [trace.result]


def exit_nested(case: Case) -> list[TraceResult | None]:
    with context(case) as outer:
        case.call()
        with context(case) as inner:
            case.call()
        case.call()  # the outer trace still records after the inner one ended
    return [outer.result, inner.result]


def exit_reentered(case: Case) -> list[TraceResult | None]:
    trace = context(case)
    results = []
    with trace:
        with trace:
            case.call()
        results.append(trace.result)
        case.call()
    results.append(trace.result)
    with trace:
        case.call()
    return [*results, trace.result]


EXITS = [exit_normally, exit_by_exception, exit_by_keyboard_interrupt, exit_nested, exit_reentered]


def snapshot(case: Case) -> list[dict[str, Any]]:
    return [dict(vars(cls)) for cls in case.classes] + [dict(vars(o)) for o in case.objects]


def recorded(result: TraceResult | None) -> int:
    assert result is not None
    return len(result.evaluation) if "evaluation" in result else 0


@pytest.mark.parametrize("make_case", CASES)
@pytest.mark.parametrize("leave", EXITS)
def test_every_shim_comes_off_whatever_the_exit(
    make_case: Callable[[], Case], leave: Callable[[Case], list[TraceResult | None]]
) -> None:
    case = make_case()
    before = snapshot(case)
    results = leave(case)
    assert snapshot(case) == before
    assert all(recorded(result) >= 1 for result in results)
    calls_per_call = 2 if make_case in (static, klass) else 1
    with context(case) as again:
        case.call()
    assert recorded(again.result) == calls_per_call  # once each: no shim left behind
    assert snapshot(case) == before


def test_nested_traces_stack_and_the_outer_one_keeps_recording() -> None:
    case = plain()
    results = exit_nested(case)
    outer, inner = (recorded(result) for result in results)
    assert (outer, inner) == (2, 1)


def test_an_inherited_method_is_deleted_from_the_subclass_not_set_to_none() -> None:
    case = inherited()
    _, child = case.classes
    with context(case):
        assert "forward" in vars(child)
    assert "forward" not in vars(child)
    assert case.call() == 2


def test_shims_removed_out_of_order_still_restore_the_original() -> None:
    case = plain()
    (model,) = case.classes
    original = vars(model)["forward"]
    first = shim_class(model, "forward", "evaluation")
    second = shim_class(model, "forward", "evaluation")
    first.remove()
    assert (first.active, second.active) == (False, True)
    with recording() as recorder:
        case.call()
    assert len(recorder.result().evaluation) == 1  # the second shim wraps the original
    second.remove()
    second.remove()  # idempotent
    assert vars(model)["forward"] is original


def test_a_value_assigned_while_shimmed_is_kept_on_removal() -> None:
    case = plain()
    (model,) = case.classes

    def replaced(self: object, x: int) -> int:
        return -x

    with shim_class(model, "forward", "evaluation") as shim:
        model.forward = replaced  # type: ignore[attr-defined]
        assert shim.active
    assert vars(model)["forward"] is replaced


def test_a_method_shimmed_on_the_class_and_the_object_records_once() -> None:
    case = bound()
    (model,) = case.objects
    with context(case), TraceContext(shims=[(type(model), "forward", "evaluation")]) as trace:
        case.call()
        type(model)().forward(2)
    assert recorded(trace.result) == 2


def test_a_decorated_method_is_not_recorded_twice_by_a_shim() -> None:
    class Model:
        @trace_model_func
        def forward(self, x: int) -> int:
            return x

    before = dict(vars(Model))
    with TraceContext(shims=[(Model, "forward", "evaluation")]) as trace:
        Model().forward(1)
    assert recorded(trace.result) == 1
    assert dict(vars(Model)) == before


def test_a_callable_object_on_a_class_stays_unbound() -> None:
    class Scale:
        def __call__(self, x: int) -> int:
            return x * 3

    class Model:
        forward = Scale()

    with TraceContext(shims=[(Model, "forward", "evaluation")]) as trace:
        assert Model().forward(2) == 6
    assert recorded(trace.result) == 1
    assert isinstance(vars(Model)["forward"], Scale)


def test_a_builtin_method_inherited_from_list_can_be_shimmed() -> None:
    class Batch(list[int]):
        pass

    batch = Batch()
    with TraceContext(shims=[(Batch, "append", "collate")]) as trace:
        batch.append(4)
    assert batch == [4]
    assert trace.result is not None
    assert trace.result.collate[0].params["object"].short() == "int 4"
    assert "append" not in vars(Batch)


def test_what_cannot_be_shimmed_is_refused_before_anything_changes() -> None:
    class Model:
        __slots__ = ("size",)

        @property
        def shape(self) -> int:
            return 1

    before = dict(vars(Model))
    with pytest.raises(TypeError, match="property, not a method"):
        shim_class(Model, "shape", "evaluation")
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        shim_class(Model, "missing", "evaluation")
    with pytest.raises(TypeError, match=r"use shim_instance"):
        shim_class(Model(), "shape", "evaluation")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"__slots__\): trace the class instead, with shim_class"):
        shim_instance(Model(), "shape", "evaluation")
    assert dict(vars(Model)) == before


def test_a_shim_installed_inside_a_trace_is_removed_with_it() -> None:
    case = bound()
    (model,) = case.objects
    with TraceContext() as trace:
        shim = shim_instance(model, "forward", "evaluation", display_name="my_forward")
        case.call()
    assert not shim.active
    assert vars(model) == {}
    assert trace.result is not None
    assert trace.result.evaluation.my_forward.params["x"].short() == "int 1"
    assert "removed" in repr(shim)


def test_a_shim_over_a_shim_records_once_in_the_innermost_stage() -> None:
    case = plain()
    (model,) = case.classes
    with shim_class(model, "forward", "outer"), shim_class(model, "forward", "inner"):
        with recording() as recorder:
            case.call()
        assert [stage.name for stage in recorder.result()] == ["inner"]
    with shim_class(model, "forward", "outer"), recording() as recorder:
        case.call()
    assert [stage.name for stage in recorder.result()] == ["outer"]
