"""What functions rewritten for probes call as they run, and the light path of ``F > x``.

A probed function gets ptera's code rewrite, with :func:`_proceed` as its entry point: when
only direct probes watch it, each assignment calls their emitters (:class:`_Direct`); when
ptera's interpreter watches it too, both are served (:class:`_Shared`).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from ptera.overlay import HandlerCollection
from ptera.overlay import proceed as ptera_proceed
from ptera.transform import PteraNameError, SyncedStackedTransforms
from ptera.utils import ABSENT


@contextlib.contextmanager
def _quiet_ptera() -> Iterator[None]:
    """ptera's rewrite uses ast names that Python 3.12+ deprecates; keep that out of sight."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ptera(\.|$)")
        if "codefind" not in sys.modules:
            _load_codefind_quietly()
        yield


def _load_codefind_quietly() -> None:
    # codefind, loaded by ptera's first rewrite, reads every attribute of every module loaded
    # so far, once; some warn on being read (torch.distributed.reduce_op), which is no news
    # for the user of a probe.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importlib.import_module("codefind")


# The direct listeners of the ProbeSets active in this context: function -> interactor.
_FAST_TABLES: ContextVar[tuple[dict[Any, _Direct], ...]] = ContextVar(
    "overseer_probe_tables", default=()
)


class _Direct:
    """What a rewritten function calls on each assignment when only direct probes watch it.

    Also the context manager that the function's body runs in (``with proceed(f) as FR``).
    """

    __slots__ = ("emitters", "function")

    def __init__(self, function: Any, emitters: dict[str, Callable[[Any], None]] | None = None):
        self.function = function
        self.emitters = emitters if emitters is not None else {}

    def __enter__(self) -> _Direct:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def interact(self, name: str, key: Any, category: Any, value: Any, overridable: bool) -> Any:
        if value is ABSENT:
            raise PteraNameError(name, self.function)
        emit = self.emitters.get(name if key is None else key.affix_to(name))
        if emit is not None:
            emit(value)
        return value

    def add(self, name: str, emit: Callable[[Any], None]) -> None:
        previous = self.emitters.get(name)
        self.emitters[name] = emit if previous is None else _fan_out(previous, emit)

    def merged(self, other: _Direct) -> _Direct:
        merged = _Direct(self.function, dict(self.emitters))
        for name, emit in other.emitters.items():
            merged.add(name, emit)
        return merged


def _fan_out(first: Callable[[Any], None], second: Callable[[Any], None]) -> Callable[[Any], None]:
    def emit(value: Any) -> None:
        first(value)
        second(value)

    emit.parts = (first, second)  # type: ignore[attr-defined]
    return emit


def _without(emit: Callable[[Any], None], gone: Callable[[Any], None]) -> Any:
    """``emit`` with ``gone`` taken out of its fan-out, or None if nothing is left."""
    if emit is gone:
        return None
    parts = getattr(emit, "parts", None)
    if parts is None:
        return emit
    first, second = (_without(part, gone) for part in parts)
    return second if first is None else first if second is None else _fan_out(first, second)


class _Shared:
    """The body context when ptera's interpreter and direct probes both watch a function."""

    __slots__ = ("call", "direct", "function", "inner")

    def __init__(self, function: Any, direct: _Direct) -> None:
        self.function = function
        self.direct = direct

    def __enter__(self) -> _Shared:
        self.call = ptera_proceed(self.function)
        self.inner = self.call.__enter__()
        return self

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> Any:
        return self.call.__exit__(kind, error, traceback)

    def interact(self, name: str, key: Any, category: Any, value: Any, overridable: bool) -> Any:
        full = name if key is None else key.affix_to(name)
        if value is ABSENT or self.inner.accumulators.get(full):
            value = self.inner.interact(name, key, category, value, overridable)
        return self.direct.interact(name, key, category, value, overridable)


def _proceed(function: Any) -> Any:
    """Entered by every function this module rewrites, each time it is called."""
    direct = None
    for table in _FAST_TABLES.get():
        found = table.get(function)
        if found is not None:
            direct = found if direct is None else direct.merged(found)
    if HandlerCollection.current.get() is None:
        return direct if direct is not None else _Direct(function)
    if direct is None:
        return ptera_proceed(function)
    return _Shared(function, direct)


def _stack(function: types.FunctionType) -> Any:
    """The function's ptera rewrite stack, created with this module's entry point if absent."""
    stack = function.__dict__.get("__ptera_stack__")
    if stack is None:
        stack = SyncedStackedTransforms(function, proceed=_proceed)
        function.__ptera_stack__ = stack  # type: ignore[attr-defined]
    return stack


def _release(function: types.FunctionType) -> None:
    """Once nothing probes ``function``, drop what ptera hung on it (its code is back)."""
    stack = function.__dict__.get("__ptera_stack__")
    if stack is None or stack.tset.proceed is not _proceed or stack.instrument_count:
        return
    for attribute in ("__ptera_stack__", "__ptera_info__", "__ptera_token__", "__ptera_discard__"):
        function.__dict__.pop(attribute, None)
    namespace: dict[Any, Any] = function.__globals__
    if namespace.get(None) is function:  # ptera parks the function under the key None
        del namespace[None]


def _is_direct(selector: Any, raw: bool) -> bool:
    """Whether the light path can serve ``selector``: ``F > x`` and nothing more."""
    if raw or selector.children or len(selector.captures) != 1:
        return False
    capture, element = selector.captures[0], selector.element
    return (
        isinstance(capture.name, str)
        and capture.name.isidentifier()
        and capture.tags == frozenset({1})
        and capture.category is None
        and capture.value is ABSENT
        and element.category is None
        and isinstance(element.name, types.FunctionType)
        and _stack(element.name).tset.proceed is _proceed
    )
