"""The overseer suite's one test matrix, and the checks around it.

``nox`` runs the default sessions: ``lint``, ``typecheck``, ``build``, ``docs``,
``integration``, ``torch``, ``slurm`` (a real cluster; it skips where none can be brought up)
and the ``tests`` matrix (one fresh environment per package and Python). ``nox -l`` lists
them all; ``nox -s "tests-3.12(tracing)"`` runs one cell. The sessions ``gpu``, ``bench``
and ``demo`` run only when named.

Every session installs the workspace's packages from their folders, never in editable mode,
so a file left out of a wheel or an import that a package does not declare fails here. A
sibling always comes from ``packages/``: several of these names belong to unrelated
projects on PyPI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import nox
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

nox.needs_version = ">=2025.2.9"
# uv makes the 28 environments of the matrix cheap; virtualenv is there for machines without it.
nox.options.default_venv_backend = "uv|virtualenv"

ROOT = Path(__file__).parent
PACKAGES_DIR = ROOT / "packages"

# The Python of CI's machine, and the only one for which a torch wheel lies on its disk.
MAIN_PYTHON = "3.11"
# Never let an installer pick torch: an unpinned torch is a CUDA build of several GB.
TORCH = "torch==2.13.0"

TEST_REQUIREMENTS = ["pytest>=8"]
TYPECHECK_REQUIREMENTS = ["mypy>=1.13", "types-psutil", "nox>=2025.2.9"]
LINT_REQUIREMENTS = ["ruff>=0.8"]
DOCS_REQUIREMENTS = [
    # MkDocs 2 drops the plugin API that Material and mkdocstrings are built on.
    "mkdocs>=1.6,<2",
    "mkdocs-material>=9.5",
    "mkdocstrings>=0.27",
    "mkdocstrings-python>=1.12",
    # mkdocstrings formats the separate signatures with ruff.
    "ruff>=0.8",
]
# Accelerator and cluster sessions exit with pytest's 5 ("no test collected") until a
# package marks a test for them.
NO_TESTS_COLLECTED = 5


@dataclass(frozen=True)
class Package:
    """One distribution of the workspace, read from its pyproject.toml."""

    folder: str
    dist: str
    path: Path
    pythons: tuple[str, ...]
    siblings: tuple[str, ...]
    externals: tuple[str, ...]
    extra_requirements: tuple[str, ...]
    test_requirements: tuple[str, ...]
    commands: tuple[str, ...]

    @property
    def tests(self) -> Path:
        """The package's tests folder."""
        return self.path / "tests"


def _requirement_strings(values: Iterable[object]) -> list[str]:
    # Dependency groups may hold {include-group = ...} tables: only plain strings install.
    return [value for value in values if isinstance(value, str)]


def _read_package(path: Path, workspace: set[str]) -> Package:
    pyproject = nox.project.load_toml(path / "pyproject.toml")
    project = pyproject["project"]
    requirements = [Requirement(text) for text in project.get("dependencies", [])]
    extras = [
        Requirement(text)
        for texts in project.get("optional-dependencies", {}).values()
        for text in texts
    ]
    groups = pyproject.get("dependency-groups", {})
    return Package(
        folder=path.name,
        dist=canonicalize_name(project["name"]),
        path=path,
        pythons=tuple(nox.project.python_versions(pyproject)),
        siblings=tuple(r.name for r in requirements if canonicalize_name(r.name) in workspace),
        externals=tuple(r.name for r in requirements if canonicalize_name(r.name) not in workspace),
        extra_requirements=tuple(
            str(r) for r in extras if canonicalize_name(r.name) not in workspace
        ),
        test_requirements=tuple(_requirement_strings(groups.get("test", []))),
        commands=tuple(project.get("entry-points", {}).get("overseer.commands", {})),
    )


def _read_workspace() -> dict[str, Package]:
    """Every package under packages/, dependencies before their dependents."""
    paths = sorted(p.parent for p in PACKAGES_DIR.glob("*/pyproject.toml"))
    workspace: set[str] = {
        canonicalize_name(nox.project.load_toml(p / "pyproject.toml")["project"]["name"])
        for p in paths
    }
    by_dist = {package.dist: package for package in (_read_package(p, workspace) for p in paths)}
    ordered: dict[str, Package] = {}

    def visit(dist: str) -> None:
        if dist in ordered:
            return
        for sibling in by_dist[dist].siblings:
            visit(canonicalize_name(sibling))
        ordered[dist] = by_dist[dist]

    for dist in sorted(by_dist, key=lambda d: (len(by_dist[d].siblings), d)):
        visit(dist)
    return {package.folder: package for package in ordered.values()}


PACKAGES = _read_workspace()
FOLDERS = list(PACKAGES)
PYTHONS = sorted({py for p in PACKAGES.values() for py in p.pythons}, key=Version)


