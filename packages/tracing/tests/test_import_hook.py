"""A post-import hook calls its function once its module is imported, and leaves no trace."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from overseer_tracing._import_hook import PostImportHook


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A package ``hooked_pkg`` with a submodule ``data`` (a class) and one that fails."""
    folder = tmp_path / "hooked_pkg"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "data.py").write_text("class Loader:\n    pass\n\nDONE = True\n")
    (folder / "broken.py").write_text("raise RuntimeError('broken on purpose')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "hooked_pkg"
    for name in [name for name in sys.modules if name.startswith("hooked_pkg")]:
        del sys.modules[name]


def test_the_callback_sees_the_module_complete_and_the_module_keeps_its_loader(
    package: str,
) -> None:
    seen: list[ModuleType] = []
    hook = PostImportHook(f"{package}.data", seen.append)
    hook.install()
    hook.install()  # once is enough
    try:
        assert sys.meta_path.count(hook) == 1
        import hooked_pkg.data  # type: ignore[import-not-found]
    finally:
        hook.remove()
    assert seen == [hooked_pkg.data]
    assert seen[0].DONE is True  # called after the module's code ran
    loader = type(hooked_pkg.data.__loader__).__name__
    assert loader == type(hooked_pkg.data.__spec__.loader).__name__ == "SourceFileLoader"
    assert hook not in sys.meta_path


def test_other_modules_and_failed_imports_call_nothing(package: str) -> None:
    seen: list[ModuleType] = []
    hook = PostImportHook(f"{package}.broken", seen.append)
    hook.install()
    try:
        import hooked_pkg.data  # type: ignore[import-not-found]

        with pytest.raises(RuntimeError, match="broken on purpose"):
            import hooked_pkg.broken  # type: ignore[import-not-found]  # noqa: F401
    finally:
        hook.remove()
        hook.remove()  # removing twice does nothing
    assert seen == []
    assert f"{package}.broken" not in sys.modules
