"""Python 3.12+: decorated functions recorded through :mod:`sys.monitoring`, free while off.

On 3.12 and later, :func:`watch` gives a plain Python function a copy of itself (no wrapper,
so a call costs nothing extra while no recording is active) and registers the copy's own
code object: the function it was given stays untraced, as under a wrapper. While
any recording is active, those code objects get local ``PY_START`` and ``PY_RETURN`` events,
and ``PY_UNWIND`` is on (it can only be set globally), all on one tool id the package claims;
the callbacks read the arguments from the function's frame and call
:meth:`Recorder.begin`/:meth:`Recorder.end` (or :meth:`Recorder.fail`, for a call of a full
stage that raises) as the wrappers of :mod:`.capture` do. Events go off when the last
recording ends (or, for a traced call still running then, when it returns)::

    @trace_func
    def collate(batch):  # on 3.12+, ``collate`` is a plain function, not a wrapper
        return batch

Where sys.monitoring cannot serve (Python 3.11, no free tool id, a callable that is not a
plain function, a generator or ``async`` function, a function decorated twice), the
decorators fall back to the wrappers; a missing tool id is said once, with a warning.

CPython sends no event while any tool's callback (or a ``sys.settrace``/``sys.setprofile``
function) runs: a call made there is not recorded, and no code of this module runs to see
it. The README lists it among the known limits.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import threading
import warnings
from types import CodeType, FunctionType
from typing import TYPE_CHECKING, Any

from . import record
from ._compiled_wrapper import SIGNATURE_ATTRIBUTES, Shape
from .capture import CallSpec, _begin, _fail

if TYPE_CHECKING:
    from .record import Recorder

__all__ = ["TOOL_NAME", "monitored_codes", "watch"]

#: The name the package's tool id is claimed under.
TOOL_NAME = "overseer-tracing"
# Ids no standard tool claims first (0-2 are the debugger's, coverage's and profilers').
_TOOL_IDS = (3, 4, 5)
# Code that runs across suspensions: its call is recorded by the wrapper, at creation.
_SUSPENDING = (
    inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
) | inspect.CO_ITERABLE_COROUTINE
_monitoring: Any = getattr(sys, "monitoring", None)  # Any: mypy may check as for 3.11


class _Watched:
    """A registered code object's spec, and the names its arguments are read under."""

    __slots__ = ("code", "everything", "names", "shown", "spec")

    def __init__(self, func: FunctionType, spec: CallSpec, code: CodeType) -> None:
        shape = Shape(func)
        self.spec, self.names, self.code = spec, shape.names, code  # keeps id(code) unique
        receiver = shape.positional[0] if shape.positional[:1] in (["self"], ["cls"]) else None
        self.shown = [name for name in shape.names if name != receiver]
        self.everything = spec.selection is None


_lock = threading.Lock()
_tool: int | None = None
_tried = False  # whether a tool id was looked for (once: the answer holds)
# Keyed by id(code): a code object's hash reads its fields, an id is free; held by _Watched.
_watched: dict[int, _Watched] = {}
_copies: dict[tuple[object, ...], CodeType] = {}  # (code, stage, names, selection): its copy
# id(frame) of a call running since a recording began: its recorder and token (None: left
# out by a full stage).
_open: dict[int, tuple[Recorder, int | None]] = {}
_on = False
# Read on every recorded call: bound once here (the ContextVar and the list never change).
_current_recorder = record._current.get
_all_threads = record._all_threads
_frame = sys._getframe


def watch(func: object, spec: CallSpec) -> FunctionType | None:
    """A copy of ``func`` whose calls are recorded through sys.monitoring; None where a
    wrapper must do.

    The copy shares everything with ``func`` (globals, defaults, closure, attributes) but
    its code object: one per function and spec, so that ``func`` itself stays untraced, as
    it does under a wrapper, and a stage is told by its code alone.
    """
    if _monitoring is None or type(func) is not FunctionType:
        return None
    code = func.__code__
    if code.co_flags & _SUSPENDING or hasattr(func, "__overseer_trace__"):
        return None  # already traced: the second decoration wraps, and records, again
    if any(hasattr(func, attribute) for attribute in SIGNATURE_ATTRIBUTES):
        return None  # its signature is not its code's: bound through the signature instead
    with _lock:
        if _claim() is None:
            return None
        key = (code, spec.stage, spec.name, spec.display_name, spec.selection)
        copied = _copies.get(key)
        if copied is None:  # a closure made again reuses its copy: the registry stays small
            marker = f"<overseer-tracing {spec.stage}: {len(_copies)}>"
            copied = _copies[key] = code.replace(co_consts=(*code.co_consts, marker))
            _watched[id(copied)] = _Watched(func, spec, copied)
            if _on:
                _monitoring.set_local_events(_tool, copied, _local_events())
        if record._running and not _on:  # the first traced function, defined while recording
            _switch(True)
    return _copy(func, copied, spec)


