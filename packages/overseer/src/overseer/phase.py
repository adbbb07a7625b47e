"""Phases of a run, and the schedule of the instruments waiting on them.

An instrument is a callable taking the overseer. A generator instrument yields the phases
it waits for, in order, and is resumed once each has ended::

    def instrument_time(ov):
        yield ov.phases.init
        ov.argparser.add_argument("--time", action="store_true")
        yield ov.phases.parse_args
        ...

Yielding ``ov.phases.run_script(priority=5)`` resumes this instrument before those of lower
priority (the default is 0); equal priorities resume in the order instruments were required.
A phase that ended with an exception is thrown into the generator at its ``yield``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PHASE_NAMES",
    "Phase",
    "PhaseSequence",
    "PhaseWithPriority",
    "Schedule",
    "StopProgram",
]

#: The phases of every run, in order.
PHASE_NAMES = ("init", "parse_args", "load_script", "run_script", "finalize")

InstrumentGenerator = Generator[Any, Any, Any]


class StopProgram(BaseException):
    """Raised by :meth:`Overseer.stop` to end the script early, on purpose.

    A BaseException, like KeyboardInterrupt, so the script's ``except Exception`` blocks do
    not swallow it, while its ``finally`` blocks still run.
    """


@dataclass(eq=False)
class Phase:
    """One phase of a run: its name, status, and how it ended.

    Attributes:
        name: ``init``, ``parse_args``, ``load_script``, ``run_script`` or ``finalize``.
        status: ``"pending"``, ``"running"`` (instruments are being resumed) or ``"done"``.
        value: what the phase produced (``run_script``: the function's return value).
        exception: the exception the phase ended with, or ``None``.
    """

    name: str
    status: str = "pending"
    value: Any = None
    exception: BaseException | None = None

    @property
    def pending(self) -> bool:
        """Whether the phase has not ended yet."""
        return self.status == "pending"

    @property
    def running(self) -> bool:
        """Whether instruments waiting on this phase are being resumed."""
        return self.status == "running"

    @property
    def done(self) -> bool:
        """Whether the phase has ended and every instrument waiting on it was resumed."""
        return self.status == "done"

    def __call__(self, priority: int = 0) -> PhaseWithPriority:
        """Wait on this phase with a priority: higher ones are resumed first."""
        return PhaseWithPriority(self, priority)


@dataclass(frozen=True)
class PhaseWithPriority:
    """A phase to wait on, with the priority its waiters are resumed at."""

    phase: Phase
    priority: int


class PhaseSequence:
    """The phases of a run, in order; each is also an attribute (``phases.init``)."""

    def __init__(self, names: tuple[str, ...] = PHASE_NAMES) -> None:
        self._boot = Phase("_boot", status="done")
        self._sequence = [Phase(name) for name in names]
        for phase in self._sequence:
            setattr(self, phase.name, phase)

    def __iter__(self) -> Iterator[Phase]:
        return iter(self._sequence)

    def __contains__(self, phase: object) -> bool:
        return phase is self._boot or any(phase is known for known in self._sequence)

    def __getattr__(self, name: str) -> Phase:
        names = ", ".join(phase.name for phase in self._sequence)
        message = f"no phase named {name!r}: the phases are {names}"
        raise AttributeError(message)


@dataclass(order=True)
class _Waiter:
    sort_key: tuple[int, int]
    generator: InstrumentGenerator = field(compare=False)
    name: str = field(compare=False)


class Schedule:
    """Steps instrument generators through the phases.

    Args:
        phases: the run's phases.
        on_error: called with the instrument's name and the exception when an instrument
            raises anything but :class:`StopProgram`; the instrument is then dropped.
        on_step: called with the instrument's name before each step and ``None`` after, so
            the overseer knows whose code is running (to attribute flags and subscriptions).
    """

    def __init__(
        self,
        phases: PhaseSequence,
        on_error: Callable[[str, BaseException], None],
        on_step: Callable[[str | None], None],
    ) -> None:
        self.phases = phases
        self._on_error = on_error
        self._on_step = on_step
        self._order = itertools.count()
        self._waiting: dict[int, list[_Waiter]] = {id(phase): [] for phase in phases}

    def start(self, name: str, generator: InstrumentGenerator) -> None:
        """Run a new instrument generator up to the first phase that has not ended."""
        self._advance(name, generator, self.phases._boot, next(self._order))

    def end(self, phase: Phase, value: Any = None, exception: BaseException | None = None) -> None:
        """Mark ``phase`` ended and resume everything waiting on it, by priority."""
        phase.status, phase.value, phase.exception = "running", value, exception
        waiting = self._waiting[id(phase)]
        while waiting:
            waiter = heapq.heappop(waiting)
            self._advance(waiter.name, waiter.generator, phase, waiter.sort_key[1])
        phase.status = "done"

    def throw_everywhere(self, exception: BaseException) -> None:
        """Throw ``exception`` into every waiting generator (used on a stop)."""
        for waiting in self._waiting.values():
            while waiting:
                waiter = waiting.pop()
                self._on_step(waiter.name)
                try:
                    waiter.generator.throw(exception)
                except (StopIteration, StopProgram):
                    pass
                except BaseException as error:
                    self._on_error(waiter.name, error)
                finally:
                    self._on_step(None)

    def _advance(self, name: str, generator: InstrumentGenerator, phase: Phase, order: int) -> None:
        while True:
            waited = self._step(name, generator, phase)
            if waited is None:
                return
            phase, priority = waited
            if not phase.done:
                heapq.heappush(
                    self._waiting[id(phase)], _Waiter((-priority, order), generator, name)
                )
                return

    def _step(
        self, name: str, generator: InstrumentGenerator, phase: Phase
    ) -> tuple[Phase, int] | None:
        self._on_step(name)
        try:
            if phase.exception is not None:
                try:
                    waited = generator.throw(phase.exception)
                except BaseException as error:
                    if error is phase.exception:
                        return None
                    raise
            else:
                waited = generator.send(phase.value if phase is not self.phases._boot else None)
        except StopIteration:
            return None
        except StopProgram:
            raise
        except BaseException as error:
            self._on_error(name, error)
            return None
        finally:
            self._on_step(None)
        return self._check_yield(name, waited)

    def _check_yield(self, name: str, waited: Any) -> tuple[Phase, int] | None:
        priority = 0
        if isinstance(waited, PhaseWithPriority):
            waited, priority = waited.phase, waited.priority
        if isinstance(waited, Phase) and waited in self.phases:
            return waited, priority
        names = ", ".join(f"ov.phases.{phase.name}" for phase in self.phases)
        message = f"instrument {name!r} yielded {waited!r}, not a phase: yield one of {names}"
        self._on_error(name, TypeError(message))
        return None
