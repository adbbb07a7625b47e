"""Shims: tracing put on existing classes and objects for the time of a trace, then taken off.

:func:`shim_class` traces a method for every instance of a class, :func:`shim_instance` for
one object. Each returns a :class:`Shim` whose :meth:`Shim.remove` leaves ``vars(cls)`` or
``vars(obj)`` exactly as before: an inherited method is deleted again from the subclass,
never left behind as ``None``. Shims of the same method stack; removing them in any order
restores the original. Inside a :class:`~overseer_tracing.context.TraceContext`, a shim is
removed when that context exits, however it exits::

    with TraceContext(shims=[(Model, "forward", "evaluation")]) as context:
        shim_instance(loader, "collate_fn", "collate")  # removed on exit too
        run()
    print(context.result)
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from contextvars import ContextVar, Token
from types import MethodType
from typing import Any, Final, cast

from .capture import CallSpec, ParamsToCapture, is_traced, normalise_params, traced
from .errors import TraceUsageError

__all__ = ["Shim", "shim_class", "shim_instance"]

_MISSING: Final = object()
_ORIGINAL: Final = "__overseer_original__"  # on a shim's function: what it replaced

_lock = threading.RLock()
# The shim lists of the trace contexts open in this context, innermost last.
_collectors: ContextVar[tuple[list[Shim], ...]] = ContextVar("overseer_shims", default=())


class _Slot:
    """One attribute of one class or object, with the shims stacked on it (innermost last)."""

    __slots__ = ("name", "on_class", "original", "shims", "target")

    def __init__(self, target: Any, name: str, on_class: bool) -> None:
        self.target, self.name, self.on_class = target, name, on_class
        self.original = vars(target).get(name, _MISSING)  # its own entry, before any shim
        self.shims: list[Shim] = []

    def current(self) -> object:
        return vars(self.target).get(self.name, _MISSING)

    def put(self, value: object) -> None:
        # type.__setattr__ skips a metaclass's hook; an instance's __dict__ skips its
        # __setattr__ (nn.Module's, say), so no side effect runs but the replacement itself.
        if self.on_class and value is _MISSING:
            type.__delattr__(self.target, self.name)
        elif self.on_class:
            type.__setattr__(self.target, self.name, value)
        elif value is _MISSING:
            del vars(self.target)[self.name]
        else:
            vars(self.target)[self.name] = value


_slots: dict[tuple[int, str], _Slot] = {}  # keyed by id(target): the slot keeps it alive


class Shim:
    """A method traced in place until :meth:`remove` (also a context manager).

    Attributes:
        target: the class or the object shimmed.
        name: the method's name.
        stage: the stage its calls go to.
        replacement: what stands in the class's or object's namespace meanwhile.
    """

    def __init__(self, slot: _Slot, replacement: object, stage: str) -> None:
        self._slot = slot
        self.target, self.name, self.stage = slot.target, slot.name, stage
        self.replacement = replacement

    @property
    def active(self) -> bool:
        """Whether the shim is still installed (stacked shims count as installed)."""
        return self in self._slot.shims

    def remove(self) -> None:
        """Take this shim off; the last one off restores the original. Idempotent."""
        slot = self._slot
        with _lock:
            if self not in slot.shims:
                return
            top = slot.shims[-1] is self
            slot.shims.remove(self)
            # Someone assigned the attribute meanwhile: their value stays.
            if top and slot.current() is self.replacement:
                slot.put(slot.shims[-1].replacement if slot.shims else slot.original)
            if not slot.shims:
                _slots.pop((id(slot.target), slot.name), None)

    def __enter__(self) -> Shim:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        state = "active" if self.active else "removed"
        return f"<Shim {_describe(self.target)}.{self.name} stage={self.stage!r} {state}>"


def shim_class(
    cls: type,
    method_name: str,
    stage: str,
    *,
    params_to_capture: ParamsToCapture = None,
    display_name: str | None = None,
) -> Shim:
    """Trace ``cls.method_name`` for all instances: a plain, inherited, static or class method.

    Args:
        cls: the class; an inherited method is shimmed on it, not on the base.
        method_name: the attribute to trace.
        stage: the stage its calls go to.
        params_to_capture: as for :func:`trace_func` (positions count ``self``).
        display_name: the name a trace prints (default ``"Class.method"``).

    Returns:
        The shim: removed by the innermost :class:`~overseer_tracing.context.TraceContext`
        open in this context when it exits, else by :meth:`Shim.remove`.

    Raises:
        AttributeError: the class has no such attribute.
        TypeError: the attribute is a property or other data descriptor, or not callable.

    Examples:
        >>> class Model:
        ...     def forward(self, x):
        ...         return x
        >>> with shim_class(Model, "forward", "evaluation"):
        ...     Model().forward(1)
        1
    """
    if not isinstance(cast(object, cls), type):  # an object passed by an untyped caller
        message = f"shim_class takes a class, not {_describe(cls)}: use shim_instance for objects"
        raise TraceUsageError(message)
    raw = _original(_static_lookup(cls, method_name))
    _refuse_data_descriptor(cls, method_name, raw)
    spec = _spec(raw, stage, f"{cls.__name__}.{method_name}", display_name, params_to_capture)
    return _install(cls, method_name, True, _class_replacement(raw, spec), stage)


def shim_instance(
    obj: object,
    method_name: str,
    stage: str,
    *,
    params_to_capture: ParamsToCapture = None,
    display_name: str | None = None,
) -> Shim:
    """Trace ``obj.method_name`` for this object only: a method, or a callable attribute.

    Args:
        obj: the object; it needs a ``__dict__`` (for a slotted class, use :func:`shim_class`).
        method_name: the attribute to trace.
        stage: the stage its calls go to.
        params_to_capture: as for :func:`trace_func` (positions start after ``self``).
        display_name: the name a trace prints (default ``"Class.method"``).

    Returns:
        The shim, removed as :func:`shim_class`'s.

    Raises:
        AttributeError: the object has no such attribute.
        TypeError: the object has no ``__dict__``, or the attribute is a property or other
            data descriptor, or not callable.
    """
    if not hasattr(obj, "__dict__"):
        message = (
            f"{_describe(obj)} has no __dict__ (its class uses __slots__): trace the class "
            f"instead, with shim_class({type(obj).__name__}, {method_name!r}, ...)"
        )
        raise TraceUsageError(message)
    bound = _bound_original(obj, method_name)
    display = f"{type(obj).__name__}.{method_name}"
    spec = _spec(bound, stage, display, display_name, params_to_capture)
    replacement = bound if is_traced(bound) else _marked(traced(bound, spec), bound)
    return _install(obj, method_name, False, replacement, stage)


def replace_method(
    cls: type,
    method_name: str,
    make: Callable[[Any], Callable[..., Any]],
    stage: str = "",
    *,
    collect: bool = True,
) -> Shim:
    """Put ``make(original)`` in place of ``cls.method_name``, removed as a shim is.

    For changes other than tracing (how a DataLoader iterates during a trace, say). With
    ``collect=False``, the innermost trace open here does not take it: the caller removes it.
    """
    raw = _original(_static_lookup(cls, method_name))
    return _install(cls, method_name, True, _marked(make(raw), raw), stage, collect)


def _install(
    target: Any, name: str, on_class: bool, replacement: object, stage: str, collect: bool = True
) -> Shim:
    with _lock:
        slot = _slots.get((id(target), name)) or _Slot(target, name, on_class)
        slot.put(replacement)
        shim = Shim(slot, replacement, stage)
        slot.shims.append(shim)
        _slots[(id(target), name)] = slot
    if collect:
        _register(shim)
    return shim


def collect_shims(shims: list[Shim]) -> Token[tuple[list[Shim], ...]]:
    """Until :func:`stop_collecting`, shims installed in this context are appended to ``shims``.

    How a :class:`TraceContext` learns the shims to remove when it exits.
    """
    return _collectors.set((*_collectors.get(), shims))


def stop_collecting(token: Token[tuple[list[Shim], ...]], shims: list[Shim]) -> None:
    """End :func:`collect_shims` (from another context too, as an asyncio callback may)."""
    try:
        _collectors.reset(token)
    except ValueError:
        _collectors.set(tuple(c for c in _collectors.get() if c is not shims))


def _register(shim: Shim) -> None:
    collectors = _collectors.get()
    if collectors:
        collectors[-1].append(shim)


def _spec(
    func: Any, stage: str, default: str, display: str | None, params: ParamsToCapture
) -> CallSpec:
    # What the wrapper calls: its signature binds the arguments (a bound method's has no self).
    function = func.__func__ if isinstance(func, (staticmethod, classmethod)) else func
    name = getattr(function, "__qualname__", None) or default
    return CallSpec(function, stage, name, display or default, normalise_params(params))


def _class_replacement(raw: Any, spec: CallSpec) -> object:
    if isinstance(raw, (staticmethod, classmethod)):
        if is_traced(raw.__func__):  # already decorated: recorded once, by its decorator
            return raw
        return type(raw)(_marked(traced(raw.__func__, spec), raw))
    if not callable(raw):
        raise TraceUsageError(f"{spec.display_name} is a {type(raw).__name__}, not a method")
    if is_traced(raw):
        return raw
    wrapper = _marked(traced(raw, spec), raw)
    # A callable object that does not bind (no __get__) must stay unbound on the class.
    return wrapper if hasattr(raw, "__get__") else staticmethod(wrapper)


def _bound_original(obj: object, name: str) -> Any:
    own = vars(obj).get(name, _MISSING)
    raw = _static_lookup(type(obj), name, own is not _MISSING)
    _refuse_data_descriptor(type(obj), name, raw)
    if own is not _MISSING:
        bound = _original(own)
    else:
        original = _original(raw)
        bound = original.__get__(obj, type(obj)) if hasattr(original, "__get__") else original
    if not callable(bound):
        raise TraceUsageError(f"{_describe(obj)}.{name} is a {type(bound).__name__}, not a method")
    return bound


def _static_lookup(cls: type, name: str, optional: bool = False) -> Any:
    try:
        return inspect.getattr_static(cls, name)
    except AttributeError:
        if optional:
            return _MISSING
        raise AttributeError(f"{cls.__name__} has no attribute {name!r} to trace") from None


def _refuse_data_descriptor(cls: type, name: str, raw: object) -> None:
    if raw is not _MISSING and hasattr(type(raw), "__set__"):
        message = (
            f"{cls.__name__}.{name} is a {type(raw).__name__}, not a method: "
            "trace the function it calls instead"
        )
        raise TraceUsageError(message)


def _marked(wrapper: Callable[..., Any], original: object) -> Callable[..., Any]:
    setattr(wrapper, _ORIGINAL, original)
    return wrapper


def _original(raw: Any) -> Any:
    """What a shim replaced (a later shim wraps that, so nothing records twice)."""
    if isinstance(raw, MethodType):
        original = getattr(raw.__func__, _ORIGINAL, None)
        if original is None or not hasattr(original, "__get__"):
            return raw
        owner = raw.__self__
        klass = owner if isinstance(owner, type) else type(owner)
        return original.__get__(None if isinstance(original, classmethod) else owner, klass)
    function = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
    return getattr(function, _ORIGINAL, raw)


def _describe(target: object) -> str:
    if isinstance(target, type):
        return target.__name__
    return f"{type(target).__name__} object"