def _closure(package: Package) -> list[Package]:
    """The package and every sibling it needs, dependencies first."""
    by_dist = {p.dist: p for p in PACKAGES.values()}
    needed: set[str] = set()
    pending = [package.dist]
    while pending:
        dist = pending.pop()
        if dist not in needed:
            needed.add(dist)
            pending.extend(canonicalize_name(s) for s in by_dist[dist].siblings)
    return [p for p in PACKAGES.values() if p.dist in needed]


def _needs_torch(packages: Iterable[Package]) -> bool:
    return any(canonicalize_name(name) == "torch" for p in packages for name in p.externals)


def _find_links() -> list[str]:
    # uv reads none of pip's settings, so the folder of local wheels is passed along by hand.
    return [f"--find-links={link}" for link in os.environ.get("PIP_FIND_LINKS", "").split()]


def _install(
    session: nox.Session,
    packages: Iterable[Package],
    *requirements: str,
    local_torch: bool = True,
) -> None:
    """Install ``packages`` from their folders (not editable) with ``requirements``.

    When one of them needs torch, the pinned torch goes in first and stays pinned, so the
    packages' own ``torch>=...`` is already satisfied and nothing resolves a newer one.
    ``local_torch=False`` leaves out the folder of local wheels (a CPU build here), so that a
    GPU machine gets the CUDA build of the same version.
    """
    packages = list(packages)
    pins: list[str] = []
    if _needs_torch(packages):
        pins = [*(_find_links() if local_torch else []), TORCH]
        session.install(*pins)
    session.install(*pins, *(str(p.path) for p in packages), *requirements)


def _test_folders(packages: Iterable[Package]) -> list[str]:
    """The tests folders that exist, relative to the root where pytest finds its config."""
    return [str(p.tests.relative_to(ROOT)) for p in packages if p.tests.is_dir()]


def _all_extras() -> list[str]:
    """Every optional dependency of every package, for sessions that test everything."""
    return sorted({r for p in PACKAGES.values() for r in p.extra_requirements})


def _all_test_requirements() -> list[str]:
    return [*TEST_REQUIREMENTS, *(r for p in PACKAGES.values() for r in p.test_requirements)]


def _has_marked_tests(marker: str) -> bool:
    """Whether any test file mentions ``pytest.mark.<marker>`` (a cheap look before a setup)."""
    needle = f"mark.{marker}"
    return any(
        needle in path.read_text(encoding="utf-8")
        for folder in _test_folders(PACKAGES.values())
        for path in (ROOT / folder).rglob("*.py")
    )


def _expose_pyenv_pythons(wanted: Iterable[str]) -> None:
    """Make pyenv's shims answer for every wanted Python, not only the selected one.

    pyenv installs each version beside the others but its shims run only those that
    ``PYENV_VERSION`` (or a version file) selects: nox would find no ``python3.10``, and on
    CI a missing interpreter is an error. The version nox runs on stays first.
    """
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not versions.is_dir():
        return
    selected = [v for v in os.environ.get("PYENV_VERSION", "").split(":") if v]
    if not selected and Path(sys.prefix).parent == versions:
        selected = [Path(sys.prefix).name]
    if not selected and (versions.parent / "version").is_file():
        selected = (versions.parent / "version").read_text(encoding="utf-8").split()
    installed = [p.name for p in versions.iterdir() if p.name.replace(".", "").isdigit()]
    for minor in wanted:
        if any(v == minor or v.startswith(f"{minor}.") for v in selected):
            continue
        patches = [v for v in installed if v.startswith(f"{minor}.")]
        if patches:
            selected.append(max(patches, key=Version))
    if selected:
        os.environ["PYENV_VERSION"] = ":".join(selected)


_expose_pyenv_pythons(PYTHONS)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff's rules and formatting over the whole repository; the README's commands."""
    session.install(*LINT_REQUIREMENTS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("python", "tools/check_quickstart.py")


@nox.session(python=MAIN_PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over every package's sources, with their optional extras installed."""
    _install(session, PACKAGES.values(), *TYPECHECK_REQUIREMENTS, *_all_extras())
    # A package frame with no module yet (only py.typed) has nothing to check, and mypy
    # refuses a folder without Python files.
    sources = [
        str((p.path / "src").relative_to(ROOT))
        for p in PACKAGES.values()
        if any((p.path / "src").rglob("*.py"))
    ]
    session.run("mypy", *sources)
    # The tools run on MAIN_PYTHON only (they read TOML with tomllib).
    session.run("mypy", "--python-version", MAIN_PYTHON, "noxfile.py", "tools")


