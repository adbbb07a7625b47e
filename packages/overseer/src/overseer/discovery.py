"""Finding instruments: voirfiles beside the script, and installed entry points.

A ``voirfile.py`` defines instruments as functions named ``instrument_*`` or as the values of
an ``__instruments__`` dict, exactly as voir documents::

    # voirfile.py
    def instrument_hello(ov):
        yield ov.phases.run_script
        print("the script is done")

The voirfile used is the one in the script's directory, else the one in the current
directory; ``$VOIRFILE`` (paths separated by spaces) overrides both. Installed packages add
instruments through the ``overseer.instruments`` entry point group.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InstrumentError, VoirfileError

__all__ = [
    "ENTRY_POINT_GROUP",
    "DeclaredEntryPoint",
    "InstrumentSpec",
    "check_instrument",
    "declared_entry_points",
    "entry_point_instruments",
    "find_voirfiles",
    "guess_script",
    "load_voirfile",
]

#: The entry point group installed packages declare instruments in.
ENTRY_POINT_GROUP = "overseer.instruments"

Instrument = Callable[..., Any]


@dataclass(frozen=True)
class InstrumentSpec:
    """An instrument and where it comes from.

    Attributes:
        name: ``instrument_time`` for a voirfile function, the key of ``__instruments__``, or
            the entry point's name.
        instrument: the callable taking the overseer.
        origin: the voirfile's path or ``entry point pkg.module:attr``.
    """

    name: str
    instrument: Instrument
    origin: str

    @property
    def summary(self) -> str:
        """The first line of the instrument's docstring, or an empty string."""
        doc = getattr(self.instrument, "__doc__", None) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""


def guess_script(argv: Sequence[str]) -> Path | None:
    """The script an overseer command line names, found before its options are parsed.

    Instrument flags are only known once the voirfile is loaded, so this takes the first
    argument that is an existing ``.py`` file, stopping at ``-m``.

    >>> guess_script(["--time", "-m", "pkg.mod"]) is None
    True
    """
    for argument in argv:
        if argument == "-m" or argument.startswith("-m"):
            return None
        if argument.endswith(".py") and Path(argument).is_file():
            return Path(argument)
    return None


def find_voirfiles(script: Path | None, cwd: Path | None = None) -> list[Path]:
    """The voirfiles to load for ``script``: ``$VOIRFILE``, else the script's, else cwd's."""
    override = os.environ.get("VOIRFILE")
    if override is not None:
        return [Path(path) for path in override.split()]
    cwd = cwd or Path.cwd()
    folders = [script.resolve().parent] if script is not None else []
    folders.append(cwd.resolve())
    for folder in folders:
        candidate = folder / "voirfile.py"
        if candidate.is_file():
            return [candidate]
    return []


def load_voirfile(path: Path, index: int = 0) -> list[InstrumentSpec]:
    """Run a voirfile and return the instruments it defines.

    Raises:
        VoirfileError: the file is missing, fails to import (its own traceback is kept in
            the message), or defines an instrument that is not callable.
    """
    if not path.is_file():
        message = f"voirfile {str(path)!r} does not exist: fix the path in $VOIRFILE"
        raise VoirfileError(message)
    module_name = "__voir__" if index == 0 else f"__voir{index}__"
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    sys.modules[module_name] = module
    try:
        namespace = runpy.run_path(str(path), init_globals=vars(module), run_name=module_name)
    except BaseException as error:
        del sys.modules[module_name]
        shown = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        message = f"voirfile {str(path)!r} failed to import: {error!r}; fix it:\n{shown}"
        raise VoirfileError(message) from error
    vars(module).update(namespace)
    return _instruments_in(namespace, str(path))


def _instruments_in(namespace: dict[str, Any], origin: str) -> list[InstrumentSpec]:
    if "__instruments__" in namespace:
        found = list(_flatten("__instruments__", namespace["__instruments__"]))
    else:
        found = [
            (name, value) for name, value in namespace.items() if name.startswith("instrument_")
        ]
    specs = []
    for name, value in found:
        if not callable(value):
            message = (
                f"instrument {name!r} in {origin} is a {type(value).__name__}, not a callable:"
                " define it as a function taking the overseer, e.g. `def instrument_x(ov): ...`"
            )
            raise VoirfileError(message)
        specs.append(InstrumentSpec(name, value, origin))
    return specs


