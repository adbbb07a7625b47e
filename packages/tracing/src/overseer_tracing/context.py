"""One trace run: :class:`TraceContext`, and :func:`trace_verb_data` for a ``trace=N`` keyword.

A :class:`TraceContext` records the calls made in its ``with`` block (and in the asyncio
tasks it starts; other threads only with ``config={"all_threads": True}``), installs the
shims it is given and every shim installed inside it, and removes them all on exit, however
the block ends. Contexts nest: the inner one records until it exits, then the outer resumes::

    with TraceContext(2, shims=[(Model, "forward", "evaluation")]) as context:
        for batch in loader:  # at most 2 items, in this process
            model(batch)
    print(context.result.evaluation)

A torch DataLoader iterated inside a trace runs with ``num_workers=0`` (one
:class:`TraceWarning` per trace): calls made in worker processes could not be recorded.
With ``trace=N``, its iteration also stops once N items went through (whole batches). That
holds for a torch imported before the trace and for one imported inside it: while a trace
is open and ``torch.utils.data`` is not imported yet, a post-import hook waits for it in
``sys.meta_path`` (taken out when the last such trace exits, however it exits; see
:mod:`._dataloaders`).
"""

from __future__ import annotations

import functools
import inspect
import itertools
import warnings
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar, overload

from . import _dataloaders
from .errors import TraceUsageError
from .record import Recorder, recording
from .shims import Shim, collect_shims, shim_class, shim_instance, stop_collecting

if TYPE_CHECKING:
    from .record import TraceResult

__all__ = ["ShimSpec", "TraceContext", "TraceWarning", "trace_verb_data"]

R = TypeVar("R")

#: A shim for :class:`TraceContext`: (class or object, method name, stage).
ShimSpec = tuple[object, str, str]

# The keys of ``config`` that set up the recorder (see :class:`Recorder`); others are ignored,
# so a project's whole configuration may be passed.
RECORDER_OPTIONS = ("max_calls_per_stage", "ring", "first_only", "all_threads")


class TraceWarning(UserWarning):
    """Tracing changed how something runs (a DataLoader's workers); said once per trace."""


