"""The wrapper of a plain function, compiled with the function's own parameters.

As :mod:`dataclasses` compiles ``__init__``, :class:`Shape` reads a function's parameters
from its code and fills :data:`TEMPLATE`: the interpreter binds the call itself, so the off
path packs no ``*args``/``**kwargs`` and the on path reads the arguments by name, defaults
included. :func:`factory` compiles one source once; wrappers of the same shape share it.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import linecache
import os
from collections.abc import Callable
from types import FunctionType
from typing import Any

# Names the compiled wrapper uses: a function whose parameters would hide them gets the
# generic wrapper.
_RESERVED = "__ov_"
_USED = frozenset({"BaseException", "Exception", "None"})
#: Where a function's signature may differ from its code's (wrapped, set, a partialmethod).
SIGNATURE_ATTRIBUTES = ("__wrapped__", "__signature__", "_partialmethod", "__partialmethod__")


# The recorder's ContextVar is read inline (__ov_get is its bound get), not through
# current_recorder(): a call less each time; __ov_all is the very list record.py changes in
# place. Begin and end are inline too, each guarded: a capture never raises into the call.
# A call begin() left out (its stage full, first_only) is still kept if it raises (__ov_fail).
TEMPLATE = """\
def __ov_factory(
    __ov_func, __ov_get, __ov_all, __ov_begin, __ov_fail, __ov_spec, __ov_pd, __ov_kd
):
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
            elif __ov_recorder.first_only:
                try:
                    {fail}
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


class Shape:
    """A plain function's parameters, read from its code: the compiled wrapper's own."""

    @classmethod
    def of(cls, func: Callable[..., Any]) -> Shape | None:
        """The shape of ``func``, or None where a wrapper with its parameters is not exact."""
        if type(func) is not FunctionType or any(hasattr(func, a) for a in SIGNATURE_ATTRIBUTES):
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
            "fail": f"__ov_fail(__ov_recorder, __ov_spec, (), None, {captured}, __ov_error)",
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
def factory(source: str) -> Callable[..., Any]:
    """The compiled factory of one wrapper shape (methods named alike share it)."""
    # Named inside this package, so that tools leaving the package's frames out of a
    # traceback leave this one out too; linecache shows its lines in the others.
    filename = os.path.join(os.path.dirname(__file__), f"<traced wrapper {next(_numbers)}>")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace["__ov_factory"]  # type: ignore[no-any-return]


_numbers = itertools.count()
