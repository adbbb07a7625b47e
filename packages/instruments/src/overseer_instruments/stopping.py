"""The ``early_stop`` instrument: end the script after N records of a key, once a key's value
reaches a budget, or after a time budget.

From the command line, ``--early-stop`` stops after 100 records holding ``step``; any of
``--early-stop-n N``, ``--early-stop-at VALUE``, ``--early-stop-key KEY``,
``--early-stop-seconds S``, ``--early-stop-task TASK`` and ``--early-stop-signal
{raise,event}`` also turns it on. ``--early-stop-key samples --early-stop-at 8000`` stops at
the first record whose ``samples`` is 8000 or more: a budget the script counts itself, which
a run resumed from a checkpoint keeps (a count of records starts over with the process).
From a voirfile::

    from overseer_instruments import early_stop


    def instrument_main(ov):
        ov.require(early_stop(10, key="step", task="train"))

The n-th record is the last one the script gives: the stop is raised inside that very
``give()``, in the script's main thread, so its ``finally`` blocks run and the run exits with
status 0 after a ``stop`` control record. With ``signal="event"`` the script goes on and the
instrument only writes that record, for the parent process to act on.
"""

from __future__ import annotations

import math
import signal as signals
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ._flag_types import finite_number, positive_whole, seconds
from .errors import ConfigurationError

__all__ = ["command_line", "early_stop"]

Instrument = Callable[[Any], Any]
Signal = Literal["raise", "event"]

#: The task of the progress records this instrument gives.
TASK = "early_stop"
DEFAULT_N = 100
SIGNALS = ("raise", "event")

# Resumed after the other instruments at the start of the script, so that they subscribe
# first and still see the n-th record, inside whose give() the stop is raised.
_LATE = -1000


def early_stop(
    n: int | None = None,
    *,
    key: str = "step",
    at: float | None = None,
    seconds: float | None = None,
    task: str | None = None,
    signal: Signal = "raise",
) -> Instrument:
    """An instrument ending the script after ``n`` records holding ``key``, at the first
    record whose ``key`` is ``at`` or more, or after ``seconds``.

    With none of ``n``, ``at`` and ``seconds``, it stops after 100 records; with ``seconds``
    alone, only the time budget counts. Progress is given as ``task="early_stop",
    progress=(count, n)`` (``(value, at)`` with ``at``; ``(elapsed, seconds)`` in whole
    seconds for a time budget alone).

    Args:
        n: how many records holding ``key`` the script gives before it is stopped.
        key: the key counted records hold.
        at: instead of ``n``, the value of ``key`` that ends the script: a budget the script
            counts (samples seen, tokens), which a resumed run carries on.
        seconds: the time budget, counted from the start of the script.
        task: count only records whose ``task`` is this.
        signal: ``"raise"`` ends the script (in its main thread); ``"event"`` only writes a
            ``stop`` control record ``{"value", "reason", "key", "task", "count",
            "elapsed"}`` and lets the script go on.

    Raises:
        ConfigurationError: ``n`` or ``seconds`` not above 0, ``at`` not a finite number,
            both ``n`` and ``at``, an empty key, an unknown signal.

    Example::

        ov.require(early_stop(seconds=600, signal="event"))
        ov.require(early_stop(key="samples", at=8000))
    """
    limits = _Limits(
        _check_n(n), _check_key(key), _check_seconds(seconds), task, signal, _check_at(at, n)
    )
    if task is not None and not isinstance(task, str):
        raise ConfigurationError(f"early_stop(task=...) is a task name or None, not {task!r}")
    if signal not in SIGNALS:
        message = f"early_stop(signal={signal!r}) is unknown: use 'raise' or 'event'"
        raise ConfigurationError(message)
    if limits.n is None and limits.at is None and limits.seconds is None:
        limits.n = DEFAULT_N

    def early_stop_instrument(ov: Any) -> Iterator[Any]:
        yield ov.phases.load_script(priority=_LATE)
        stopper = _Stopper(ov, limits)
        try:
            yield ov.phases.run_script
        finally:
            stopper.close()

    return early_stop_instrument


