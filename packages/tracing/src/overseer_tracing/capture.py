"""How a traced call is captured: its arguments bound by name, then begin/end on the recorder.

:func:`traced` wraps a callable with the check every call makes (is a recording active in
this context?) and, only when one is, the capture. The decorators
(:mod:`overseer_tracing.decorators`) and the shims (:mod:`overseer_tracing.shims`) both
build on it.

A plain Python function gets a wrapper compiled with the function's own parameters (as
:mod:`dataclasses` compiles ``__init__``): a call is bound by the interpreter itself, so the
off path packs no ``*args``/``**kwargs`` and the on path reads the arguments by name, defaults
included (see :mod:`._compiled_wrapper`). Any other callable (a bound method, a callable
object, a function that wraps another) gets a ``*args, **kwargs`` wrapper that binds through
its signature (see :mod:`._signature`). Either way the capture never raises: what cannot be
found is reported as a capture error.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._compiled_wrapper import TEMPLATE, Shape, factory
from ._signature import Reader, Selection, Signature
from .errors import TraceUsageError
from .record import _all_threads, _current

if TYPE_CHECKING:
    from .record import Recorder

__all__ = ["CallSpec", "ParamsToCapture", "is_traced", "normalise_params", "traced"]

#: Which arguments a call records: None (all but ``self``/``cls``), a parameter name or
#: position, a list of them, or ``{label: name or position}`` (hyrax's form).
ParamsToCapture = str | int | Sequence[str | int] | Mapping[str, str | int] | None


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
        self._signature: Signature | None = None
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

    def signature(self) -> Signature:
        """The parameters of :attr:`func`, read on first use."""
        if self._signature is None:
            self._signature = Signature(self.func)
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
    shape = Shape.of(func)
    if shape is None:  # any callable: its arguments bound through its signature
        arguments = "*__ov_args, **__ov_kwargs"
        pieces = {
            "parameters": arguments,
            "call": arguments,
            "direct": f"(__ov_func({arguments}) if __ov_kwargs else __ov_func(*__ov_args))",
            "begin": "__ov_begin(__ov_recorder, __ov_spec, __ov_args, __ov_kwargs, None)",
            "fail": "__ov_fail(__ov_recorder, __ov_spec, __ov_args, __ov_kwargs, None, __ov_error)",
        }
    else:  # a plain function: its own parameters, bound by the interpreter
        pieces = shape.pieces(spec.selection is None)
    is_async = inspect.iscoroutinefunction(func)
    source = TEMPLATE.format(run="async " * is_async, wait="await " * is_async, **pieces)
    defaults = (func.__defaults__ or (), func.__kwdefaults__ or {}) if shape else ((), {})
    wrapper = factory(source)(func, _current.get, _all_threads, _begin, _fail, spec, *defaults)
    functools.update_wrapper(wrapper, func)
    wrapper.__overseer_trace__ = spec
    return wrapper  # type: ignore[no-any-return]


def is_traced(func: object) -> bool:
    """Whether ``func`` (or the function of a method) already records its calls."""
    return hasattr(getattr(func, "__func__", func), "__overseer_trace__")


def _begin(
    recorder: Recorder,
    spec: CallSpec,
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None,
    bound: dict[str, Any] | None,
) -> int | None:
    """Begin a call given its arguments (``bound`` by name already, or not yet)."""
    params, problem = _arguments(spec, args, kwargs, bound)
    return recorder.begin(spec.stage, spec.name, spec.display_name, params, problem)


def _fail(
    recorder: Recorder,
    spec: CallSpec,
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None,
    bound: dict[str, Any] | None,
    error: BaseException,
) -> None:
    """Keep a call that raised, which :meth:`Recorder.begin` left out (its stage was full)."""
    params, _ = _arguments(spec, args, kwargs, bound)
    recorder.fail(spec.stage, spec.name, spec.display_name, params, error)


def _arguments(
    spec: CallSpec,
    args: tuple[Any, ...],
    kwargs: dict[str, Any] | None,
    bound: dict[str, Any] | None,
) -> tuple[dict[str, Any] | None, str | None]:
    """The arguments to record, from the call (``bound`` by name already, or not yet)."""
    try:
        if bound is None:
            return spec.capture(args, kwargs or {})
        if spec.selection is None:  # bound holds exactly the arguments to record
            return bound, None
        return spec.select(bound)
    except Exception as failure:  # a capture must never break the call it watches
        return None, f"arguments: {type(failure).__name__}: {failure}"
