"""The overseer's giving streams: ``ov.given`` and ``ov.log``.

Both are giving ``ObservableProxy`` objects, so every giving operator works on them::

    ov.given["?loss"].min().print("best loss: {}")
    ov.given.where("step").throttle(1.0) >> ov.log

Unlike a plain ``giving.given()``, a subscriber that raises never reaches the ``give()`` that
fed it: the overseer records an ``instrument_error`` and detaches every subscription of the
instrument that made it, and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from giving import SourceProxy

__all__ = ["Given", "LogStream"]

Owner = Callable[[], "str | None"]
OnError = Callable[["str | None", BaseException], None]


class Given(SourceProxy):  # type: ignore[misc]
    """The stream of every value given while the overseer runs.

    Args:
        owner: tells which instrument is running when a subscription is made.
        on_error: called with that instrument's name and the error a subscriber raised.
    """

    def __init__(
        self,
        owner: Owner | None = None,
        on_error: OnError | None = None,
        _obs: Any = None,
        _root: Any = None,
    ) -> None:
        if _root is not None:
            super().__init__(_obs=_obs, _root=_root)
            return
        import reactivex
        from reactivex.disposable import Disposable

        self._owners: list[tuple[Any, str | None]] = []
        self._owner = owner or (lambda: None)
        self._on_error = on_error

        def subscribe(observer: Any, scheduler: Any = None) -> Any:
            self._owners.append((observer, self._owner()))
            return Disposable(lambda: self._unsubscribe(observer))

        super().__init__(_obs=reactivex.create(subscribe), _root=None)
        self._root = self

    def _copy(self, new_obs: Any) -> Any:
        return SourceProxy(_obs=new_obs, _root=self._root)

    def push(self, values: dict[str, Any]) -> None:
        """Send ``values`` to every subscriber; detach the instrument of one that raises."""
        failures = None
        for observer, owner in self._owners:
            try:
                observer.on_next(values)
            except Exception as error:
                failures = [*(failures or ()), (observer, owner, error)]
        for failed, failed_owner, failure in failures or ():
            self._detach(failed, failed_owner, failure)

    def _unsubscribe(self, observer: Any) -> None:
        self._owners = [pair for pair in self._owners if pair[0] is not observer]

    def _detach(self, failed: Any, owner: str | None, error: BaseException) -> None:
        self._owners = [
            (observer, other)
            for observer, other in self._owners
            if observer is not failed and (owner is None or other != owner)
        ]
        if self._on_error is not None:
            self._on_error(owner, error)

    def _push(self, data: dict[str, Any]) -> None:
        self.push(data)

    def complete(self) -> None:
        """End the stream: reductions such as ``min()`` emit their result now."""
        for observer, owner in self._owners:
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
