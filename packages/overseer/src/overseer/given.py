"""The overseer's streams: ``ov.given`` and ``ov.log``, with giving's whole operator set.

Every giving operator works on them::

    ov.given["?loss"].min().print("best loss: {}")
    ov.given.where("step").throttle(1.0) >> ov.log

The operators instruments use most, ``where``, ``filter``, ``map``, ``subscribe`` and ``>>``,
run here without giving: an instrument made only of them does not pay for importing giving
and reactivex (about 80 ms). Any other operator, used anywhere in a chain, builds the chain
in giving, with exactly giving's behaviour.

Unlike a plain ``giving.given()``, a subscriber that raises never reaches the ``give()`` that
fed it: the overseer records an ``instrument_error`` and detaches every subscription of the
instrument that made it, and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from types import FunctionType
from typing import Any

__all__ = ["Given", "LogStream", "Stream", "Subscription"]

Owner = Callable[[], "str | None"]
OnError = Callable[["str | None", BaseException], None]
# A step of a chain returns the value to pass on, or _SKIP to drop it.
Step = Callable[[Any], Any]
_SKIP = object()


class Subscription:
    """What ``subscribe`` returns: ``dispose()`` ends the subscription, as in giving."""

    def __init__(self, dispose: Callable[[], None]) -> None:
        self.dispose = dispose

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.dispose()


class Stream:
    """A chain of operators over a :class:`Given`, run without giving while it can be.

    ``where``, ``filter``, ``map``, ``subscribe`` and ``>>`` are run here; any other
    attribute (``min``, ``throttle``, ``print``, ``["?loss"]`` ...) rebuilds the chain as a
    giving ``ObservableProxy`` and continues there.
    """

    def __init__(self, root: Given, steps: tuple[Step, ...] = (), calls: tuple[Any, ...] = ()):
        self._root = root
        self._steps = steps
        # The same chain as giving calls (name, args, kwargs), to rebuild it in giving.
        self._calls = calls

    def where(self, *keys: str, **conditions: Any) -> Stream:
        """Dicts holding ``keys`` (not those starting with ``!``), meeting ``conditions``."""
        return self._then(_where(keys, conditions), ("where", keys, conditions))

    def filter(self, predicate: Callable[[Any], Any]) -> Stream:
        """The values for which ``predicate`` is true."""
        return self._then(_filter(predicate), ("filter", (predicate,), {}))

    def map(self, function: Callable[[Any], Any]) -> Stream:
        """``function`` of each value."""
        return self._then(function, ("map", (function,), {}))

    def subscribe(self, *args: Any, **kwargs: Any) -> Any:
        """Call a function with each value; returns a :class:`Subscription`.

        With anything but one callable (an observer, ``on_completed=`` ...), giving
        subscribes it.
        """
        if len(args) != 1 or kwargs or not callable(args[0]) or _is_observer(args[0]):
            return self._giving().subscribe(*args, **kwargs)
        return self._root._attach(_Observer(self._steps, args[0]))

    def __rshift__(self, target: Any) -> Any:
        """``stream >> f`` subscribes ``f``; a list or set collects the values, as in giving."""
        if isinstance(target, list):
            target = target.append
        elif isinstance(target, set):
            target = target.add
        return self.subscribe(target)

    def __getitem__(self, key: Any) -> Any:
        return self._giving()[key]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._giving(), name)

    def _then(self, step: Step, call: Any) -> Stream:
        return Stream(self._root, (*self._steps, step), (*self._calls, call))

    def _giving(self) -> Any:
        proxy = self._root._proxy()
        for name, args, kwargs in self._calls:
            proxy = getattr(proxy, name)(*args, **kwargs)
        return proxy


class Given(Stream):
    """The stream of every value given while the overseer runs.

    Args:
        owner: tells which instrument is running when a subscription is made.
        on_error: called with that instrument's name and the error a subscriber raised.
    """

    def __init__(self, owner: Owner | None = None, on_error: OnError | None = None) -> None:
        super().__init__(self)
        # (its on_next, the observer, the instrument that subscribed it), one per subscription.
        self._owners: list[tuple[Callable[[Any], Any], Any, str | None]] = []
        self._owner = owner or (lambda: None)
        self._on_error = on_error
        self._giving_proxy: Any = None

    def push(self, values: dict[str, Any]) -> None:
        """Send ``values`` to every subscriber; detach the instrument of one that raises."""
        # Detaching replaces the list: this loop goes on over the one it started with.
        for on_next, observer, owner in self._owners:
            try:
                on_next(values)
            except Exception as error:
                self._detach(observer, owner, error)

    def _push(self, data: dict[str, Any]) -> None:
        self.push(data)

    def complete(self) -> None:
        """End the stream: reductions such as ``min()`` emit their result now."""
        for _, observer, owner in self._owners:
            try:
                observer.on_completed()
            except Exception as error:
                if self._on_error is not None:
                    self._on_error(owner, error)
        self._owners = []

    def __enter__(self) -> Given:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def _attach(self, observer: Any) -> Subscription:
        self._owners = [*self._owners, (observer.on_next, observer, self._owner())]
        return Subscription(lambda: self._unsubscribe(observer))

    def _unsubscribe(self, observer: Any) -> None:
        self._owners = [entry for entry in self._owners if entry[1] is not observer]

    def _detach(self, failed: Any, owner: str | None, error: BaseException) -> None:
        self._owners = [
            entry
            for entry in self._owners
            if entry[1] is not failed and (owner is None or entry[2] != owner)
        ]
        if self._on_error is not None:
            self._on_error(owner, error)

    def _proxy(self) -> Any:
        """This stream as a giving ``SourceProxy`` (giving is imported here, once)."""
        if self._giving_proxy is None:
            import reactivex
            from giving import SourceProxy
            from reactivex.disposable import Disposable

            def subscribe(observer: Any, scheduler: Any = None) -> Any:
                subscription = self._attach(observer)
                return Disposable(subscription.dispose)

            self._giving_proxy = SourceProxy(_obs=reactivex.create(subscribe), _root=None)
        return self._giving_proxy


class LogStream(Given):
    """``ov.log``: what is pushed here goes to the data stream, and to its subscribers.

    Call it with a dict, or pipe a stream into it: ``ov.given.where("loss") >> ov.log``.
    """

    def __init__(self, write: Callable[[dict[str, Any]], None], owner: Owner | None = None) -> None:
        super().__init__(owner=owner)
        self._write = write

    def __call__(self, values: dict[str, Any]) -> None:
        self._write(values)
        if self._owners:
            self.push(values)


class _Observer:
    """Runs a chain's steps on each value and calls the subscriber with what comes out."""

    def __init__(self, steps: tuple[Step, ...], on_next: Callable[[Any], Any]) -> None:
        self._steps = steps
        self._on_next = on_next
        if not steps:
            # A plain subscriber is called directly: no frame of ours between give and it.
            self.on_next = on_next  # type: ignore[method-assign,assignment]

    def on_next(self, value: Any) -> None:
        for step in self._steps:
            value = step(value)
            if value is _SKIP:
                return
        self._on_next(value)

    def on_completed(self) -> None:
        return None


def _is_observer(target: Any) -> bool:
    # A Stream (ov.log) is called with each value; asking it for `on_next` would build it
    # in giving for nothing.
    return not isinstance(target, Stream) and hasattr(target, "on_next")


def _where(keys: tuple[str, ...], conditions: dict[str, Any]) -> Step:
    # giving's `where`: a condition is a predicate when it is a plain function, else a value.
    tests = {
        key: condition if isinstance(condition, FunctionType) else _equals(condition)
        for key, condition in conditions.items()
    }
    excluded = tuple(key.lstrip("!") for key in keys if key.startswith("!"))
    required = (*(key for key in keys if not key.startswith("!")), *tests)

    def where(value: Any) -> Any:
        if not isinstance(value, dict):
            return _SKIP
        for key in required:
            if key not in value:
                return _SKIP
        for key in excluded:
            if key in value:
                return _SKIP
        for key, test in tests.items():
            if not test(value[key]):
                return _SKIP
        return value

    return where


def _equals(expected: Any) -> Callable[[Any], bool]:
    return lambda value: bool(expected == value)


def _filter(predicate: Callable[[Any], Any]) -> Step:
    return lambda value: value if predicate(value) else _SKIP
