"""The package contract that every package of the workspace keeps, as a pytest fixture,
and ``run_overseer``, which runs a real program under a real overseer process.

Per package: it imports alone, and its top level pulls in no heavy module and no sibling
it does not declare; its ``__version__`` is the installed distribution's; its ``__all__``
is sorted and complete; it declares exactly the expected entry points, and each loads.

Every check reads the *installed* package (nox installs each one, not editable, in its own
environment), never a ``src/`` folder. A package's ``tests/test_package.py`` states its
expectations and runs each check::

    def test_package_contract(package_contract, contract_check):
        contract = package_contract("overseer_tracing", "overseer-tracing")
        getattr(contract, f"check_{contract_check}")()
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# The entry point groups a package's contract covers: the suite's wiring and its scripts.
ENTRY_POINT_GROUPS = ("overseer.commands", "overseer.instruments", "console_scripts")

# Heavy modules load inside the functions that need them, never at a package's import.
HEAVY_IMPORTS = ("hydra", "numpy", "omegaconf", "pynvml", "rich", "submitit", "textual", "torch")

# Every check of the contract, run by each package's tests/test_package.py.
CHECKS = ("imports_alone", "version", "all", "entry_points")

# Import name -> distribution of each package of the workspace.
WORKSPACE = {
    "overseer": "overseer-core",
    "overseer_instruments": "overseer-instruments",
    "overseer_rlbench": "overseer-rlbench",
    "overseer_suite": "overseer-suite",
    "overseer_tracing": "overseer-tracing",
    "overseer_tui": "overseer-tui",
    "overseer_xpmanager": "overseer-xpmanager",
}

# Run in a fresh interpreter: import one package, print what that import added to sys.modules.
IMPORT_PROBE = """\
import sys
del sys.path[0]  # -c puts the working directory first: import the installed package only
before = set(sys.modules)
__import__(sys.argv[1])
added = sorted(set(sys.modules) - before)
import json
print(json.dumps(added))
"""


@dataclass(frozen=True)
class PackageContract:
    """What one package promises, and the checks that hold it to it.

    Args:
        import_name: The top-level module, e.g. ``"overseer_tracing"``.
        dist: The distribution, e.g. ``"overseer-tracing"``.
        forbidden_imports: Top-level modules that importing the package must not load.
        entry_points: For each group of ``ENTRY_POINT_GROUPS``, the exact entry points the
            distribution declares, ``{name: "module:attribute"}``; a group left out must
            hold none.
    """

    import_name: str
    dist: str
    forbidden_imports: tuple[str, ...] = HEAVY_IMPORTS
    entry_points: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.entry_points) - set(ENTRY_POINT_GROUPS))
        if unknown:
            message = f"entry point groups {unknown} are not checked: use {ENTRY_POINT_GROUPS}"
            raise ValueError(message)

    def distribution(self) -> Distribution:
        """The installed distribution, or a failure saying how to install it."""
        try:
            return distribution(self.dist)
        except PackageNotFoundError:
            pytest.fail(f"{self.dist} is not installed in {sys.prefix}: pip install it first")

    def module(self) -> ModuleType:
        """The imported package."""
        return importlib.import_module(self.import_name)

    def check_imports_alone(self) -> None:
        """Import the package in a fresh interpreter: no heavy module, no undeclared sibling."""
        self.distribution()
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE, self.import_name],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        assert done.returncode == 0, f"import {self.import_name} fails alone: {last}"
        loaded = {name.partition(".")[0] for name in json.loads(done.stdout)}
        heavy = sorted(loaded & set(self.forbidden_imports))
        assert not heavy, (
            f"import {self.import_name} pulls in {heavy}: import them inside the functions"
            " that need them"
        )
        declared = self._required_dists()
        undeclared = sorted(
            WORKSPACE[name]
            for name in loaded & set(WORKSPACE)
            if name != self.import_name and WORKSPACE[name] not in declared
        )
        assert not undeclared, (
            f"import {self.import_name} imports {undeclared}, which {self.dist} does not"
            " declare: add them to its dependencies or stop importing them"
        )

    def check_version(self) -> None:
        """``__version__`` is the version of the installed distribution."""
        installed = self.distribution().version
        found = getattr(self.module(), "__version__", None)
        assert found == installed, (
            f"{self.import_name}.__version__ is {found!r} but {self.dist} is installed as"
            f" {installed!r}: make them equal"
        )

    def check_all(self) -> None:
        """``__all__`` is sorted, without repeats, names what exists and every public name."""
        module = self.module()
        names = list(getattr(module, "__all__", None) or [])
        assert names, f"{self.import_name} has no __all__: list its public names"
        assert names == sorted(names), f"{self.import_name}.__all__ is not sorted: {names}"
        repeated = sorted({name for name in names if names.count(name) > 1})
        assert not repeated, f"{self.import_name}.__all__ repeats {repeated}"
        # Looked up before the scan below, so that lazily imported names are in place.
        missing = [name for name in names if not hasattr(module, name)]
        assert not missing, f"{self.import_name}.__all__ names {missing}, which do not exist"
        unlisted = sorted(_public_names(module) - set(names))
        assert not unlisted, (
            f"{self.import_name} defines the public names {unlisted} outside __all__:"
            " add them to __all__ or start them with an underscore"
        )

    def check_entry_points(self) -> None:
        """The distribution declares exactly the expected entry points, and each loads."""
        entry_points = [
            entry_point
            for entry_point in self.distribution().entry_points
            if entry_point.group in ENTRY_POINT_GROUPS
        ]
        declared: dict[str, dict[str, str]] = {group: {} for group in ENTRY_POINT_GROUPS}
        for entry_point in entry_points:
            declared[entry_point.group][entry_point.name] = entry_point.value
        expected = {group: dict(self.entry_points.get(group, {})) for group in ENTRY_POINT_GROUPS}
        assert declared == expected, f"{self.dist} declares other entry points than expected"
        for entry_point in entry_points:
            loaded = entry_point.load()
            assert callable(loaded), (
                f"[{entry_point.group}] {entry_point.name} = {entry_point.value} of {self.dist}"
                f" loads a {type(loaded).__name__}, not a callable"
            )

    def _required_dists(self) -> set[str]:
        """The distributions the package requires outside its extras, names canonical."""
        requirements = [Requirement(line) for line in self.distribution().requires or []]
        return {
            canonicalize_name(requirement.name)
            for requirement in requirements
            if requirement.marker is None or "extra" not in str(requirement.marker)
        }


def _public_names(module: ModuleType) -> set[str]:
    """The names ``module`` defines for its users: not private, not modules, not imported."""
    imported = _names_imported_from_outside(module)
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name not in imported
    }


def _names_imported_from_outside(module: ModuleType) -> set[str]:
    """Names the module's own code binds by ``from X import name`` with X another package.

    ``from __future__ import annotations`` or ``from typing import Any`` put names in the
    namespace that the package does not define; its relative imports re-export its own.
    """
    tree = ast.parse(inspect.getsource(module))
    package = module.__name__.partition(".")[0]
    names: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            top = (node.module or "").partition(".")[0]
            if top != package:
                names.update(alias.asname or alias.name for alias in node.names)
        pending.extend(
            child
            for child in ast.iter_child_nodes(node)
            if isinstance(child, ast.stmt | ast.excepthandler)
        )
    return names


def pytest_configure(config: pytest.Config) -> None:
    """Let the programs the tests start be interrupted as from a terminal.

    A test run started in the background (``nohup``, ``&`` in a script) ignores SIGINT, and
    every program it starts inherits that: tests that press Ctrl-C on a child would see it
    ignored. A handler of our own is reset to the default in each child, an ignored signal is
    not, so the run takes Python's usual one.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def package_contract() -> type[PackageContract]:
    """The class :class:`PackageContract`: call it with a package's expectations."""
    return PackageContract


