"""The recorder that fills a trace, and the context it records in.

A :class:`Recorder` receives ``begin``/``end`` pairs from the decorators and shims;
:func:`recording` makes it the current one for the calling context only (a ContextVar), so
other threads and tasks stay out unless it records ``all_threads``::

    with recording() as recorder:
        token = recorder.begin("collate", "collate_fn", "collate_fn", {"batch": [1, 2]})
        recorder.end(token, result=[1, 2])
    print(recorder.result().collate.collate_fn)
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING

from .errors import TraceUsageError
from .model import DEFAULT_STAGES, TraceCall, TraceResult, TraceStage

if TYPE_CHECKING:
    from .values import Summary

__all__ = [
    "DEFAULT_STAGES",
    "Recorder",
    "TraceCall",
    "TraceResult",
    "TraceStage",
    "current_recorder",
    "get_trace",
    "recording",
    "reset_trace",
]


class _StageBuffer:
    """A stage's calls under the cap: the first ones in ``head``, the latest in ``tail``.

    Past ``last`` calls (``first_only``), a call is counted and nothing more.
    """

    __slots__ = ("count", "head", "head_size", "last", "tail")

    def __init__(self, head_size: int, tail_size: int, last: int = 2**62) -> None:
        self.count = 0  # calls added, kept or not
        self.head: list[TraceCall] = []
        self.head_size = head_size
        self.tail: deque[TraceCall] = deque(maxlen=tail_size)  # pushes its oldest call out
        self.last = last

    @property
    def dropped(self) -> int:
        return self.count - len(self.head) - len(self.tail)

    def snapshot(self) -> list[TraceCall]:
        while True:  # another thread appending makes list(deque) raise: read again
            try:
                calls = self.head + list(self.tail)
                break
            except RuntimeError:
                continue
        # A call still running changes when it ends: the snapshot keeps a copy of it.
        return [copy.copy(call) if call.status == "running" else call for call in calls]


class Recorder:
    """Collects the calls of one recording, capped per stage.

    Args:
        max_calls_per_stage: calls kept per stage (None: all). Past it, the first half and
            the last half are kept and the rest counted as dropped.
        ring: keep only the latest ``max_calls_per_stage`` calls of each stage.
        first_only: keep only the first ``max_calls_per_stage`` calls of each stage, and
            any later one that raises (see :meth:`fail`). The other calls of a full stage
            are counted as dropped and nothing more (their arguments are not even read):
            the run goes on at almost full speed.
        all_threads: record calls from every thread while recording, not only the
            recording's own context.

    Raises:
        ValueError: a cap below 1, ``ring`` or ``first_only`` without a cap, or both.

    Examples:
        >>> recorder = Recorder(max_calls_per_stage=4)
        >>> recorder.end(recorder.begin("evaluation", "Model.forward", "forward", None))
        >>> recorder.result().evaluation[0].status
        'ok'
    """

    def __init__(
        self,
        *,
        max_calls_per_stage: int | None = 10_000,
        ring: bool = False,
        first_only: bool = False,
        all_threads: bool = False,
    ) -> None:
        from .values import summarise

        _check_cap(max_calls_per_stage, ring, first_only)
        self.max_calls_per_stage = max_calls_per_stage
        self.ring = ring
        self.first_only = first_only
        self.all_threads = all_threads
        self.started_at = time.time()
        self._summarise: Callable[[object], Summary] = summarise
        self._origin_ns = time.perf_counter_ns()
        self._tokens = itertools.count()
        self._stages: dict[str, _StageBuffer] = {}
        self._open: dict[int, TraceCall] = {}
        # The calls begun in each context (thread or task), latest first, as a chain of
        # (token, the chain when it began): the first one still open is the parent of the
        # next call. end() leaves the chain alone (one ContextVar.set a call less); the next
        # begin() skips the ended calls. One variable per recorder, so nested recordings
        # never link to each other's calls; a context keeps a chain of tokens alive, no call.
        self._begun: ContextVar[_Chain | None] = ContextVar("begun_calls", default=None)

    def begin(
        self,
        stage: str,
        name: str,
        display_name: str,
        params: Mapping[str, object] | None,
        capture_error: str | None = None,
        names: Iterable[str] | None = None,
    ) -> int | None:
        """Record that a call starts.

        Args:
            stage: the stage the call goes to.
            name: the function's qualified name.
            display_name: the name a trace prints.
            params: the arguments to record, by name (None: none).
            capture_error: why some arguments could not be captured, if any.
            names: record only these keys of ``params``, in this order (``params`` may then
                be a frame's locals, which hold more).

        Returns:
            The token that :meth:`end` takes; None when the call is not recorded (its stage
            is full, with ``first_only``).
        """
        buffer = self._stages.get(stage) or self._add_stage(stage)
        buffer.count += 1
        if buffer.count > buffer.last:
            return None
        token = next(self._tokens)
        summaries: dict[str, Summary] = {}
        if params:
            summarise = self._summarise
            try:
                for key in params if names is None else names:  # a loop: no dict of values
                    summaries[key] = summarise(params[key])
            except Exception:  # one argument failed: keep the others, name the one that did not
                summaries, failed = self._summarise_each(params, names)
                capture_error = capture_error or failed
        try:
            thread = _this_thread.name
        except AttributeError:  # first call from this thread (a rename later is not seen)
            thread = _this_thread.name = threading.current_thread().name
        begun, opened = self._begun, self._open
        chain = begun.get()
        while chain is not None and chain[0] not in opened:  # ended: its parent may be open
            chain = chain[1]
        # Made empty, then filled slot by slot: half the cost of the dataclass's __init__.
        call = _new_call(TraceCall)
        call.stage, call.name, call.display_name, call.params = stage, name, display_name, summaries
        call.result, call.status, call.duration_ns, call.thread = None, "running", 0, thread
        call.exception = None if capture_error is None else ("CaptureError", capture_error)
        call.parent, call.index = None if chain is None else chain[0], token
        if buffer.count <= buffer.head_size:
            buffer.head.append(call)
        else:
            buffer.tail.append(call)
        opened[token] = call
        begun.set((token, chain))
        call.start_ns = _clock() - self._origin_ns  # last: begin's own cost left out
        return token

    def end(
        self, token: int | None, result: object = None, error: BaseException | None = None
    ) -> None:
        """Record that the call of ``token`` returned ``result`` or raised ``error``.

        Never raises: a result that cannot be summarised makes the status capture_error. A
        None token (a call :meth:`begin` did not record) is ignored.
        """
        now = _clock() - self._origin_ns  # first: end's own cost left out
        call = None if token is None else self._open.pop(token, None)
        if call is None:  # not recorded, unknown, ended twice, or cleared by reset_trace()
            return
        call.duration_ns = now - call.start_ns
        if error is not None:
            call.exception = _describe(error)
            call.status = "error"
            return
        if result is not None:
            try:
                call.result = self._summarise(result)
            except Exception as failure:
                call.exception = ("CaptureError", f"result: {_describe(failure)[1]}")
        call.status = "ok" if call.exception is None else "capture_error"

    def fail(
        self,
        stage: str,
        name: str,
        display_name: str,
        params: Mapping[str, object] | None,
        error: BaseException,
        names: Iterable[str] | None = None,
    ) -> None:
        """Keep a call that raised although :meth:`begin` left it out, its stage being full
        (``first_only``): a trace of the first N calls still shows where the run failed.

        Its arguments are ``params`` (``names`` of them, as for :meth:`begin`), read when it
        failed; its duration is unknown (0). A call of a stage that is not full is not kept
        here: it was begun, or it began before the recording did. Never raises.
        """
        buffer = self._stages.get(stage)
        if buffer is None or buffer.count <= buffer.last:
            return
        try:
            summaries, _ = self._summarise_each(params or {}, names)
            chain = self._begun.get()
            while chain is not None and chain[0] not in self._open:
                chain = chain[1]
            call = TraceCall(
                stage, name, display_name, summaries, None, "error", _describe(error), 0,
                _clock() - self._origin_ns, threading.current_thread().name,
                None if chain is None else chain[0], next(self._tokens),
            )  # fmt: skip
            buffer.head.append(call)  # past head_size: kept as the first calls are
        except Exception:  # a failure that cannot be kept stays counted as dropped
            return

    def result(self) -> TraceResult:
        """The trace so far (calls still running show as such)."""
        order = [name for name in DEFAULT_STAGES if name in self._stages]
        order += [name for name in self._stages if name not in DEFAULT_STAGES]
        stages = [self._stage(name) for name in order]
        return TraceResult(stages, started_at=self.started_at)

    def clear(self) -> None:
        """Forget every call recorded so far."""
        self._stages = {}
        self._open = {}

    def _stage(self, name: str) -> TraceStage:
        buffer = self._stages[name]
        return TraceStage(name, buffer.snapshot(), buffer.dropped)

    def _add_stage(self, stage: str) -> _StageBuffer:
        cap = self.max_calls_per_stage
        if cap is None:
            buffer = _StageBuffer(2**62, 0)
        elif self.first_only:
            buffer = _StageBuffer(cap, 0, last=cap)
        else:
            buffer = _StageBuffer(*((0, cap) if self.ring else (cap - cap // 2, cap // 2)))
        return self._stages.setdefault(stage, buffer)

    def _summarise_each(
        self, params: Mapping[str, object], names: Iterable[str] | None
    ) -> tuple[dict[str, Summary], str | None]:
        summaries: dict[str, Summary] = {}
        failures: list[str] = []
        for key in params if names is None else names:
            try:
                summaries[key] = self._summarise(params[key])
            except Exception as failure:
                failures.append(f"{key}: {_describe(failure)[1]}")
        return summaries, "; ".join(failures) or None


def _check_cap(cap: int | None, ring: bool, first_only: bool) -> None:
    if cap is not None and cap < 1:
        message = f"max_calls_per_stage={cap}: give a positive number of calls, or None for all"
        raise TraceUsageError(message)
    if ring and first_only:
        message = "ring=True and first_only=True: keep the latest calls or the first, not both"
        raise TraceUsageError(message)
    if (ring or first_only) and cap is None:
        option, which = ("ring", "latest") if ring else ("first_only", "first")
        message = f"{option}=True needs max_calls_per_stage: the number of {which} calls to keep"
        raise TraceUsageError(message)


def _describe(error: BaseException) -> tuple[str, str]:
    try:
        message = str(error)
    except Exception:  # a broken __str__ must not break the traced program
        message = f"<{type(error).__name__} whose message cannot be shown>"
    return type(error).__name__, message


# A context's begun calls: the latest one's token, then the chain as it was when it began.
_Chain = tuple[int, "_Chain | None"]
_clock = time.perf_counter_ns
_new_call = object.__new__
_this_thread = threading.local()  # caches the thread's name: current_thread() costs 0.1 us
_current: ContextVar[Recorder | None] = ContextVar("overseer_tracing_recorder", default=None)
# Recorders with all_threads=True now recording, innermost last. Changed in place only: the
# wrappers of capture.py hold this very list, and read it (and _current) without a call.
_all_threads: list[Recorder] = []
_last: Recorder | None = None  # the recording that finished last, for get_trace()
# Recordings running in every thread, and what is told when their number changes: the
# sys.monitoring path (monitoring.py) switches its events on and off with it. They never raise.
_running = 0
_running_lock = threading.Lock()
_listeners: list[Callable[[], None]] = []


def _count_recording(change: int) -> None:
    global _running
    with _running_lock:
        _running += change
    for listener in _listeners:
        listener()


def current_recorder() -> Recorder | None:
    """The recorder that calls in this context go to, or None.

    Traced functions make the same check inline, reading ``_current`` and ``_all_threads``.
    """
    recorder = _current.get()
    if recorder is None and _all_threads:
        return _all_threads[-1]
    return recorder


@contextlib.contextmanager
def recording(recorder: Recorder | None = None) -> Iterator[Recorder]:
    """Make ``recorder`` (a new default one if None) current in this context until exit.

    Recordings nest: calls go to the innermost one, and the outer one resumes after it.

    Examples:
        >>> with recording() as recorder:
        ...     current_recorder() is recorder
        True
    """
    global _last
    recorder = Recorder() if recorder is None else recorder
    previous = _current.get()
    token = _current.set(recorder)
    if recorder.all_threads:
        _all_threads.append(recorder)
    _count_recording(1)
    try:
        yield recorder
    finally:
        _count_recording(-1)
        try:
            _current.reset(token)
        except ValueError:  # exited from another context than the one that entered
            _current.set(previous)
        if recorder in _all_threads:
            _all_threads.remove(recorder)
        _last = recorder


def get_trace() -> TraceResult | None:
    """The current recording's trace so far, else the last finished one's, else None."""
    recorder = current_recorder() or _last
    return None if recorder is None else recorder.result()


def reset_trace() -> None:
    """Forget the last finished trace, and the calls of the current recording so far."""
    global _last
    _last = None
    recorder = current_recorder()
    if recorder is not None:
        recorder.clear()
