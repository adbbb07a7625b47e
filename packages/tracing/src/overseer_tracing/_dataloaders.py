"""torch's ``DataLoader.__iter__`` replaced for a trace: at once, or when torch arrives.

A trace (see :mod:`overseer_tracing.context`) changes how DataLoaders iterate while it is
open. :func:`guard` puts its replacement in place when ``torch.utils.data`` is already
imported; otherwise the trace waits, and a :class:`PostImportHook` in ``sys.meta_path``
puts one in for every waiting trace right after the import, wherever it happens. The hook
is in ``sys.meta_path`` only while some trace waits: :func:`stop_waiting`, called when a
trace exits, takes it out after the last one. torch is never imported here.
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, Protocol

from ._import_hook import PostImportHook
from .shims import Shim, replace_method

__all__ = ["MODULE", "guard", "stop_waiting"]

#: The module whose ``DataLoader`` is guarded.
MODULE = "torch.utils.data"

#: Makes the replacement of ``__iter__`` from the original one.
MakeIter = Callable[[Callable[[Any], Any]], Callable[[Any], Any]]


class Trace(Protocol):
    """What a waiting trace offers: the list of shims it removes when it exits."""

    shims: list[Shim]


def guard(trace: Trace, make_iter: MakeIter) -> None:
    """Replace ``DataLoader.__iter__`` with ``make_iter(original)`` for ``trace``: now,
    removed by the trace open in this context, or right after torch.utils.data is imported,
    removed by ``trace`` itself."""
    data = sys.modules.get(MODULE)  # never import torch for a program without it
    if data is None:
        with _lock:
            _waiting.append((trace, make_iter))
            _hook.install()
        return
    loader_class = getattr(data, "DataLoader", None)
    if isinstance(loader_class, type):
        replace_method(loader_class, "__iter__", make_iter)


def stop_waiting(trace: Trace) -> None:
    """``trace`` exits: it no longer waits; the hook goes when no trace does."""
    with _lock:
        _waiting[:] = [entry for entry in _waiting if entry[0] is not trace]
        if not _waiting:
            _hook.remove()


def _imported(data: ModuleType) -> None:
    """Each waiting trace gets its own replacement (outermost first, so that they stack as
    the traces do), as if it had found the module when it started."""
    with _lock:
        waiting, _waiting[:] = list(_waiting), []
        _hook.remove()
    loader_class = getattr(data, "DataLoader", None)
    if not isinstance(loader_class, type):
        return
    try:
        for trace, make_iter in waiting:
            trace.shims.append(replace_method(loader_class, "__iter__", make_iter, collect=False))
    except Exception as error:  # the import itself succeeded: it must not fail for this
        message = f"DataLoaders imported inside a trace are not guarded: {error}"
        warnings.warn(message, RuntimeWarning, stacklevel=2)


# The traces open while torch.utils.data was not imported, in the order they opened (in
# any thread), each with its replacement of __iter__.
_waiting: list[tuple[Trace, MakeIter]] = []
_lock = threading.Lock()
_hook = PostImportHook(MODULE, _imported)
