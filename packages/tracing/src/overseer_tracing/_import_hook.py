"""A post-import hook: a function called right after one module is imported, while wanted.

:class:`PostImportHook` is a finder put first in :data:`sys.meta_path` by
:meth:`~PostImportHook.install` and taken out by :meth:`~PostImportHook.remove`. While in,
an import of its module goes through the finders after it as usual; only the loader they
find is wrapped, so that the callback runs once the module's code has run. The module keeps
its own loader (``__loader__`` and ``__spec__.loader`` are put back), and a failed import
calls nothing::

    hook = PostImportHook("torch.utils.data", lambda module: print(module.DataLoader))
    hook.install()
    try:
        run()  # imports torch: the callback sees torch.utils.data complete
    finally:
        hook.remove()
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Callable, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

__all__ = ["PostImportHook"]


class PostImportHook(importlib.abc.MetaPathFinder):
    """Call ``callback(module)`` right after the module ``name`` is imported, while installed.

    Args:
        name: the module's full name, e.g. ``"torch.utils.data"``.
        callback: what to call with the module; it should not raise (an exception goes to
            the code that imported the module).
    """

    def __init__(self, name: str, callback: Callable[[ModuleType], None]) -> None:
        self.name, self.callback = name, callback
        self._asking = threading.local()  # set while this thread asks the other finders

    def install(self) -> None:
        """Put the hook first in ``sys.meta_path`` (once: installing twice does nothing)."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def remove(self) -> None:
        """Take the hook out of ``sys.meta_path``, wherever it is; idempotent."""
        while self in sys.meta_path:
            sys.meta_path.remove(self)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The spec the other finders give ``name``, its loader wrapped; None for others."""
        if fullname != self.name or getattr(self._asking, "now", False):
            return None
        self._asking.now = True  # a finder that asks importlib in turn must not come back here
        try:
            spec = _spec_from_others(self, fullname, path, target)
        finally:
            self._asking.now = False
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _CallingLoader(spec.loader, self.callback)
        return spec


def _spec_from_others(
    hook: PostImportHook, fullname: str, path: Sequence[str] | None, target: ModuleType | None
) -> ModuleSpec | None:
    for finder in list(sys.meta_path):
        find_spec = getattr(finder, "find_spec", None)
        if finder is hook or find_spec is None:
            continue
        spec: ModuleSpec | None = find_spec(fullname, path, target)
        if spec is not None:
            return spec
    return None


class _CallingLoader(importlib.abc.Loader):
    """The module's own loader, then the callback; anything else goes to the loader."""

    def __init__(self, loader: Any, callback: Callable[[ModuleType], None]) -> None:
        self.loader, self.callback = loader, callback

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        try:
            self.loader.exec_module(module)
        finally:  # the module keeps its own loader, not this wrapper
            module.__loader__ = self.loader
            if module.__spec__ is not None:
                module.__spec__.loader = self.loader
        self.callback(module)

    def __getattr__(self, name: str) -> Any:  # get_code, is_package, resource readers...
        return getattr(self.loader, name)