def command_line(ov: Any) -> Iterator[Any]:
    """Stop the script after N records of a key, or after a time budget."""
    add = ov.argparser.add_argument
    add("--early-stop", action="store_true", help=f"stop after {DEFAULT_N} records of 'step'")
    add(
        "--early-stop-n",
        type=positive_whole,
        metavar="N",
        help=f"stop after N records (default: {DEFAULT_N}; each --early-stop-* turns it on)",
    )
    add(
        "--early-stop-at",
        type=finite_number,
        metavar="VALUE",
        help="instead of N records, stop at the first record whose KEY is VALUE or more",
    )
    add("--early-stop-key", metavar="KEY", help="the key counted records hold (default: step)")
    add("--early-stop-seconds", type=seconds, metavar="S", help="stop after S seconds")
    add("--early-stop-task", metavar="TASK", help="count only the records of this task")
    add(
        "--early-stop-signal",
        choices=SIGNALS,
        help="raise: end the script (default); event: write a stop record, let it go on",
    )
    yield ov.phases.parse_args
    options = ov.options
    flags = (
        options.early_stop_n,
        options.early_stop_at,
        options.early_stop_key,
        options.early_stop_seconds,
    )
    if options.early_stop_at is not None and options.early_stop_n is not None:
        from overseer.errors import UsageError

        raise UsageError("--early-stop-n and --early-stop-at are two ends: give one")
    more = (options.early_stop_task, options.early_stop_signal)
    if options.early_stop or any(value is not None for value in (*flags, *more)):
        ov.require(
            early_stop(
                options.early_stop_n,
                key=options.early_stop_key or "step",
                at=options.early_stop_at,
                seconds=options.early_stop_seconds,
                task=options.early_stop_task,
                signal=options.early_stop_signal or "raise",
            )
        )


@dataclass
class _Limits:
    n: int | None
    key: str
    seconds: float | None
    task: str | None
    signal: str
    at: float | None = None