class _Frame:
    """One entry into a :class:`TraceContext`: its recorder, its shims, how to undo them."""

    def __init__(self, owner: TraceContext, recorder: Recorder) -> None:
        self.owner, self.recorder, self.limit = owner, recorder, owner.limit
        self.shims: list[Shim] = []
        self.recording = recording(recorder)
        self.warned = False

    def open(self) -> None:
        self.recording.__enter__()
        self.collecting = collect_shims(self.shims)
        self.frames = _frames.set((*_frames.get(), self))

    def close(self) -> None:
        try:
            failures = []
            for shim in reversed(self.shims):  # innermost first: each restores what it found
                try:
                    shim.remove()
                except Exception as failure:  # the other shims come off all the same
                    failures.append(failure)
            if failures:
                raise failures[0]
        finally:
            _dataloaders.stop_waiting(self)
            stop_collecting(self.collecting, self.shims)
            try:
                _frames.reset(self.frames)
            except ValueError:  # closed from another context than the one that opened it
                _frames.set(tuple(frame for frame in _frames.get() if frame is not self))
            self.recording.__exit__(None, None, None)

    def iterate(self, loader: Any, original: Callable[[Any], Any]) -> Any:
        workers = loader.num_workers
        if workers > 0:
            self.warn_workers(workers)
            loader.num_workers = 0  # read once, when the iterator is made
            try:
                batches = original(loader)
            finally:
                loader.num_workers = workers
        else:
            batches = original(loader)
        if self.limit is None:
            return batches
        return itertools.islice(batches, -(-self.limit // (loader.batch_size or 1)))

    def warn_workers(self, workers: int) -> None:
        if not self.warned:
            self.warned = True
            message = (
                f"a DataLoader with num_workers={workers} runs with num_workers=0 while traced: "
                "calls in worker processes could not be recorded. It keeps its workers after."
            )
            warnings.warn(message, TraceWarning, stacklevel=4)  # the loop over the loader


_frames: ContextVar[tuple[_Frame, ...]] = ContextVar("overseer_trace_frames", default=())


class TraceContext:
    """Record a trace and hold shims for the time of a ``with`` block.

    Args:
        trace: a number of items (DataLoaders stop after it), True for a trace without a
            limit, or a false value (None, False, 0) for no trace at all.
        config: options of the :class:`Recorder` (``max_calls_per_stage``, ``ring``,
            ``all_threads``); other keys are ignored.
        shims: ``(class or object, method name, stage)`` to trace while inside.

    Attributes:
        result: the trace, once the block exited (None before, or when ``trace`` is false).
        limit: the number of items, or None.

    Raises:
        ValueError: ``trace`` is a negative number or not a number.

    Examples:
        >>> class Model:
        ...     def forward(self, x):
        ...         return x
        >>> with TraceContext(shims=[(Model, "forward", "evaluation")]) as context:
        ...     _ = Model().forward(3)
        >>> context.result.evaluation.forward.status
        'ok'
    """

    def __init__(
        self,
        trace: int | bool | None = True,
        config: Mapping[str, Any] | None = None,
        *,
        shims: Iterable[ShimSpec] = (),
    ) -> None:
        self.enabled = _items(trace, 0) is not None
        self.limit = None if trace is True or not self.enabled else _items(trace, 0)
        self.config = dict(config or {})
        self.shims = tuple(shims)
        self.result: TraceResult | None = None

    @property
    def recorder(self) -> Recorder | None:
        """The recorder of this context's innermost open entry here, or None."""
        frame = self._frame()
        return None if frame is None else frame.recorder

    def __enter__(self) -> TraceContext:
        if not self.enabled:
            return self
        options = {key: self.config[key] for key in RECORDER_OPTIONS if key in self.config}
        frame = _Frame(self, Recorder(**options))
        frame.open()
        try:
            for target, name, stage in self.shims:
                if isinstance(target, type):
                    shim_class(target, name, stage)
                else:
                    shim_instance(target, name, stage)
            _dataloaders.guard(frame, _guarded_iter)
        except BaseException:
            frame.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        frame = self._frame()
        if frame is not None:
            frame.close()
            self.result = frame.recorder.result()

    def _frame(self) -> _Frame | None:
        return next((f for f in reversed(_frames.get()) if f.owner is self), None)


def _guarded_iter(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(original)
    def __iter__(loader: Any) -> Any:
        frames = _frames.get()
        if not frames:  # another thread, or a task started outside the trace
            return original(loader)
        return frames[-1].iterate(loader, original)

    return __iter__


def _items(trace: int | bool | None, default: int) -> int | None:
    if trace is None or trace is False or trace == 0:
        return None
    if trace is True:
        return default
    if isinstance(trace, int) and trace > 0:
        return trace
    message = f"trace={trace!r}: give a number of items (a positive int), True, or None"
    raise TraceUsageError(message)


@overload
def trace_verb_data(
    func: Callable[..., R], *, n_default: int = 1
) -> Callable[..., R | TraceResult]: ...
@overload
def trace_verb_data(
    func: None = None, *, n_default: int = 1
) -> Callable[[Callable[..., R]], Callable[..., R | TraceResult]]: ...
def trace_verb_data(func: Callable[..., R] | None = None, *, n_default: int = 1) -> Any:
    """Add a ``trace=N`` keyword to a function that runs a pipeline, bare or with arguments.

    ``run(..., trace=N)`` runs ``run`` inside ``TraceContext(N)`` and returns the
    :class:`TraceResult` instead of ``run``'s value (``trace=True`` means ``n_default``
    items; no ``trace`` or a false one runs ``run`` untouched). Only N items run: ``run``
    receives ``trace_limit=N`` when it has a parameter of that name, and torch DataLoaders
    iterated inside stop once N items went through, in whole batches.

    Args:
        func: the function, when used bare.
        n_default: the number of items of ``trace=True``.

    Raises:
        ValueError: ``n_default`` (here) or ``trace`` (at the call) is not a positive int.

    Examples:
        >>> @trace_verb_data
        ... def infer(items, trace_limit=None):
        ...     return [square(x) for x in items[:trace_limit]]
        >>> result = infer([1, 2, 3, 4], trace=2)  # a TraceResult: square's 2 calls
    """
    if isinstance(n_default, bool) or not isinstance(n_default, int) or n_default < 1:
        raise TraceUsageError(f"n_default={n_default!r}: give a positive number of items")

    def decorator(run: Callable[..., R]) -> Callable[..., R | TraceResult]:
        takes_limit = "trace_limit" in _parameters(run)

        @functools.wraps(run)
        def wrapper(*args: Any, trace: int | bool | None = None, **kwargs: Any) -> Any:
            items = _items(trace, n_default)
            if items is None:
                return run(*args, **kwargs)
            if takes_limit:
                kwargs.setdefault("trace_limit", items)
            with TraceContext(items) as context:
                run(*args, **kwargs)
            return context.result

        return wrapper

    return decorator if func is None else decorator(func)


def _parameters(func: Callable[..., Any]) -> Mapping[str, inspect.Parameter]:
    try:
        return inspect.signature(func).parameters
    except (TypeError, ValueError):
        return {}
