"""Decorators that record the calls of a pipeline's functions into the current trace.

While no recording is active (see :func:`overseer_tracing.record.recording`), a decorated
function costs nothing extra on Python 3.12+ (it is the function itself, recorded through
:mod:`sys.monitoring`, see :mod:`overseer_tracing.monitoring`) and one context-variable check
per call on 3.10 and 3.11 (a wrapper)::

    @trace_dataset_func(params_to_capture=["index"])
    def get_image(self, index):
        return self.images[index]


    @trace_func(stage_name="collate")
    def collate(samples):
        return torch.stack(samples)

Arguments are bound through the function's signature, so keyword calls and defaults are
captured like positional ones. Tracing never raises into the caller: arguments that cannot
be captured leave a call with status ``capture_error``, and an exception of the function is
recorded (status ``error``), then re-raised as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

from ._signature import Selection
from .capture import CallSpec, ParamsToCapture, normalise_params, traced
from .monitoring import watch

__all__ = ["ParamsToCapture", "trace_dataset_func", "trace_func", "trace_model_func"]

F = TypeVar("F", bound=Callable[..., Any])


def decorate(target: Any, stage: str, selection: Selection | None, result_name: str | None) -> Any:
    """Trace ``target``: a function, a method, a staticmethod or a classmethod object."""
    if isinstance(target, (staticmethod, classmethod)):
        return type(target)(decorate(target.__func__, stage, selection, result_name))
    name = getattr(target, "__qualname__", None) or repr(target)
    display_name = name.rsplit("<locals>.", 1)[-1]
    spec = CallSpec(target, stage, name, display_name, selection, result_name)
    # Python 3.12+: a copy of the function, recorded through sys.monitoring (free while off).
    copy = watch(target, spec)
    return traced(target, spec) if copy is None else copy


@overload
def trace_func(
    func: F,
    *,
    params_to_capture: ParamsToCapture = None,
    result_name: str | None = None,
    stage_name: str = "custom",
) -> F: ...
@overload
def trace_func(
    func: None = None,
    *,
    params_to_capture: ParamsToCapture = None,
    result_name: str | None = None,
    stage_name: str = "custom",
) -> Callable[[F], F]: ...
def trace_func(
    func: F | None = None,
    *,
    params_to_capture: ParamsToCapture = None,
    result_name: str | None = None,
    stage_name: str = "custom",
) -> F | Callable[[F], F]:
    """Record the calls of a function in the stage ``stage_name``, bare or with arguments.

    Works on functions, methods, staticmethods, classmethods and ``async def`` functions (the
    call is recorded across its awaits). A generator function's call is recorded when it
    creates the generator; the iteration that follows is not.

    Args:
        func: the function, when used bare (``@trace_func``).
        params_to_capture: the arguments to record: None for all of them but ``self`` and
            ``cls``; a name or position, or a list of them (positions count the parameters
            of the signature, ``self`` included); or hyrax's ``{label: name or position}``.
        result_name: what the result is called (accepted for hyrax compatibility).
        stage_name: the stage the calls go to.

    Returns:
        The traced function, or a decorator when ``func`` is not given.

    Raises:
        TypeError: ``params_to_capture`` holds something other than names and positions.

    Examples:
        >>> @trace_func(params_to_capture=["batch"], stage_name="collate")
        ... def collate(batch, scale=1.0):
        ...     return [x * scale for x in batch]
    """
    selection = normalise_params(params_to_capture)

    def decorator(target: F) -> F:
        return cast(F, decorate(target, stage_name, selection, result_name))

    return decorator if func is None else decorator(func)


@overload
def trace_dataset_func(
    func: F,
    *,
    params_to_capture: ParamsToCapture = None,
    result_name: str | None = None,
    stage_name: str = "dataset_getter",
) -> F: ...
@overload
def trace_dataset_func(
    func: None = None,
    *,
    params_to_capture: ParamsToCapture = None,
    result_name: str | None = None,
    stage_name: str = "dataset_getter",
) -> Callable[[F], F]: ...
def trace_dataset_func(
    func: F | None = None,
    *,
    params_to_capture: ParamsToCapture = None,
    result_name: str | None = None,
    stage_name: str = "dataset_getter",
) -> F | Callable[[F], F]:
    """:func:`trace_func` for a dataset's getters: stage ``dataset_getter`` by default.

    Examples:
        >>> class Stars:
        ...     @trace_dataset_func(params_to_capture=["index"])
        ...     def get_flux(self, index):
        ...         return index * 2.0
    """
    selection = normalise_params(params_to_capture)

    def decorator(target: F) -> F:
        return cast(F, decorate(target, stage_name, selection, result_name))

    return decorator if func is None else decorator(func)


@overload
def trace_model_func(
    func: F,
    *,
    params_to_capture: ParamsToCapture = None,
    result_name: str | None = None,
    stage_name: str = "evaluation",
) -> F: ...
@overload
def trace_model_func(
    func: None = None,
    *,
    params_to_capture: ParamsToCapture = None,
    result_name: str | None = None,
    stage_name: str = "evaluation",
) -> Callable[[F], F]: ...
def trace_model_func(
    func: F | None = None,
    *,
    params_to_capture: ParamsToCapture = None,
    result_name: str | None = None,
    stage_name: str = "evaluation",
) -> F | Callable[[F], F]:
    """:func:`trace_func` for a model's methods: stage ``evaluation`` by default.

    Examples:
        >>> class Model:
        ...     @trace_model_func
        ...     def forward(self, batch):
        ...         return batch
    """
    selection = normalise_params(params_to_capture)

    def decorator(target: F) -> F:
        return cast(F, decorate(target, stage_name, selection, result_name))

    return decorator if func is None else decorator(func)