@nox.session(python=MAIN_PYTHON)
def build(session: nox.Session) -> None:
    """Build every wheel and sdist, then check what the wheels hold against pyproject."""
    if session.venv_backend != "uv":
        session.install("uv")
    out = Path(session.create_tmp()) / "dist"
    shutil.rmtree(out, ignore_errors=True)
    for package in PACKAGES.values():
        # uv builds the sdist first and the wheel from it, so a file missing from the
        # sdist shows up as a broken wheel.
        session.run("uv", "build", "--out-dir", str(out), str(package.path))
    session.run("python", "tools/check_wheels.py", str(out), str(PACKAGES_DIR))


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, built with warnings as errors."""
    session.install(*DOCS_REQUIREMENTS)
    site = Path(session.create_tmp()) / "site"
    # Material's banner about MkDocs 2 says nothing about this site: keep the log to the build.
    quiet = {"NO_MKDOCS_2_WARNING": "1"}
    session.run("mkdocs", "build", "--strict", "--site-dir", str(site), env=quiet)
    session.log(f"site built in {site}")


@nox.session(python=MAIN_PYTHON)
def integration(session: nox.Session) -> None:
    """Everything in one environment: `suite --help` lists every command, every plugin loads."""
    _install(session, PACKAGES.values())
    session.run("python", "tools/check_entry_points.py", str(PACKAGES_DIR))


@nox.session(python=MAIN_PYTHON)
def torch(session: nox.Session) -> None:
    """The tests marked `torch`, over every package, with the pinned CPU torch."""
    _install(session, PACKAGES.values(), *_all_test_requirements())
    session.run(
        "python",
        "-m",
        "pytest",
        "-m",
        "torch",
        *_test_folders(PACKAGES.values()),
        *session.posargs,
        success_codes=[0, NO_TESTS_COLLECTED],
    )


@nox.session(python=PYTHONS)
@nox.parametrize("package", FOLDERS, ids=FOLDERS)
def tests(session: nox.Session, package: str) -> None:
    """One package's tests, alone with its siblings in a fresh environment."""
    chosen = PACKAGES[package]
    if session.python not in chosen.pythons:
        session.skip(f"{chosen.dist} does not list Python {session.python} in its classifiers")
    needed = _closure(chosen)
    if _needs_torch(needed) and session.python != MAIN_PYTHON:
        session.skip(
            f"{chosen.dist} needs torch, tested on Python {MAIN_PYTHON} only"
            f" (the pinned {TORCH} wheel is installed for it)"
        )
    if not chosen.tests.is_dir():
        session.error(f"{chosen.dist} has no tests: add {chosen.tests.relative_to(ROOT)}/")
    _install(session, needed, *TEST_REQUIREMENTS, *chosen.test_requirements)
    # Tests on the real cluster run once, in the `slurm` session, not in every cell.
    tests = str(chosen.tests.relative_to(ROOT))
    session.run("python", "-m", "pytest", "-m", "not slurm", tests, *session.posargs)


def _gpu_missing(session: nox.Session, reason: str) -> NoReturn:
    if os.environ.get("OVERSEER_REQUIRE_GPU") == "1":
        session.error(f"{reason}, and OVERSEER_REQUIRE_GPU=1 asks for one")
    session.skip(f"{reason}: set OVERSEER_REQUIRE_GPU=1 to fail instead")


def _nvidia_smi_problem() -> str | None:
    """Why no NVIDIA GPU is visible, or None when ``nvidia-smi -L`` lists one."""
    if shutil.which("nvidia-smi") is None:
        return "no NVIDIA GPU visible (nvidia-smi not found)"
    try:
        listed = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        return "no NVIDIA GPU visible (nvidia-smi -L did not answer in 60 s)"
    if listed.returncode != 0 or "GPU" not in listed.stdout:
        detail = (listed.stderr or listed.stdout).strip().splitlines()
        said = detail[0].rstrip(".") if detail else f"exit status {listed.returncode}"
        return f"no NVIDIA GPU visible (nvidia-smi -L failed: {said})"
    return None


@nox.session(python=MAIN_PYTHON, default=False)
def gpu(session: nox.Session) -> None:
    """The tests marked `gpu` on a CUDA build of the pinned torch, then `rl bench --device cuda`
    (a quick run; `python benchmarks/rlbench/run.py --device cuda` is the full comparison);
    skipped without a GPU."""
    problem = _nvidia_smi_problem()
    if problem is not None:
        _gpu_missing(session, problem)
    # The extras hold what the GPU paths use (nvidia-ml-py for the GPU monitor).
    _install(
        session, PACKAGES.values(), *_all_test_requirements(), *_all_extras(), local_torch=False
    )
    answer = session.run(
        "python",
        "-c",
        "import torch; print(torch.__version__, torch.cuda.is_available())",
        silent=True,
    )
    last = answer.strip().splitlines()[-1] if isinstance(answer, str) and answer.strip() else ""
    if not last.endswith(" True"):
        _gpu_missing(session, f"torch.cuda.is_available() is False (torch {last.split(' ')[0]})")
    session.run(
        "python",
        "-m",
        "pytest",
        "-m",
        "gpu",
        *_test_folders(PACKAGES.values()),
        *session.posargs,
        success_codes=[0, NO_TESTS_COLLECTED],
    )
    session.run("python", "-m", "overseer_rlbench", "bench", "--device", "cuda", "--quick")


