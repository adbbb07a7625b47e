"""``give()``: hand values to whatever overseer is listening, for almost nothing otherwise.

Scripts call it the way they call the giving library's ``give``::

    from overseer import give

    for step, batch in enumerate(loader):
        loss = train_step(batch)
        give(loss=loss.item(), step=step, batch=batch)

With no overseer running, ``give`` is one global test and a return. Under an overseer, the
values go to :attr:`Overseer.given <overseer.Overseer.given>` on whatever thread called it
(giving's own ``give`` drops values given from threads it was not entered in).

``give(x)`` with positional arguments names them after the expressions passed, as giving
does; ``give.wrap(name)``, ``give.inherit(**keys)`` and ``give.wrap_inherit`` behave as in
giving.
"""

from __future__ import annotations

import _thread
import contextvars
import itertools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from .schema import RUN_PID_ENV

__all__ = ["Give", "give"]

Deliver = Callable[[dict[str, Any]], None]

#: Where given values go; ``None`` while no overseer runs in this process.
_deliver: Deliver | None = None

_inherited: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "overseer_inherited",
    default={},  # noqa: B039 - never mutated: inherit() sets a new dict
)
_wrap_ids = itertools.count()
# How many inherit() blocks are open, in any thread: while none is, give() skips the context
# variable. Changed under a lock, so that no thread's count is ever lost.
_inheriting = 0
_inheriting_lock = _thread.allocate_lock()


class Give(Protocol):
    """The type of :func:`give`: a callable with giving's helper methods."""

    def __call__(self, *args: Any, **values: Any) -> Any: ...

    def wrap(self, name: str, **keys: Any) -> AbstractContextManager[dict[str, Any]]:
        """Give ``{"$wrap": {"name", "step": "begin"|"end", "id"}}`` around a block."""

    def inherit(self, **keys: Any) -> AbstractContextManager[None]:
        """Add ``keys`` to everything given inside the block."""

    def wrap_inherit(self, name: str, **keys: Any) -> AbstractContextManager[dict[str, Any]]:
        """``inherit(**keys)`` and ``wrap(name)`` at once."""


def _give(*args: Any, **values: Any) -> Any:
    deliver = _deliver
    if deliver is None:
        return args[0] if len(args) == 1 else None
    if args or not values:
        values = {**_name_positional(args), **values}
    if _inheriting:
        inherited = _inherited.get()
        if inherited:
            values = {**inherited, **values}
    deliver(values)
    return args[0] if len(args) == 1 else None


def _name_positional(args: tuple[Any, ...]) -> dict[str, Any]:
    """Name positional arguments after their expressions, exactly as giving does."""
    from giving import gvr

    # Frames: _name_positional -> _give -> the caller. giving's resolve counts from its own
    # caller, and asks its ``func`` only for ``argname``'s benefit.
    named: dict[str, Any] = gvr.resolve(2, _give, args)
    return named


@contextmanager
def _inherit(**keys: Any) -> Iterator[None]:
    global _inheriting
    with _inheriting_lock:
        _inheriting += 1
    token = _inherited.set({**_inherited.get(), **keys})
    try:
        yield
    finally:
        _inherited.reset(token)
        with _inheriting_lock:
            _inheriting -= 1


@contextmanager
def _wrap(name: str, **keys: Any) -> Iterator[dict[str, Any]]:
    number = next(_wrap_ids)
    _give(**{"$wrap": {"name": name, "step": "begin", "id": number}, **keys})
    extra: dict[str, Any] = {}
    try:
        yield extra
    finally:
        _give(**{"$wrap": {"name": name, "step": "end", "id": number}, **keys, **extra})


@contextmanager
def _wrap_inherit(name: str, **keys: Any) -> Iterator[dict[str, Any]]:
    with _inherit(**keys), _wrap(name) as extra:
        yield extra


_give.wrap = _wrap  # type: ignore[attr-defined]
_give.inherit = _inherit  # type: ignore[attr-defined]
_give.wrap_inherit = _wrap_inherit  # type: ignore[attr-defined]

give: Give = _give  # type: ignore[assignment]


def set_delivery(deliver: Deliver | None) -> Deliver | None:
    """Send every later ``give`` to ``deliver`` (``None`` stops it); return the previous one.

    Only an overseer calls this.
    """
    global _deliver
    previous, _deliver = _deliver, deliver
    return previous


def _warn_once_in_spawned_worker(*args: Any, **values: Any) -> Any:
    """Stand-in for ``give`` in a process spawned by an overseen one: warn, then be quiet."""
    global _deliver
    if _deliver is _warn_once_in_spawned_worker:
        _deliver = None
        print(
            f"overseer: give() in worker process {os.getpid()} is dropped: it was started"
            " with 'spawn', which does not carry the overseer's stream; use the 'fork'"
            " start method to have workers' values reach it",
            file=sys.stderr,
        )
    return None


def _detect_spawned_worker() -> None:
    """A process spawned by an overseen one inherits its environment but not its stream."""
    global _deliver
    run_pid = os.environ.get(RUN_PID_ENV)
    if run_pid and run_pid != str(os.getpid()) and "multiprocessing" in sys.modules:
        _deliver = _warn_once_in_spawned_worker


_detect_spawned_worker()
