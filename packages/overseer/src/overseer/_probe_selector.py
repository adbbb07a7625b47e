"""Probe selectors: their syntax checked, their names resolved, what they select checked.

:func:`check_syntax` points at the column where a selector stops parsing; :func:`_resolve`
looks its names up as ptera does, and :func:`_check` refuses, in one
:class:`~overseer.errors.ProbeError` line, any function or variable that a probe could not
see (see :mod:`overseer._probe_analysis`).
"""

from __future__ import annotations

import builtins
import difflib
import importlib
import inspect
import os
import sys
import types
from collections import ChainMap
from collections.abc import Iterator, Mapping
from typing import Any

from ptera.selector import SelectorError, parse, select
from ptera.utils import ABSENT

from ._probe_analysis import _analyse
from .errors import ProbeError, SelectorSyntaxError

# ---------------------------------------------------------------------------- syntax


def check_syntax(selector: str) -> None:
    """Raise :class:`SelectorSyntaxError` at the column where ``selector`` stops parsing.

    Example:
        >>> check_syntax("train > loss")
        >>> check_syntax("train > ")
        Traceback (most recent call last):
        ...
        overseer.errors.SelectorSyntaxError: cannot parse probe selector 'train > ' at column 6: ...
    """
    try:
        parse(selector)
    except SyntaxError as error:
        start = len(selector) - len(selector.lstrip()) + max((error.offset or 1) - 1, 0)
        while start < len(selector) and selector[start].isspace():
            start += 1
        raise SelectorSyntaxError(selector, start, _syntax_reason(error.msg)) from None
    except Exception as error:  # ptera's parser asserts on an empty selector
        reason = str(error) or "the selector is empty: write FUNCTION > VARIABLE"
        raise SelectorSyntaxError(selector, 0, reason) from None


def _syntax_reason(message: str) -> str:
    """Say in words what ptera's parser message (``Unrecognized operator: X > _``) means."""
    if message.startswith("Invalid token:"):
        return f"unexpected character {message.split()[2]!r}"
    key = message.partition(": ")[2]
    for opener, closer in (("(", ")"), ("[", "]"), ("{", "}")):
        if opener in key and closer not in key:
            return f"{opener!r} is never closed"
        if closer in key and opener not in key:
            return f"{closer!r} closes nothing"
    if "[" in key or "{" in key:
        return "only ( ) brackets belong in a selector: write f(a, b) > x"
    if ">>" in key:
        return "'>>' is not selector syntax: write f > g > x"
    operator = key.replace("X", "").replace("_", "").strip()
    if key.endswith("_"):
        return f"{operator!r} must be followed by a name"
    if key.startswith("_"):
        return f"{operator!r} must follow a name"
    if "X  X" in key:
        return "two names in a row: join them with '>' or ','"
    return message


# ---------------------------------------------------------------------------- names


class _Scope:
    """Resolves the names in a selector, as ptera does, with errors that say what to fix.

    ``//f`` is looked up in the module run as ``__main__``, ``/pkg.mod/f`` in that module
    (imported if needed), a plain name in the scope that created the probe, ``@tag`` among
    ptera's tags.
    """

    def __init__(self, selector: str, names: Mapping[str, Any]) -> None:
        self.selector = selector
        self.names = names

    def __call__(self, symbol: str) -> Any:
        if symbol.startswith("@"):
            from ptera.tags import tag

            return getattr(tag, symbol[1:])
        found = self._locate(symbol) if symbol.startswith("/") else self._lookup(symbol)
        return getattr(found, "__ptera__", found)

    def _fail(self, reason: str) -> ProbeError:
        return ProbeError(f"probe {self.selector!r}: {reason}")

    def _locate(self, symbol: str) -> Any:
        _, module_name, *path = symbol.split("/")
        if not path or "" in path:
            raise self._fail(f"{symbol!r} names no function: write /MODULE/FUNCTION or //FUNCTION")
        if any("." in part for part in path):
            hint = "/".join([module_name, *path[0].split("."), *path[1:]])
            raise self._fail(f"only the module part of {symbol!r} has dots: write /{hint}")
        if module_name:
            where: Any = self._import(module_name, symbol)
            label = f"module {module_name!r}"
        else:
            where = sys.modules.get("__main__")
            file = getattr(where, "__file__", None) or "an interactive session"
            label = f"the script run as __main__ ({file})"
        for part in path:
            where, label = self._member(where, part, label, symbol), f"{label}.{part}"
        return where

    def _import(self, module_name: str, symbol: str) -> Any:
        try:
            return importlib.import_module(module_name)
        except ImportError as error:
            reason = f"cannot import module {module_name!r} named by {symbol!r} ({error})"
            fix = "check the module's dotted path (/package.module/function)"
            raise self._fail(f"{reason}: {fix}") from None
        except Exception as error:
            reason = f"importing {module_name!r} raised {type(error).__name__}: {error}"
            raise self._fail(f"{reason}; fix the module, then probe it") from None

    def _member(self, where: Any, name: str, label: str, symbol: str) -> Any:
        try:
            value = inspect.getattr_static(where, name)
        except AttributeError:
            value = getattr(where, name, ABSENT)  # module __getattr__, dynamic classes
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if value is not ABSENT:
            return value
        members = getattr(where, "__dict__", {})
        known = [
            key
            for key, item in members.items()
            if isinstance(key, str) and callable(item) and "_ptera" not in key
        ]
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise self._fail(f"{label} has no {name!r}{hint}: check the spelling in {symbol!r}")

    def _lookup(self, symbol: str) -> Any:
        start, *parts = symbol.split(".")
        if start not in self.names:
            fix = f"import it there, or name it by place: //{start} (script), /MODULE/{start}"
            raise self._fail(f"{start!r} is not defined where the probe was made: {fix}")
        value, label = self.names[start], repr(start)
        for part in parts:
            value, label = self._member(value, part, label, symbol), f"{label}.{part}"
        return value


