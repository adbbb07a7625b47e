"""How a traced call is captured: its arguments bound by name, then begin/end on the recorder.

:func:`traced` wraps a callable with the check every call makes (is a recording active in
this context?) and, only when one is, the capture. The decorators
(:mod:`overseer_tracing.decorators`) and the shims (:mod:`overseer_tracing.shims`) both
build on it. Binding is done here rather than by ``inspect.Signature.bind``, several times
slower, and it never raises: what cannot be found is reported as a capture error.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import TraceUsageError
from .record import current_recorder

if TYPE_CHECKING:
    from .record import Recorder

__all__ = ["CallSpec", "ParamsToCapture", "is_traced", "normalise_params", "traced"]

#: Which arguments a call records: None (all but ``self``/``cls``), a parameter name or
#: position, a list of them, or ``{label: name or position}`` (hyrax's form).
ParamsToCapture = str | int | Sequence[str | int] | Mapping[str, str | int] | None

# Label (None: the parameter's own name) and reference (name or position) of each argument.
Selection = tuple[tuple[str | None, str | int], ...]


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class _Binder:
    """Maps a call's arguments to parameter names, faster than ``Signature.bind``."""

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
        receiver = self.positional[0] if self.positional[:1] in (["self"], ["cls"]) else None
        self.shown = [name for name in self.order if name != receiver]

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

    def everything(self, bound: dict[str, Any]) -> dict[str, Any]:
        if not self.known:
            return bound
        return {name: bound[name] for name in self.shown if name in bound}

    def lookup(self, ref: str | int, bound: dict[str, Any], args: tuple[Any, ...]) -> Any:
        name = ref
        if isinstance(ref, int):
            if 0 <= ref < len(self.positional):
                name = self.positional[ref]
            elif ref >= len(self.positional) and (self.varargs or not self.known):
                if ref < len(args):
                    return args[ref]
                raise LookupError(f"position {ref}: the call passed {len(args)} positionally")
            else:
                raise LookupError(f"position {ref}: not one of its {len(self.positional)}")
        if name in bound:
            return bound[name]
        if self.varkw is not None and name in bound[self.varkw]:
            return bound[self.varkw][name]
        known = ", ".join(self.order) if self.known else "unknown (no signature)"
        raise LookupError(f"{name!r}: not given, or not a parameter (parameters: {known})")

    def label(self, ref: str | int) -> str:
        if isinstance(ref, str):
            return ref
        if ref < len(self.positional):
            return self.positional[ref]
        return f"{self.varargs}[{ref - len(self.positional)}]" if self.varargs else f"arg{ref}"


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
        self._binder: _Binder | None = None  # built on the first traced call, not at import

    def capture(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[dict[str, Any], str | None]:
        """The arguments to record, and why some could not be (None when all were)."""
        if self._binder is None:
            self._binder = _Binder(self.func)
        binder = self._binder
        bound = binder.bind(args, kwargs)
        if self.selection is None:
            return binder.everything(bound), None
        params: dict[str, Any] = {}
        problems: list[str] = []
        for label, ref in self.selection:
            try:
                params[label or binder.label(ref)] = binder.lookup(ref, bound, args)
            except LookupError as problem:
                problems.append(str(problem))
        return params, ("; ".join(problems) or None)


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
    get = current_recorder
    if inspect.iscoroutinefunction(func):

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            recorder = get()
            if recorder is None:
                return await func(*args, **kwargs)
            token = _begin(recorder, spec, args, kwargs)
            try:
                result = await func(*args, **kwargs)
            except BaseException as error:
                _end(recorder, token, None, error)
                raise
            _end(recorder, token, result, None)
            return result

        wrapper: Callable[..., Any] = async_wrapper
    else:

        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            recorder = get()
            if recorder is None:  # the off path: keep it this short
                return func(*args, **kwargs) if kwargs else func(*args)
            token = _begin(recorder, spec, args, kwargs)
            try:
                result = func(*args, **kwargs)
            except BaseException as error:
                _end(recorder, token, None, error)
                raise
            _end(recorder, token, result, None)
            return result

        wrapper = sync_wrapper
    functools.update_wrapper(wrapper, func)
    wrapper.__overseer_trace__ = spec  # type: ignore[attr-defined]
    return wrapper


def is_traced(func: object) -> bool:
    """Whether ``func`` (or the function of a method) already records its calls."""
    return hasattr(getattr(func, "__func__", func), "__overseer_trace__")


def _begin(
    recorder: Recorder, spec: CallSpec, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> int | None:
    try:
        params, problem = spec.capture(args, kwargs)
    except Exception as failure:  # a capture must never break the call it watches
        params, problem = None, f"arguments: {type(failure).__name__}: {failure}"
    try:
        return recorder.begin(spec.stage, spec.name, spec.display_name, params, problem)
    except Exception:
        return None


def _end(
    recorder: Recorder, token: int | None, result: object, error: BaseException | None
) -> None:
    if token is not None:
        with contextlib.suppress(Exception):
            recorder.end(token, result, error)
