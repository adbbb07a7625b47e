"""How a traced call is captured: its arguments bound by name, then begin/end on the recorder.

:func:`traced` wraps a callable with the check every call makes (is a recording active in
this context?) and, only when one is, the capture. The decorators
(:mod:`overseer_tracing.decorators`) and the shims (:mod:`overseer_tracing.shims`) both
build on it.

A plain Python function gets a wrapper compiled with the function's own parameters (as
:mod:`dataclasses` compiles ``__init__``): a call is bound by the interpreter itself, so the
off path packs no ``*args``/``**kwargs`` and the on path reads the arguments by name, defaults
included. Any other callable (a bound method, a callable object, a function that wraps
another) gets a ``*args, **kwargs`` wrapper that binds through its signature. Either way the
capture never raises: what cannot be found is reported as a capture error.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import linecache
import os
from collections.abc import Callable, Mapping, Sequence
from types import FunctionType
from typing import TYPE_CHECKING, Any

from .errors import TraceUsageError
from .record import _all_threads, _current

if TYPE_CHECKING:
    from .record import Recorder

__all__ = ["CallSpec", "ParamsToCapture", "is_traced", "normalise_params", "traced"]

#: Which arguments a call records: None (all but ``self``/``cls``), a parameter name or
#: position, a list of them, or ``{label: name or position}`` (hyrax's form).
ParamsToCapture = str | int | Sequence[str | int] | Mapping[str, str | int] | None

# Label (None: the parameter's own name) and reference (name or position) of each argument.
Selection = tuple[tuple[str | None, str | int], ...]
# Reads one selected argument from the bound arguments (and the positional ones).
Reader = Callable[[dict[str, Any], tuple[Any, ...]], Any]

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
# Names the compiled wrapper uses: a function whose parameters would hide them gets the
# generic wrapper.
_RESERVED = "__ov_"
_USED = frozenset({"BaseException", "Exception", "None"})
# Where a function's signature may differ from its code's (wrapped, set, a partialmethod).
_SIGNATURE_ATTRIBUTES = ("__wrapped__", "__signature__", "_partialmethod", "__partialmethod__")


class _Signature:
    """A function's parameters, read once: binds a call to names, plans what to capture."""

    def __init__(self, func: Callable[..., Any]) -> None:
        try:
            parameters = list(inspect.signature(func).parameters.values())
            self.known = True
        except (TypeError, ValueError):  # builtins without a text signature
            parameters, self.known = [], False
        kinds = inspect.Parameter
        self.order = [p.name for p in parameters]
        self.positional = [p.name for p in parameters if p.kind in _POSITIONAL]
        self.keywords = {p.name for p in parameters if p.kind in _KEYWORD}
        self.varargs = next((p.name for p in parameters if p.kind is kinds.VAR_POSITIONAL), None)
        self.varkw = next((p.name for p in parameters if p.kind is kinds.VAR_KEYWORD), None)
        self.defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
        # A method's receiver is noise in a trace (and costly to summarise): left out by default.
        self.receiver = self.positional[0] if self.positional[:1] in (["self"], ["cls"]) else None
        self.shown = [name for name in self.order if name != self.receiver]
        # Only positional parameters, none defaulted: a positional call binds by zip alone.
        self.simple = self.known and self.order == self.positional and not self.defaults

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if not self.known:
            return {**{f"arg{i}": value for i, value in enumerate(args)}, **kwargs}
        bound = dict(self.defaults)  # the call's own arguments overwrite them
        bound.update(zip(self.positional, args))  # noqa: B905 (a short call binds fewer names)
        if self.varargs is not None:
            bound[self.varargs] = args[len(self.positional) :]
        if self.varkw is not None:
            bound[self.varkw] = {}
        for key, value in kwargs.items():
            if key in self.keywords:
                bound[key] = value
            elif self.varkw is not None:
                bound[self.varkw][key] = value
        return bound

    def everything(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.simple and not kwargs:
            return dict(zip(self.shown, args[self.receiver is not None :]))  # noqa: B905
        bound = self.bind(args, kwargs)
        if not self.known:
            return bound
        return {name: bound[name] for name in self.shown if name in bound}

    def plan(self, selection: Selection) -> list[tuple[str, Reader]]:
        """Each selected argument's label and reader, worked out once per function."""
        return [(label or self._label(ref), self._reader(ref)) for label, ref in selection]

    def _label(self, ref: str | int) -> str:
        if isinstance(ref, str):
            return ref
        if 0 <= ref < len(self.positional):
            return self.positional[ref]
        return f"{self.varargs}[{ref - len(self.positional)}]" if self.varargs else f"arg{ref}"

    def _reader(self, ref: str | int) -> Reader:
        count = len(self.positional)
        if isinstance(ref, str):
            return _by_name(ref, self.varkw, ", ".join(self.order), self.known)
        if 0 <= ref < count:
            return _by_name(self.positional[ref], self.varkw, ", ".join(self.order), True)
        if ref >= count and self.varargs is not None:
            return _by_extra_position(ref, count, self.varargs)
        if ref >= count and not self.known:
            return _by_call_position(ref)
        return _never(f"position {ref}: not one of its {count}")


def _by_name(name: str, varkw: str | None, order: str, known: bool) -> Reader:
    def read(bound: dict[str, Any], args: tuple[Any, ...]) -> Any:
        if name in bound:
            return bound[name]
        if varkw is not None and name in bound[varkw]:
            return bound[varkw][name]
        parameters = order if known else "unknown (no signature)"
        raise LookupError(f"{name!r}: not given, or not a parameter (parameters: {parameters})")

    return read


def _by_extra_position(ref: int, count: int, varargs: str) -> Reader:
    def read(bound: dict[str, Any], args: tuple[Any, ...]) -> Any:
        extra = bound[varargs]
        if ref - count < len(extra):
            return extra[ref - count]
        raise LookupError(f"position {ref}: not filled by the call ({count + len(extra)} were)")

    return read


def _by_call_position(ref: int) -> Reader:
    def read(bound: dict[str, Any], args: tuple[Any, ...]) -> Any:
        if ref < len(args):
            return args[ref]
        raise LookupError(f"position {ref}: the call passed {len(args)} positionally")

    return read


def _never(problem: str) -> Reader:
    def read(bound: dict[str, Any], args: tuple[Any, ...]) -> Any:
        raise LookupError(problem)

    return read


class CallSpec:
    """What a traced callable records: its stage, names and which arguments.

    Args:
        func: the callable whose signature binds the arguments.
        stage: the stage its calls go to.
        name: the function's qualified name.
        display_name: the name a trace prints.
        selection: the arguments to capture, from :func:`normalise_params`.
        result_name: what the result is called (kept for hyrax compatibility).
    """

    def __init__(
        self,
        func: Callable[..., Any],
        stage: str,
        name: str,
        display_name: str,
        selection: Selection | None,
        result_name: str | None = None,
    ) -> None:
        self.func, self.stage, self.name, self.display_name = func, stage, name, display_name
        self.selection, self.result_name = selection, result_name
        # Built on the first traced call, not at import: inspect.signature is slow.
        self._signature: _Signature | None = None
        self._plan: list[tuple[str, Reader]] | None = None

    def capture(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        """The arguments to record, and why some could not be (None when all were)."""
        if self.selection is None:
            return self.signature().everything(args, kwargs), None
        return self.select(self.signature().bind(args, kwargs), args)

    def select(
        self, bound: dict[str, Any], args: tuple[Any, ...] = ()
    ) -> tuple[dict[str, Any], str | None]:
        """The selected arguments of a call already bound to parameter names."""
        if self._plan is None:
            self._plan = self.signature().plan(self.selection or ())
        params: dict[str, Any] = {}
        problems: list[str] = []
        for label, read in self._plan:
            try:
                params[label] = read(bound, args)
            except LookupError as problem:
                problems.append(str(problem))
        return params, ("; ".join(problems) or None)

    def signature(self) -> _Signature:
        """The parameters of :attr:`func`, read on first use."""
        if self._signature is None:
            self._signature = _Signature(self.func)
        return self._signature


def normalise_params(params_to_capture: ParamsToCapture) -> Selection | None:
    """Check ``params_to_capture`` once, at decoration time.

    Raises:
        TypeError: it is not a name, a position, a list of them or a mapping to them.
    """
    if params_to_capture is None:
        return None
    if isinstance(params_to_capture, Mapping):
        pairs: list[tuple[str | None, str | int]] = [
            (str(label), ref) for label, ref in params_to_capture.items()
        ]
    elif isinstance(params_to_capture, (str, int)):
        pairs = [(None, params_to_capture)]
    else:
        pairs = [(None, ref) for ref in params_to_capture]
    for _, ref in pairs:
        if isinstance(ref, bool) or not isinstance(ref, (str, int)):
            message = f"params_to_capture: {ref!r} is not a parameter name (str) or position (int)"
            raise TraceUsageError(message)
    return tuple(pairs)


def traced(func: Callable[..., Any], spec: CallSpec) -> Callable[..., Any]:
    """Wrap ``func`` so that its calls are recorded while a recording is active."""
    shape = _Shape.of(func)
    if shape is None:  # any callable: its arguments bound through its signature
        arguments = "*__ov_args, **__ov_kwargs"
        pieces = {
            "parameters": arguments,
            "call": arguments,
            "direct": f"(__ov_func({arguments}) if __ov_kwargs else __ov_func(*__ov_args))",
            "begin": "__ov_begin(__ov_recorder, __ov_spec, __ov_args, __ov_kwargs, None)",
        }
    else:  # a plain function: its own parameters, bound by the interpreter
        pieces = shape.pieces(spec.selection is None)
    is_async = inspect.iscoroutinefunction(func)
    source = _TEMPLATE.format(run="async " * is_async, wait="await " * is_async, **pieces)
    defaults = (func.__defaults__ or (), func.__kwdefaults__ or {}) if shape else ((), {})
    wrapper = _factory(source)(func, _current.get, _all_threads, _begin, spec, *defaults)
    functools.update_wrapper(wrapper, func)
    wrapper.__overseer_trace__ = spec
    return wrapper  # type: ignore[no-any-return]


def is_traced(func: object) -> bool:
    """Whether ``func`` (or the function of a method) already records its calls."""
    return hasattr(getattr(func, "__func__", func), "__overseer_trace__")


# The recorder's ContextVar is read inline (__ov_get is its bound get), not through
# current_recorder(): a call less each time; __ov_all is the very list record.py changes in
# place. Begin and end are inline too, each guarded: a capture never raises into the call.
_TEMPLATE = """\
def __ov_factory(__ov_func, __ov_get, __ov_all, __ov_begin, __ov_spec, __ov_pd, __ov_kd):
    {run}def wrapper({parameters}):
        __ov_recorder = __ov_get()
        if __ov_recorder is None:
            if not __ov_all:
                return {wait}{direct}
            try:
                __ov_recorder = __ov_all[-1]
            except IndexError:  # the last all-threads recording ended since the check
                return {wait}{direct}
        try:
            __ov_token = {begin}
        except Exception:
            __ov_token = None
        try:
            __ov_result = {wait}__ov_func({call})
        except BaseException as __ov_error:
            if __ov_token is not None:
                try:
                    __ov_recorder.end(__ov_token, None, __ov_error)
                except Exception:
                    pass
            raise
        if __ov_token is not None:
            try:
                __ov_recorder.end(__ov_token, __ov_result, None)
            except Exception:
                pass
        return __ov_result
    return wrapper
"""


class _Shape:
    """A plain function's parameters, read from its code: the compiled wrapper's own."""

    @classmethod
    def of(cls, func: Callable[..., Any]) -> _Shape | None:
        """The shape of ``func``, or None where a wrapper with its parameters is not exact."""
        if type(func) is not FunctionType or any(hasattr(func, a) for a in _SIGNATURE_ATTRIBUTES):
            return None  # its signature is not its code's: bound through the signature instead
        shape = cls(func)
        hidden = any(name.startswith(_RESERVED) or name in _USED for name in shape.names)
        return None if hidden else shape

    def __init__(self, func: FunctionType) -> None:
        code, names = func.__code__, func.__code__.co_varnames
        count, keyword_count = code.co_argcount, code.co_kwonlyargcount
        self.positional = list(names[:count])
        self.positional_only = code.co_posonlyargcount
        self.keyword_only = list(names[count : count + keyword_count])
        rest = iter(names[count + keyword_count :])
        self.varargs = next(rest) if code.co_flags & inspect.CO_VARARGS else None
        self.varkw = next(rest) if code.co_flags & inspect.CO_VARKEYWORDS else None
        self.first_default = count - len(func.__defaults__ or ())
        self.keyword_defaults = set(func.__kwdefaults__ or ())
        # In inspect.signature's order, the order a trace shows them in.
        varargs, varkw = _listed(self.varargs), _listed(self.varkw)
        self.names = [*self.positional, *varargs, *self.keyword_only, *varkw]

    def pieces(self, everything: bool) -> dict[str, str]:
        """The template's blanks: the call's arguments go to the recorder by name, all but
        the receiver (``everything``), else all of them, for the selection to pick from."""
        call = ", ".join(self.call())
        shown, begin = self.names, "__ov_begin(__ov_recorder, __ov_spec, (), None, {})"
        if everything:
            receiver = self.positional[0] if self.positional[:1] in (["self"], ["cls"]) else None
            shown = [name for name in self.names if name != receiver]
            begin = (
                "__ov_recorder.begin(__ov_spec.stage, __ov_spec.name, __ov_spec.display_name, {})"
            )
        captured = "{" + ", ".join(f"{name!r}: {name}" for name in shown) + "}"
        parameters = ", ".join(self.parameters())
        return {
            "parameters": parameters,
            "call": call,
            "direct": f"__ov_func({call})",
            "begin": begin.format(captured),
        }

    def parameters(self) -> list[str]:
        """The ``def`` line's, defaults read from the factory's ``__ov_pd``/``__ov_kd``."""
        first = self.first_default
        listed = [
            name if index < first else f"{name}=__ov_pd[{index - first}]"
            for index, name in enumerate(self.positional)
        ]
        if self.positional_only:
            listed.insert(self.positional_only, "/")
        if self.varargs is not None or self.keyword_only:
            listed.append(f"*{self.varargs or ''}")
        listed += [
            f"{name}=__ov_kd[{name!r}]" if name in self.keyword_defaults else name
            for name in self.keyword_only
        ]
        return listed + _listed(self.varkw, "**")

    def call(self) -> list[str]:
        """The arguments the wrapper passes on: each parameter as it was declared."""
        keywords = [f"{name}={name}" for name in self.keyword_only]
        varargs, varkw = _listed(self.varargs, "*"), _listed(self.varkw, "**")
        return [*self.positional, *varargs, *keywords, *varkw]


def _listed(name: str | None, prefix: str = "") -> list[str]:
    return [] if name is None else [prefix + name]


@functools.lru_cache(maxsize=256)
def _factory(source: str) -> Callable[..., Any]:
    """The compiled factory of one wrapper shape (methods named alike share it)."""
    # Named inside this package, so that tools leaving the package's frames out of a
    # traceback leave this one out too; linecache shows its lines in the others.
    filename = os.path.join(os.path.dirname(__file__), f"<traced wrapper {next(_numbers)}>")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace["__ov_factory"]  # type: ignore[no-any-return]


_numbers = itertools.count()


def _begin(
    recorder: Recorder,
    spec: CallSpec,
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None,
    bound: dict[str, Any] | None,
) -> int | None:
    """Begin a call given its arguments (``bound`` by name already, or not yet)."""
    try:
        if bound is None:
            params, problem = spec.capture(args, kwargs or {})
        else:
            params, problem = spec.select(bound)
    except Exception as failure:  # a capture must never break the call it watches
        params, problem = None, f"arguments: {type(failure).__name__}: {failure}"
    return recorder.begin(spec.stage, spec.name, spec.display_name, params, problem)
