"""A callable's parameters read through :func:`inspect.signature`: a call bound to names.

:class:`Signature` binds ``(args, kwargs)`` to parameter names as Python would (defaults,
``*args``, ``**kwargs``), and plans how each selected argument of ``params_to_capture`` is
read from a bound call. Used for the callables the compiled wrapper cannot take (bound
methods, callable objects, functions whose signature is not their code's).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

# Label (None: the parameter's own name) and reference (name or position) of each argument.
Selection = tuple[tuple[str | None, str | int], ...]
# Reads one selected argument from the bound arguments (and the positional ones).
Reader = Callable[[dict[str, Any], tuple[Any, ...]], Any]

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class Signature:
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
        """Every parameter's value in this call, defaults included, as Python binds it."""
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
        """The arguments a call records by default: all of them but ``self``/``cls``."""
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