def _flatten(name: str, value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(str(key), item)
    elif isinstance(value, (list, tuple)):
        for position, item in enumerate(value):
            yield from _flatten(f"{name}[{position}]", item)
    else:
        yield name, value


def entry_point_instruments() -> tuple[list[InstrumentSpec], list[str]]:
    """Load every installed ``overseer.instruments`` entry point.

    Returns:
        The instruments that loaded, and one line per entry point that did not, naming it
        and the install line that fixes it.
    """
    specs, problems = [], []
    for declared in declared_entry_points(ENTRY_POINT_GROUP):
        try:
            instrument = declared.load()
        except Exception as error:
            problems.append(_load_problem(declared, error))
            continue
        if not callable(instrument):
            problems.append(
                f"instrument {declared.name!r} ({declared.value}) is not callable:"
                f" reinstall or fix {declared.dist!r}, which declares it"
            )
            continue
        specs.append(InstrumentSpec(declared.name, instrument, f"entry point {declared.value}"))
    return specs, problems


@dataclass(frozen=True)
class DeclaredEntryPoint:
    """An entry point as a distribution declares it: ``name = module:attribute``."""

    name: str
    value: str
    dist: str

    def load(self) -> Any:
        """Import the module and return the attribute."""
        import importlib

        module_name, _, attribute = self.value.partition(":")
        target: Any = importlib.import_module(module_name.strip())
        for part in filter(None, attribute.strip().split(".")):
            target = getattr(target, part)
        return target


def declared_entry_points(group: str) -> list[DeclaredEntryPoint]:
    """The entry points of ``group`` declared by distributions on ``sys.path``.

    A direct scan of ``*.dist-info/entry_points.txt``: ``importlib.metadata`` builds every
    distribution's metadata first, which costs tens of milliseconds at each start in a large
    environment. The first distribution of a name on ``sys.path`` wins, as in imports.
    """
    header = f"[{group}]"
    found: list[DeclaredEntryPoint] = []
    seen: set[str] = set()
    for folder in sys.path:
        for info in _dist_infos(folder or "."):
            dist = info.name[: -len(".dist-info")].rsplit("-", 1)[0].lower().replace("_", "-")
            if dist in seen:
                continue
            seen.add(dist)
            text = _read(os.path.join(info.path, "entry_points.txt"))
            if header in text:
                found.extend(_parse_section(text, header, dist))
    return found


def _dist_infos(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return [entry for entry in entries if entry.name.endswith(".dist-info")]
    except OSError:
        return []


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError:
        return ""


def _parse_section(text: str, header: str, dist: str) -> list[DeclaredEntryPoint]:
    section = text.split(header, 1)[1].split("\n[", 1)[0]
    points = []
    for line in section.splitlines():
        name, equals, value = line.partition("=")
        if equals and not line.lstrip().startswith(("#", ";")):
            points.append(DeclaredEntryPoint(name.strip(), value.strip(), dist))
    return points


def _load_problem(entry_point: DeclaredEntryPoint, error: Exception) -> str:
    missing = getattr(error, "name", None) if isinstance(error, ImportError) else None
    fix = f"pip install '{entry_point.dist}'"
    if missing in _EXTRAS:
        fix = f"pip install '{entry_point.dist}[{_EXTRAS[missing]}]'"
    return f"instrument {entry_point.name!r} cannot load ({error}): fix it with {fix}"


#: Optional modules and the extra of their package that installs them.
_EXTRAS = {"pynvml": "gpu", "psutil": "monitors"}


def check_instrument(name: str, value: Any) -> None:
    """Raise :class:`InstrumentError` unless ``value`` can be required as an instrument."""
    if not callable(value):
        message = (
            f"instrument {name!r} is a {type(value).__name__}, not a callable: pass a function"
            " taking the overseer"
        )
        raise InstrumentError(message)
