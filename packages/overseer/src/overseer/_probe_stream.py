"""The stream of one probe, and the ptera rule that feeds it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from giving import SourceProxy
from ptera.interpret import Immediate, Total
from ptera.utils import ABSENT

from .errors import ProbeError

ErrorHandler = Callable[[str, BaseException], None]


class ProbeStream(SourceProxy):  # type: ignore[misc]
    """The stream of one probe: a giving ``ObservableProxy`` of dicts.

    Every giving operator works on it (``["x"]``, ``.accum()``, ``.min()``, ``.give()``,
    ``.subscribe(fn)``). Reductions emit when the probe set closes.

    Attributes:
        selector: the selector, as written.
        direct: True when the light path serves it, False when ptera's interpreter does,
            None until it is installed.
    """

    def __init__(self, selector: str, on_error: ErrorHandler | None = None) -> None:
        super().__init__()
        self.selector = selector
        self.direct: bool | None = None
        self._on_error = on_error

    def _copy(self, new_obs: Any) -> Any:
        return SourceProxy(_obs=new_obs, _root=self)

    def _push(self, data: Any) -> None:
        failed: list[tuple[Any, Exception]] = []
        for observer in self._observers:
            try:
                observer.on_next(data)
            except Exception as error:
                if self._on_error is None:
                    raise
                failed.append((observer, error))
        for observer, failure in failed:
            self._observers.remove(observer)
            self._report(failure)

    def _report(self, error: Exception) -> None:
        if self._on_error is not None:
            self._on_error(self.selector, error)

    def fail(self, error: Exception) -> None:
        """Report ``error`` to the set's ``on_error``, or raise it where none was given."""
        if self._on_error is None:
            raise error
        self._on_error(self.selector, error)

    def emitter(self, key: str) -> Callable[[Any], None]:
        """A function that pushes ``{key: value}``."""
        push = self._push

        def emit(value: Any) -> None:
            push({key: value})

        return emit

    def complete(self) -> None:
        """End the stream: reductions (``min()``, ``count()`` ...) emit their result now."""
        observers, self._observers[:] = list(self._observers), []
        for observer in observers:
            try:
                observer.on_completed()
            except Exception as error:
                if self._on_error is None:
                    raise
                self._on_error(self.selector, error)


def _rule(selector: Any, stream: ProbeStream, raw: bool) -> Any:
    """The ptera accumulator that pushes the selector's captures to ``stream``."""

    def values(data: dict[str, Any]) -> dict[str, Any]:
        if raw:
            return data
        try:
            return {name: capture.value for name, capture in data.items()}
        except ValueError:  # a variable set several times in a selector with no focus
            name, capture = next((n, c) for n, c in data.items() if len(c.values) > 1)
        count, variable = len(capture.values), capture.names[0]
        fix = f"put ! before {variable} for one dict per value, or pass raw=True"
        message = f"probe {stream.selector!r}: {name!r} took {count} values in one call"
        raise ProbeError(f"{message}; {fix}")

    def plain(data: Any, acc: Any = None, element: Any = None) -> Any:
        try:
            stream._push(values(data))
        except ProbeError as error:
            stream.fail(error)
        return ABSENT

    def wrapped(data: Any, acc: Any, element: Any) -> Any:
        step = "begin" if element.focus else "end"
        try:
            given = values(data)
        except ProbeError as error:
            stream.fail(error)
            return ABSENT
        given["$wrap"] = {"id": id(acc), "name": acc.selector.main.capture, "step": step}
        stream._push(given)
        return ABSENT

    trigger = wrapped if set(selector.all_tags) == {1, 2} else plain
    if selector.focus:
        return Immediate(selector, trigger=trigger, pass_info=True)
    return Total(selector, close=trigger)