@pytest.fixture(params=CHECKS)
def contract_check(request: pytest.FixtureRequest) -> str:
    """The name of one check of the contract: a test using it runs once per check."""
    return str(request.param)


# ---------------------------------------------------------------- running programs for real


@dataclass
class Finished:
    """What a run left: its exit status, output, and the records of its data stream."""

    returncode: int
    stdout: str
    stderr: str
    records: list[dict[str, Any]] = field(default_factory=list)

    def events(self, name: str) -> list[dict[str, Any]]:
        """The ``$data`` of every control record named ``name``."""
        return [r["$data"] for r in self.records if r.get("$event") == name]

    def data(self, key: str) -> list[Any]:
        """The values of ``key`` in the data records, in order."""
        return [r[key] for r in self.records if "$event" not in r and key in r]


def _strict(constant: str) -> Any:
    message = f"the stream holds a bare {constant}: it is not strict JSON"
    raise ValueError(message)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The folder a test's programs run in; a package's conftest.py may fill it first."""
    return tmp_path


@pytest.fixture
def run_overseer(workdir: Path) -> Callable[..., Finished]:
    """Run ``python -m overseer ARGS`` in ``workdir`` with the stream on a file descriptor."""

    def run(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
        stream: bool = True,
    ) -> Finished:
        data_path = workdir / "data.jsonl"
        inherited = {k: v for k, v in os.environ.items() if k not in ("VOIRFILE", "DATA_FD")}
        full_env = {**inherited, "PYTHONUNBUFFERED": "1", **(env or {})}
        with open(data_path, "wb") as data_file:
            fds: tuple[int, ...] = ()
            if stream:
                full_env["DATA_FD"] = str(data_file.fileno())
                fds = (data_file.fileno(),)
            done = subprocess.run(
                [sys.executable, "-m", "overseer", *args],
                cwd=cwd or workdir,
                env=full_env,
                pass_fds=fds,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        text = data_path.read_text()
        records = [json.loads(line, parse_constant=_strict) for line in text.splitlines() if line]
        return Finished(done.returncode, done.stdout, done.stderr, records)

    return run