def _caller_names() -> Mapping[str, Any]:
    """The names visible where the probe was asked for, outside the overseer's own frames."""
    frame = sys._getframe(2)
    package = os.path.dirname(__file__)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back  # ov.probe() and friends: the caller is further out
    local = frame.f_locals
    if local is not frame.f_globals:
        local = dict(local)
    return ChainMap(local, frame.f_globals, vars(builtins))


# ---------------------------------------------------------------------------- checks


def _calls(selector: Any) -> Iterator[Any]:
    """Every function call in a resolved selector, outermost first."""
    yield selector
    for child in selector.children:
        yield from _calls(child)


def _check(text: str, selector: Any) -> None:
    """Raise :class:`ProbeError` for anything in ``selector`` that would not work."""
    for call in _calls(selector):
        function = call.element.name
        analysis = _analyse(_check_function(text, function))
        if analysis.failure is not None:
            where = f"{analysis.name} ({function.__code__.co_filename})"
            raise ProbeError(f"probe {text!r}: cannot probe {where}: {analysis.failure}")
        for capture in call.captures:
            reason = None if capture.name is None else analysis.why_not(capture.name)
            if reason is not None:
                raise ProbeError(f"probe {text!r}: {reason}")
    tags = set(selector.all_tags)
    if tags and 1 not in tags:
        fix = "mark where it begins with ! too: f(!#enter, !!#exit)"
        raise ProbeError(f"probe {text!r}: a wrapper probe (!!) needs a ! focus: {fix}")
    if tags - {1, 2}:
        raise ProbeError(f"probe {text!r}: only ! and !! mark a focus, not !!! or more")


def _check_function(text: str, function: Any) -> types.FunctionType:
    if function is None:
        fix = "start with the function to probe: f > x, f(!x), f(!#enter, !!#exit)"
        raise ProbeError(f"probe {text!r} names no function: {fix}")
    if isinstance(function, types.FunctionType):
        stack = function.__dict__.get("__ptera_stack__")
        return function if stack is None else stack.tset.base_function
    name = getattr(function, "__qualname__", repr(function))
    if isinstance(function, type):
        reason = f"{name} is a class: probe one of its methods (/MODULE/{name}/__init__)"
    elif isinstance(function, (types.BuiltinFunctionType, types.MethodDescriptorType)):
        reason = f"{name} is a built-in written in C: only Python functions can be probed"
    else:
        reason = f"{name} is a {type(function).__name__}, not a Python function"
    raise ProbeError(f"probe {text!r}: {reason}")


def _resolve(text: str, names: Mapping[str, Any]) -> Any:
    """Resolve the selector's names to functions, or raise one :class:`ProbeError` line."""
    try:
        return select(text, env=_Scope(text, names))
    except ProbeError:
        raise
    except (SelectorError, TypeError, AttributeError, ValueError) as error:
        raise ProbeError(f"probe {text!r}: {error}") from None
