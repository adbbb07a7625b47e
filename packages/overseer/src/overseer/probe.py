"""Probes: stream the values that local variables take inside functions.

``ov.probe(selector)`` takes a ptera selector and returns a giving stream of dicts, one per
assignment of the selected variable::

    ov.probe("//train_epoch > loss").give()  # re-give every loss into ov.given
    ov.probe("/mypkg.model/forward(x) > out")["out"].print()

The selector syntax is ptera's, all of it: ``f > x``, ``//f`` (a function of the script run
as ``__main__``), ``/pkg.mod/Class/method``, captures ``f(a, !b)``, renames ``x as y``,
nesting ``f > g > x``, ``#value``, ``#enter``/``#exit``/``#error``, ``#yield``/``#receive``,
``#loop_i``/``#endloop_i``, and wrapper probes ``f(!#enter, !!#exit)`` that give
``{"$wrap": {"step": "begin"|"end", ...}}``.

A :class:`ProbeSet` holds the probes of one run. The syntax is checked when the probe is
made, everything else when it is installed (at once if the set is active, else at
:meth:`ProbeSet.activate`). Each failure is one :class:`~overseer.errors.ProbeError` line
naming the selector, what is wrong and the fix, where ptera would stay silent or crash
inside the probed function: a selector that does not parse
(:class:`~overseer.errors.SelectorSyntaxError`, at its column), a module or function that
does not exist, a variable the function does not have, and what ptera cannot rewrite
(``async def``, ``match`` captures, variables assigned only in ``except``/``except*``
blocks, comprehension variables, generic ``def f[T]``, functions with no source, C
functions).

The common shape ``F > x`` (one plain variable, nothing else captured) takes a lighter path
than ptera's interpreter: the same code rewrite, but each assignment calls the stream
directly, roughly eight times cheaper. Everything else goes through ptera. Probes fire in
the context (thread) that activated the set, as ptera's do.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable, Mapping
from contextvars import Token
from dataclasses import dataclass, field
from typing import Any

from ptera.overlay import BaseOverlay, autotool
from ptera.selector import SelectorError

from ._probe_runtime import (
    _FAST_TABLES,
    _Direct,
    _is_direct,
    _quiet_ptera,
    _release,
    _stack,
    _without,
)
from ._probe_selector import _caller_names, _calls, _check, _resolve, check_syntax
from ._probe_stream import ErrorHandler, ProbeStream, _rule
from .errors import ProbeError

__all__ = ["ProbeSet", "ProbeStream", "check_syntax"]


@dataclass
class _Probe:
    """One probe of a set and, once installed, how to remove it."""

    text: str
    raw: bool
    names: Mapping[str, Any]
    stream: ProbeStream
    functions: list[types.FunctionType] = field(default_factory=list)
    undo: Callable[[], None] | None = None


# ---------------------------------------------------------------------------- the set


class ProbeSet:
    """The probes of one run: made with :meth:`probe`, live between :meth:`activate`
    and :meth:`close`.

    Args:
        on_error: called with the selector and the error when a subscriber of a probe
            raises (the subscriber is detached), or when a probe made before
            :meth:`activate` fails its checks there. Without it, these errors propagate:
            a subscriber's into the probed function, as with ptera.

    Example:
        >>> def f(n):
        ...     for i in range(n):
        ...         x = i * 2
        ...     return n
        >>> with ProbeSet() as probes:
        ...     xs = probes.probe("f > x")["x"].accum()
        ...     f(3)
        3
        >>> xs
        [0, 2, 4]
    """

    def __init__(self, *, on_error: ErrorHandler | None = None) -> None:
        self._on_error = on_error
        self._probes: list[_Probe] = []
        self._table: dict[Any, _Direct] = {}
        self._token: Token[tuple[dict[Any, _Direct], ...]] | None = None
        self._active = False
        self._closed = False

    @property
    def active(self) -> bool:
        """Whether probes fire now (between :meth:`activate` and :meth:`close`)."""
        return self._active

    def probe(
        self, selector: str, *, raw: bool = False, env: Mapping[str, Any] | None = None
    ) -> ProbeStream:
        """Probe the variables that ``selector`` names; return their stream.

        The syntax is checked at once. Names are resolved, and the functions and variables
        checked, when the probe is installed: at once if the set is active, else at
        :meth:`activate` (so ``//f`` finds ``f`` in the script that ``__main__`` is then).

        Args:
            selector: a ptera selector, e.g. ``"//train > loss"``.
            raw: give ptera ``Capture`` objects instead of values.
            env: where plain names (``f`` in ``f > x``) are looked up; by default the
                caller's locals, globals and builtins.

        Raises:
            SelectorSyntaxError: the selector does not parse.
            ProbeError: it names something that cannot be probed (set active), or the set
                is closed.

        Example:
            >>> probes = ProbeSet()
            >>> probes.probe("json.loads > s")["s"].print()  # doctest: +SKIP
        """
        if self._closed:
            message = f"probe {selector!r}: the probes of this run are closed; probe before"
            raise ProbeError(f"{message} the run ends")
        check_syntax(selector)
        names = env if env is not None else _caller_names()
        probe = _Probe(selector, raw, names, ProbeStream(selector, self._on_error))
        if self._active:
            self._install(probe)
        self._probes.append(probe)
        return probe.stream

    def activate(self) -> None:
        """Install every probe made so far; later ones install as they are made.

        Raises:
            ProbeError: a probe fails its checks and no ``on_error`` was given (the others
                are installed anyway).
        """
        if self._closed:
            raise ProbeError("this ProbeSet is closed: make a new one for a new run")
        if self._active:
            return
        self._active = True
        self._token = _FAST_TABLES.set((*_FAST_TABLES.get(), self._table))
        failures = []
        for probe in list(self._probes):
            try:
                self._install(probe)
            except ProbeError as error:
                self._probes.remove(probe)
                probe.stream.complete()
                if self._on_error is None:
                    failures.append(error)
                else:
                    self._on_error(probe.text, error)
        if failures:
            raise failures[0]

    def close(self) -> None:
        """Uninstall every probe (functions get their own code back) and end the streams."""
        if self._closed:
            return
        self._closed = True
        for probe in reversed(self._probes):
            if probe.undo is not None:
                probe.undo()
        if self._token is not None:
            with contextlib.suppress(ValueError):  # closed from another context
                _FAST_TABLES.reset(self._token)
        self._active = False
        for probe in self._probes:
            probe.stream.complete()

    def __enter__(self) -> ProbeSet:
        self.activate()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _install(self, probe: _Probe) -> None:
        with _quiet_ptera():
            selector = _resolve(probe.text, probe.names)
            _check(probe.text, selector)
            probe.functions = [call.element.name for call in _calls(selector)]
            try:
                for function in probe.functions:
                    _stack(function)
                if _is_direct(selector, probe.raw):
                    probe.undo = self._install_direct(selector, probe.stream)
                else:
                    probe.undo = self._install_ptera(probe, selector)
            finally:
                if probe.undo is None:
                    for function in probe.functions:
                        _release(function)

    def _install_direct(self, selector: Any, stream: ProbeStream) -> Callable[[], None]:
        function, capture = selector.element.name, selector.captures[0]
        emit = stream.emitter(capture.capture)
        self._table.setdefault(function, _Direct(function)).add(capture.name, emit)
        stack = _stack(function)
        stack.push((capture,))
        stream.direct = True

        def undo() -> None:
            direct = self._table[function]
            remaining = _without(direct.emitters[capture.name], emit)
            if remaining is None:
                del direct.emitters[capture.name]
            else:
                direct.emitters[capture.name] = remaining
            if not direct.emitters:
                del self._table[function]
            with _quiet_ptera():
                stack.pop((capture,))
            _release(function)

        return undo

    def _install_ptera(self, probe: _Probe, selector: Any) -> Callable[[], None]:
        overlay = BaseOverlay(_rule(selector, probe.stream, probe.raw))
        try:
            autotool(selector)
        except SelectorError as error:
            self._untool(probe, selector)
            raise ProbeError(f"probe {probe.text!r}: {error}") from None
        overlay.__enter__()
        probe.stream.direct = False

        def undo() -> None:
            with contextlib.suppress(ValueError):  # closed from another context
                overlay.__exit__(None, None, None)
            self._untool(probe, selector)

        return undo

    @staticmethod
    def _untool(probe: _Probe, selector: Any) -> None:
        with _quiet_ptera():
            autotool(selector, undo=True)
        for function in probe.functions:
            _release(function)


if __name__ == "__main__":

    def _demo(n: int) -> int:
        total = 0
        for i in range(n):
            total += i
        return total

    with ProbeSet() as _probes:
        _probes.probe("//_demo > total").print("total = {total}")
        _demo(4)
