"""Find the project package, its decorated main and its grid files.

A project is a package holding ``train.py``, whose ``main`` is decorated by
``argparse_main`` or ``hydra_main``, and grid files ``grids/NAME.py`` defining
``explorer``. The package is ``-P PACKAGE``, else ``$OVERSEER_XP_PACKAGE`` (``$DORA_PACKAGE``
is read too), else the only folder of the current directory that holds a ``train.py``::

    package = find_package(None, Path.cwd())  # "myproject"
    main = load_main(package)  # myproject.train.main
    explorer = load_explorer(package, "sweep")  # myproject.grids.sweep.explorer
    grid_names(package)  # ["sweep", ...]
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from .errors import GridError, ProjectError

if TYPE_CHECKING:
    from .explore import Explorer
    from .main import DecoratedMain

__all__ = [
    "DORA_PACKAGE_ENV",
    "MAIN_MODULE",
    "PACKAGE_ENV",
    "find_package",
    "grid_names",
    "load_explorer",
    "load_main",
]

PACKAGE_ENV = "OVERSEER_XP_PACKAGE"
DORA_PACKAGE_ENV = "DORA_PACKAGE"
#: The module of the project package that defines the decorated ``main``.
MAIN_MODULE = "train"


def find_package(explicit: str | None, cwd: Path, main_module: str = MAIN_MODULE) -> str:
    """The project package: ``explicit``, the environment's, or the one found in ``cwd``.

    ``cwd`` goes first on ``sys.path`` when it is not there, so the package imports. The
    package found in ``cwd`` is the only folder holding ``<main_module>.py``.

    Raises:
        ProjectError: no package is named and ``cwd`` holds none, or holds several.
    """
    _make_importable(cwd)
    named = explicit or os.environ.get(PACKAGE_ENV) or os.environ.get(DORA_PACKAGE_ENV)
    if named:
        return named
    found = sorted(
        child.name
        for child in cwd.iterdir()
        if child.name.isidentifier() and (child / f"{main_module}.py").is_file()
    )
    if len(found) == 1:
        return found[0]
    if not found:
        message = (
            f"no project package found in {cwd}: pass -P PACKAGE, set {PACKAGE_ENV}, or run "
            f"from the folder holding the package with {main_module}.py"
        )
    else:
        message = (
            f"several project packages in {cwd} ({', '.join(found)}): pass -P with one of them "
            f"or set {PACKAGE_ENV}"
        )
    raise ProjectError(message)


def load_main(package: str, main_module: str = MAIN_MODULE) -> DecoratedMain:
    """The decorated ``main`` of ``PACKAGE.train`` (``PACKAGE.<main_module>``).

    Raises:
        ProjectError: the module is missing, raised while imported, or its ``main`` is
            missing or not decorated.
    """
    from .main import DecoratedMain

    _make_importable(Path.cwd())
    name = f"{package}.{main_module}"
    module = _import_project_module(name, package)
    main = getattr(module, "main", None)
    if isinstance(main, DecoratedMain):
        return main
    what = "defines no main" if main is None else f"main is a {type(main).__name__}"
    message = (
        f"{name} {what}: decorate the project's main with @argparse_main(...) or "
        "@hydra_main(...) from overseer_xpmanager"
    )
    raise ProjectError(message)


def load_explorer(package: str, grid: str) -> Explorer:
    """The ``explorer`` of grid file ``PACKAGE/grids/GRID.py``, imported afresh.

    Raises:
        ProjectError: there is no such grid file, or it defines no callable ``explorer``.
        GridError: the grid file raised while imported (its traceback in ``details``).
    """
    _make_importable(Path.cwd())
    name = f"{package}.grids.{grid}"
    path = f"{package.replace('.', '/')}/grids/{grid}.py"
    sys.modules.pop(name, None)  # a grid file edited since the last look is read again
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name not in (name, f"{package}.grids", package):
            raise _grid_error(path, error) from error
        known = ", ".join(grid_names(package)) or "none yet"
        message = f"no grid {grid!r} in {package}: write {path} (grids of {package}: {known})"
        raise ProjectError(message) from None
    except Exception as error:
        raise _grid_error(path, error) from error
    explorer = getattr(module, "explorer", None)
    if not callable(explorer):
        message = f"grid file {path} defines no explorer: decorate its function with @Explorer"
        raise ProjectError(message)
    result: Explorer = explorer
    return result


def grid_names(package: str) -> list[str]:
    """The grids of ``package``: the modules of ``PACKAGE/grids/`` not starting with ``_``."""
    _make_importable(Path.cwd())
    try:
        grids = importlib.import_module(f"{package}.grids")
    except ModuleNotFoundError:
        return []
    folders = getattr(grids, "__path__", [])
    return sorted(
        path.stem
        for folder in folders
        for path in Path(folder).glob("*.py")
        if not path.stem.startswith("_")
    )


def _import_project_module(name: str, package: str) -> ModuleType:
    module_file = name.replace(".", "/") + ".py"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name not in (name, package):
            raise _import_error(name, error) from error
        message = (
            f"no module {name} (from {Path.cwd()}): pass -P PACKAGE, set {PACKAGE_ENV}, or "
            f"run from the folder holding {module_file}"
        )
        raise ProjectError(message) from None
    except Exception as error:
        raise _import_error(name, error) from error


def _import_error(name: str, error: BaseException) -> ProjectError:
    message = f"importing {name} raised {_describe(error)}; fix the project's code"
    return ProjectError(message, details=_traceback(error))


def _grid_error(path: str, error: BaseException) -> GridError:
    message = f"grid file {path} raised {_describe(error)}; nothing was scheduled"
    return GridError(message, details=_traceback(error))


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def _make_importable(folder: Path) -> None:
    resolved = str(folder.resolve())
    if not any(entry == resolved or _same(entry, resolved) for entry in sys.path):
        sys.path.insert(0, resolved)
        importlib.invalidate_caches()


def _same(entry: str, resolved: str) -> bool:
    try:
        return str(Path(entry).resolve()) == resolved
    except OSError:
        return False
