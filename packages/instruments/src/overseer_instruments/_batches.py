"""What the rates read off the script's objects: the size of a batch, a loader's wait.

``batch_size`` finds how many items a batch holds; ``time_loader`` makes a data loader time
each ``next()`` of its iterators, for ``--loading-rate``, without the script changing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["batch_size", "time_loader"]

_clock = time.perf_counter


class _TimedIterator:
    """A loader's iterator whose ``next()`` calls are timed; all else is the iterator's."""

    __slots__ = ("_inner", "_on_batch")

    def __init__(self, inner: Iterator[Any], on_batch: Callable[[Any, float], None]) -> None:
        self._inner, self._on_batch = inner, on_batch

    def __iter__(self) -> _TimedIterator:
        return self

    def __next__(self) -> Any:
        start = _clock()
        item = next(self._inner)  # the end of an epoch is not a batch: not timed
        self._on_batch(item, _clock() - start)
        return item

    def __len__(self) -> int:
        return len(self._inner)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def time_loader(
    loader: Any, on_batch: Callable[[Any, float], None], timed: dict[type, type]
) -> str | None:
    """Make ``iter(loader)`` time each ``next()``; return why it cannot, if it cannot.

    Only this object changes: it becomes an instance of a subclass of its class whose
    ``__iter__`` wraps the original (``isinstance`` checks still hold).
    """
    cls = type(loader)
    if cls in timed.values():
        return None
    why = f"the given loader, a {cls.__name__}, cannot be timed"
    if not hasattr(cls, "__iter__"):
        return f"{why}: it is not iterable"
    try:
        if cls not in timed:
            timed[cls] = _timed_class(cls, on_batch)
        loader.__class__ = timed[cls]
    except TypeError:
        return f"{why} (a generator or a built-in type): give the loader object the loop uses"
    return None


def _timed_class(cls: type, on_batch: Callable[[Any, float], None]) -> type:
    original = cls.__iter__  # type: ignore[attr-defined]

    def __iter__(self: Any) -> _TimedIterator:
        return _TimedIterator(original(self), on_batch)

    # Empty __slots__ keep the instances' layout, which __class__ assignment requires.
    namespace = {"__iter__": __iter__, "__slots__": (), "__module__": cls.__module__}
    namespace["__qualname__"] = cls.__qualname__
    subclass: type = type(cls)(cls.__name__, (cls,), namespace)
    return subclass


def batch_size(batch: Any) -> int | None:
    """Items in a batch: ``shape[0]``, that of the first tensor of a pair or dict, ``len``."""
    if isinstance(batch, int) and not isinstance(batch, bool):
        return batch
    shape = getattr(batch, "shape", None)
    if shape is not None:
        try:
            return int(shape[0])
        except (IndexError, TypeError, ValueError):  # a 0-d tensor has no batch dimension
            return None
    parts = list(batch.values()) if isinstance(batch, dict) else batch
    if isinstance(parts, (list, tuple)) and parts and hasattr(parts[0], "shape"):
        return batch_size(parts[0])  # (inputs, targets), or {"input_ids": tensor, ...}
    try:
        return len(batch)
    except TypeError:
        return None