def _copy(func: FunctionType, code: CodeType, spec: CallSpec) -> FunctionType:
    """``func`` with ``code``: what a wrapper would show (name, docs, attributes) and keep."""
    copy = FunctionType(code, func.__globals__, func.__name__, func.__defaults__, func.__closure__)
    copy.__kwdefaults__ = func.__kwdefaults__
    copy.__qualname__, copy.__module__ = func.__qualname__, func.__module__
    copy.__doc__, copy.__annotations__ = func.__doc__, func.__annotations__
    if hasattr(func, "__type_params__"):  # 3.12+: the generic function's type parameters
        copy.__type_params__ = func.__type_params__  # type: ignore[attr-defined]
    copy.__dict__.update(func.__dict__)
    copy.__wrapped__ = func  # type: ignore[attr-defined]  # as functools.wraps says it
    copy.__overseer_trace__ = spec  # type: ignore[attr-defined]
    return copy


def monitored_codes() -> list[CodeType]:
    """The code objects whose calls are recorded through sys.monitoring."""
    return [watched.code for watched in _watched.values()]


def _claim() -> int | None:
    """The package's tool id, claimed on first use; None (said once) when none is free."""
    global _tool, _tried
    if _tried:
        return _tool
    _tried = True
    for tool in _TOOL_IDS:
        owner = _monitoring.get_tool(tool)
        if owner is None or owner == TOOL_NAME:  # ours already: this module was reloaded
            if owner is None:
                _monitoring.use_tool_id(tool, TOOL_NAME)
            events = _monitoring.events
            _monitoring.register_callback(tool, events.PY_START, _started)
            _monitoring.register_callback(tool, events.PY_RETURN, _returned)
            _monitoring.register_callback(tool, events.PY_UNWIND, _unwound)
            _tool = tool
            return tool
    taken = ", ".join(f"{tool}: {_monitoring.get_tool(tool)}" for tool in _TOOL_IDS)
    message = (
        f"overseer-tracing: no sys.monitoring tool id is free ({taken}); traced functions "
        "are wrapped instead, at a small cost per call while tracing is off"
    )
    warnings.warn(message, RuntimeWarning, stacklevel=5)
    return None


def _local_events() -> int:
    events = _monitoring.events
    return events.PY_START | events.PY_RETURN  # type: ignore[no-any-return]


def _recordings_changed() -> None:
    """Called by :func:`record.recording` on entry and on exit."""
    with _lock:
        if _tool is not None:
            # Another tool may have freed our id: the recording goes on all the same.
            with contextlib.suppress(Exception):
                _switch(record._running > 0 or bool(_open))


def _switch(on: bool) -> None:
    """Events on (or off) for every registered code object; the lock is held."""
    global _on
    if on == _on:
        return
    events = _local_events() if on else 0
    for watched in _watched.values():
        _monitoring.set_local_events(_tool, watched.code, events)
    _monitoring.set_events(_tool, _monitoring.events.PY_UNWIND if on else 0)
    _on = on


def _started(code: CodeType, offset: int) -> None:
    recorder = _current_recorder()
    if recorder is None:
        if not _all_threads:
            return
        try:
            recorder = _all_threads[-1]
        except IndexError:  # the last all-threads recording ended since the check
            return
    try:
        watched = _watched[id(code)]
        frame = _frame(1)
        values = frame.f_locals  # at the start, the arguments (and the closure's cells)
        if watched.everything:
            spec = watched.spec  # names given by position: a call with keywords costs more
            token = recorder.begin(
                spec.stage, spec.name, spec.display_name, values, None, watched.shown
            )
        else:
            bound = {name: values[name] for name in watched.names}
            token = _begin(recorder, watched.spec, (), None, bound)
    except Exception:  # a capture must never break the call it watches
        return
    # Also with a None token (its stage is full, first_only): should it raise, it is kept.
    _open[id(frame)] = (recorder, token)


def _returned(code: CodeType, offset: int, result: object) -> None:
    if not _open:
        return
    try:
        recorder, token = _open.pop(id(_frame(1)))  # one frame up: the returning call
    except KeyError:  # a call that started before the recording did
        return
    if token is not None:
        # try, not contextlib.suppress: its object and two calls cost 0.3 us on every call.
        try:  # noqa: SIM105
            recorder.end(token, result, None)
        except Exception:  # end never raises; a callback must not either
            pass
    if not _open and not record._running:  # the last recording ended while this call ran
        _events_off()


def _unwound(code: CodeType, offset: int, error: BaseException) -> None:
    # PY_UNWIND is global: every function's unwinding comes here, traced or not.
    if not _open or id(code) not in _watched:
        return
    frame = _frame(1)
    try:
        recorder, token = _open.pop(id(frame))
    except KeyError:
        return
    try:
        if token is not None:
            recorder.end(token, None, error)
        else:  # begin() left it out, its stage full: a failure is kept all the same
            _keep_failure(recorder, _watched[id(code)], frame.f_locals, error)
    except Exception:  # a callback must never raise
        pass
    if not _open and not record._running:
        _events_off()


def _keep_failure(recorder: Recorder, watched: _Watched, values: Any, error: BaseException) -> None:
    spec = watched.spec
    if watched.everything:
        recorder.fail(spec.stage, spec.name, spec.display_name, values, error, watched.shown)
    else:
        bound = {name: values[name] for name in watched.names if name in values}
        _fail(recorder, spec, (), None, bound, error)


def _events_off() -> None:
    with _lock:
        if not record._running and not _open and _tool is not None:
            _switch(False)


record._listeners.append(_recordings_changed)