# Brings up (and tears down) a real single-machine cluster; see packages/xpmanager/README.md.
SLURM_CLUSTER = ROOT / "scripts" / "slurm-cluster"
# OVERSEER_SLURM: auto (the default), up (always the script's cluster), off (never start one).
SLURM_MODES = ("auto", "up", "off")


def _slurm_answers() -> bool:
    """Whether ``sinfo`` reaches a Slurm controller from this machine."""
    if shutil.which("sinfo") is None:
        return False
    try:
        done = subprocess.run(["sinfo", "-h"], capture_output=True, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def _slurm_cluster(*args: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/slurm-cluster quietly (for ``status`` and ``env``)."""
    command = [sys.executable, str(SLURM_CLUSTER), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _slurm_cluster_env() -> dict[str, str]:
    """The variables that ``scripts/slurm-cluster env`` exports, e.g. ``SLURM_CONF``."""
    import shlex

    lines = _slurm_cluster("env").stdout.splitlines()
    words = [shlex.split(line.removeprefix("export ")) for line in lines]
    pairs = [word[0].partition("=") for word in words if word]
    return {name: value for name, _, value in pairs if value}


def _why_no_slurm_bring_up() -> str | None:
    """Why scripts/slurm-cluster cannot run here, or None: it needs root, Debian, apt-get."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return "it needs root"
    if not Path("/etc/debian_version").is_file():
        return "it needs Debian"
    if shutil.which("apt-get") is None:
        return "it needs apt-get"
    return None


@nox.session(python=MAIN_PYTHON)
def slurm(session: nox.Session) -> None:
    """The tests marked `slurm` on a real Slurm cluster, brought up here when needed.

    ``OVERSEER_SLURM`` chooses the cluster. ``auto`` (the default): the one ``sinfo``
    reaches; when none answers, as root on Debian with apt-get, the one of
    ``scripts/slurm-cluster up``; else the session skips. ``up``: the script's cluster,
    brought up unless it runs. ``off``: never bring one up. A cluster the session brought
    up, it tears down at its end; one that was running stays.
    """
    mode = os.environ.get("OVERSEER_SLURM", "auto")
    if mode not in SLURM_MODES:
        session.error(f"OVERSEER_SLURM={mode!r} is not one of {', '.join(SLURM_MODES)}")
    if not _has_marked_tests("slurm"):
        session.skip("no test is marked slurm yet")
    bring_up = False
    if mode == "up":
        bring_up = _slurm_cluster("status").returncode != 0
    elif not _slurm_answers():
        found = "no sinfo" if shutil.which("sinfo") is None else "no Slurm controller answers"
        why_not = "OVERSEER_SLURM=off" if mode == "off" else _why_no_slurm_bring_up()
        if why_not is not None:
            session.skip(f"{found}, and no cluster is brought up here: {why_not}")
        bring_up = True
    _install(session, PACKAGES.values(), *_all_test_requirements(), *_all_extras())
    if bring_up:
        session.run(sys.executable, str(SLURM_CLUSTER), "up", external=True)
    try:
        # The script's cluster may not own /etc/slurm/slurm.conf: name its config.
        env = _slurm_cluster_env() if mode == "up" or bring_up else {}
        session.run(
            "python",
            "-m",
            "pytest",
            "-m",
            "slurm",
            *_test_folders(PACKAGES.values()),
            *session.posargs,
            env={**env, "OVERSEER_REQUIRE_SLURM": "1"},
            success_codes=[0, NO_TESTS_COLLECTED],
        )
    finally:
        if bring_up:
            session.run(sys.executable, str(SLURM_CLUSTER), "down", external=True)


@nox.session(python=MAIN_PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Every benchmark, through benchmarks/run.py, with each one's requirements.txt."""
    folder = ROOT / "benchmarks"
    if not any(folder.glob("*/run.py")):
        session.skip("no benchmarks/*/run.py yet")
    requirements = [f"--requirement={path}" for path in sorted(folder.glob("*/requirements.txt"))]
    _install(session, PACKAGES.values(), *requirements)
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python=MAIN_PYTHON, default=False)
def demo(session: nox.Session) -> None:
    """`suite demo`, the tour of the suite, once a package provides it."""
    if not any("demo" in p.commands for p in PACKAGES.values()):
        session.skip("no package declares an overseer.commands entry point named demo yet")
    _install(session, PACKAGES.values())
    session.run("suite", "demo", *session.posargs)