class _Stopper:
    """Counts records and decides the stop; raises it only in the script's main thread."""

    def __init__(self, ov: Any, limits: _Limits) -> None:
        self._ov = ov
        self._limits = limits
        self._lock = threading.Lock()
        self._count = 0
        self._reached: float = 0.0
        self._decided = False
        self._pending: str | None = None
        self._closed = threading.Event()
        self._main = threading.get_ident()
        self._start = time.monotonic()
        self._deadline = self._start + limits.seconds if limits.seconds else math.inf
        self._interrupt: _MainThreadInterrupt | None = None
        if limits.signal == "raise":
            self._interrupt = _MainThreadInterrupt.install(self._on_interrupt)
        self._subscription = ov.given.subscribe(self.observe)
        if limits.seconds is not None:
            threading.Thread(target=self._watch_time, name="early_stop", daemon=True).start()

    def observe(self, values: dict[str, Any]) -> None:
        """See one given record (from any thread)."""
        if self._closed.is_set():
            return
        if not self._decided:
            self._count_record(values)
            if self._limits.seconds is not None and time.monotonic() >= self._deadline:
                self._decide("seconds")
        if self._pending is not None and threading.get_ident() == self._main:
            self._raise_pending()

    def close(self) -> None:
        """Stop watching: the script has ended."""
        self._closed.set()
        self._pending = None
        self._subscription.dispose()
        if self._interrupt is not None:
            self._interrupt.remove()

    def _count_record(self, values: dict[str, Any]) -> None:
        limits = self._limits
        if limits.key not in values or values.get("task") == TASK:
            return
        if limits.task is not None and values.get("task") != limits.task:
            return
        if limits.at is not None:
            self._compare(values[limits.key], limits.at)
            return
        if limits.n is None:
            return
        with self._lock:
            if self._decided:
                return
            self._count += 1
            count = self._count
        self._ov.give(task=TASK, progress=(count, limits.n))
        if count >= limits.n:
            self._decide("count")

    def _compare(self, value: Any, at: float) -> None:
        """Stop at the first value of the key that reaches ``at``; others pass."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        if not math.isfinite(value):
            return
        with self._lock:
            if self._decided:
                return
            self._count += 1
            self._reached = value
        self._ov.give(task=TASK, progress=(value, at))
        if value >= at:
            self._decide("value")

    def _decide(self, reason: str) -> None:
        with self._lock:
            if self._decided:
                return
            self._decided = True
            count = self._count
        limits = self._limits
        if reason == "count":
            value = f"early_stop: {count} records of {limits.key!r}"
        elif reason == "value":
            value = f"early_stop: {limits.key!r} reached {self._reached:g} (at {limits.at:g})"
        else:
            value = f"early_stop: {limits.seconds:g} seconds passed"
        if limits.signal == "event":
            elapsed = round(time.monotonic() - self._start, 3)
            data = {"value": value, "reason": reason, "key": limits.key, "task": limits.task}
            self._ov.log({"$event": "stop", "$data": {**data, "count": count, "elapsed": elapsed}})
            return
        self._pending = value
        if threading.get_ident() != self._main and self._interrupt is not None:
            self._interrupt.fire()

    def _raise_pending(self) -> None:
        value, self._pending = self._pending, None
        if value is not None:
            self._ov.stop(value)

    def _on_interrupt(self) -> None:
        # Ignored once the script has returned: the stop would land in the overseer's code.
        if self._pending is not None and self._ov.phases.run_script.pending:
            self._raise_pending()

    def _watch_time(self) -> None:
        """Tick every whole second: give the time progress, decide once the budget is spent."""
        seconds = self._limits.seconds or 0.0
        total = math.ceil(seconds)
        while True:
            elapsed = time.monotonic() - self._start
            wait = min(math.floor(elapsed) + 1 - elapsed, seconds - elapsed)
            if self._closed.wait(max(wait, 0.0)) or self._decided:
                return
            elapsed = time.monotonic() - self._start
            if self._limits.n is None and self._limits.at is None:
                self._ov.give(task=TASK, progress=(min(int(elapsed), total), total))
            if elapsed >= seconds:
                self._decide("seconds")
                return


class _MainThreadInterrupt:
    """Interrupts the main thread, even asleep or blocked, so that a handler runs there.

    A real-time signal sent to the main thread breaks its sleep or wait (Python retries
    those after running the handler, which raises instead). The script is unlikely to use
    SIGRTMAX, unlike SIGUSR1/SIGUSR2, which Slurm and submitit send.
    """

    def __init__(self, number: int, handler: Callable[[], None]) -> None:
        self._number = number
        self._handler = handler
        self._main = threading.get_ident()
        self._previous: Any = signals.SIG_DFL
        self._lock = threading.Lock()
        self._removed = False
        self._fired = False

    @classmethod
    def install(cls, handler: Callable[[], None]) -> _MainThreadInterrupt | None:
        """Install ``handler`` for the signal; ``None`` where it cannot be (not the main
        thread, or no real-time signals): the stop then waits for a give in the main thread.
        """
        number = getattr(signals, "SIGRTMAX", None)
        if number is None or threading.current_thread() is not threading.main_thread():
            return None
        interrupt = cls(number, handler)
        previous = signals.signal(number, interrupt._on_signal)
        # None: a handler installed outside Python, which cannot be put back; the default is.
        if previous is not None:
            interrupt._previous = previous
        return interrupt

    def fire(self) -> None:
        """Send the signal to the main thread (from another thread), unless removed."""
        with self._lock:
            if not self._removed:
                self._fired = True
                signals.pthread_kill(self._main, self._number)

    def remove(self) -> None:
        """Put back the previous handler; a signal still on its way is discarded."""
        with self._lock:
            self._removed = True
            if self._fired:
                signals.signal(self._number, signals.SIG_IGN)
            signals.signal(self._number, self._previous)

    def _on_signal(self, number: int, frame: Any) -> None:
        self._handler()
        if callable(self._previous):
            self._previous(number, frame)


def _check_n(n: int | None) -> int | None:
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
        message = f"early_stop(n={n!r}) must be a whole number above 0, e.g. early_stop(100)"
        raise ConfigurationError(message)
    return n


def _check_seconds(seconds: float | None) -> float | None:
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        valid = False
    else:
        valid = math.isfinite(seconds) and seconds > 0
    if not valid:
        message = f"early_stop(seconds={seconds!r}) must be a number of seconds above 0"
        raise ConfigurationError(message)
    return float(seconds)


def _check_at(at: float | None, n: int | None) -> float | None:
    if at is None:
        return None
    if isinstance(at, bool) or not isinstance(at, (int, float)) or not math.isfinite(at):
        message = f"early_stop(at={at!r}) must be a finite number, e.g. early_stop(at=8000)"
        raise ConfigurationError(message)
    if n is not None:
        message = f"early_stop(n={n!r}, at={at!r}) has two ends: give n or at"
        raise ConfigurationError(message)
    return float(at)


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key:
        message = f"early_stop(key={key!r}) must be the name of a key records hold, e.g. 'step'"
        raise ConfigurationError(message)
    return key
