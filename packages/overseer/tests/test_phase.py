"""The schedule of instruments over the phases."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from overseer.phase import PhaseSequence, Schedule, StopProgram


def make() -> tuple[PhaseSequence, Schedule, list[tuple[str, BaseException]]]:
    phases = PhaseSequence()
    errors: list[tuple[str, BaseException]] = []
    return phases, Schedule(phases, lambda n, e: errors.append((n, e)), lambda n: None), errors


def test_instruments_resume_by_priority_then_by_order() -> None:
    phases, schedule, _ = make()
    log: list[str] = []

    def waiter(name: str, priority: int) -> Generator[Any, Any, None]:
        yield phases.init(priority=priority)
        log.append(name)

    schedule.start("low", waiter("low", 0))
    schedule.start("high", waiter("high", 5))
    schedule.start("low2", waiter("low2", 0))
    schedule.end(phases.init)
    assert log == ["high", "low", "low2"]
    assert phases.init.done


def test_the_phase_value_is_sent_and_its_exception_thrown() -> None:
    phases, schedule, errors = make()
    seen: list[Any] = []

    def instrument() -> Generator[Any, Any, None]:
        seen.append((yield phases.run_script))
        try:
            yield phases.finalize
        except ValueError as error:
            seen.append(str(error))

    schedule.start("i", instrument())
    schedule.end(phases.run_script, value=42)
    schedule.end(phases.finalize, exception=ValueError("boom"))
    assert seen == [42, "boom"]
    assert errors == []


def test_an_instrument_started_late_catches_up_through_ended_phases() -> None:
    phases, schedule, _ = make()
    schedule.end(phases.init)
    schedule.end(phases.parse_args)
    reached: list[str] = []

    def late() -> Generator[Any, Any, None]:
        yield phases.init
        reached.append("init")
        yield phases.parse_args
        reached.append("parse_args")
        yield phases.load_script
        reached.append("load_script")

    schedule.start("late", late())
    assert reached == ["init", "parse_args"]
    schedule.end(phases.load_script)
    assert reached == ["init", "parse_args", "load_script"]


def test_a_failing_instrument_is_reported_and_dropped() -> None:
    phases, schedule, errors = make()

    def failing() -> Generator[Any, Any, None]:
        yield phases.init
        raise RuntimeError("instrument bug")

    schedule.start("failing", failing())
    schedule.end(phases.init)
    assert [(name, str(error)) for name, error in errors] == [("failing", "instrument bug")]


def test_yielding_something_that_is_not_a_phase_is_an_error_naming_the_phases() -> None:
    _phases, schedule, errors = make()

    def wrong() -> Generator[Any, Any, None]:
        yield "init"

    schedule.start("wrong", wrong())
    ((name, error),) = errors
    assert name == "wrong"
    assert "yield one of ov.phases.init" in str(error)


def test_stop_program_propagates() -> None:
    phases, schedule, _ = make()

    def stopper() -> Generator[Any, Any, None]:
        yield phases.init
        raise StopProgram("done")

    schedule.start("stopper", stopper())
    with pytest.raises(StopProgram):
        schedule.end(phases.init)


def test_an_unknown_phase_name_lists_the_phases() -> None:
    with pytest.raises(AttributeError, match="the phases are init, parse_args"):
        _ = PhaseSequence().inti
