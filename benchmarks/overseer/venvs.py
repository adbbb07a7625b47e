"""The two virtual environments the comparison runs in, one per peer, kept under ``.bench/``.

voir and overseer-core never share an interpreter: both hook ``giving``, and each would see
the other's hooks. Both environments are made from the same Python, and both pin the
``giving`` and ``ptera`` versions voir 0.2.24 is measured with, so what differs between them
is the code on top. An environment is rebuilt only when what it should hold changes: the
Python, the pins, or (for overseer-core) any file of ``packages/overseer``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / ".bench"
OVERSEER_PACKAGE = ROOT / "packages" / "overseer"
SHARED_PINS = ("giving==0.4.3", "ptera==1.4.1")
VOIR_REQUIREMENTS = ("voir==0.2.24", *SHARED_PINS)
REPORTED_DISTRIBUTIONS = ("voir", "overseer-core", "giving", "ptera", "reactivex")
_MARKER = "bench-contents.txt"


@dataclass(frozen=True)
class Venv:
    """A virtual environment made for one peer.

    Attributes:
        peer: ``voir`` or ``overseer``.
        folder: the environment's folder.
        versions: the reported distributions installed in it, by name.
        python_version: ``sys.version`` of its interpreter.
    """

    peer: str
    folder: Path
    versions: dict[str, str]
    python_version: str

    @property
    def python(self) -> Path:
        """The environment's interpreter."""
        return self.command("python")

    def command(self, name: str) -> Path:
        """A console script installed in the environment (``voir``, ``overseer``)."""
        return self.folder / "bin" / name


def voir_venv(base_python: str) -> Venv:
    """The environment holding voir 0.2.24, giving 0.4.3 and ptera 1.4.1 from PyPI."""
    folder = BENCH_DIR / "venv-voir"
    contents = _describe(base_python, " ".join(VOIR_REQUIREMENTS))
    if _needs_build(folder, contents):
        _create(folder, base_python)
        _pip(folder, "install", *VOIR_REQUIREMENTS)
        (folder / _MARKER).write_text(contents)
    return _inspect("voir", folder)


def overseer_venv(base_python: str) -> Venv:
    """The environment holding overseer-core, installed (not editable) from packages/overseer."""
    folder = BENCH_DIR / "venv-overseer"
    contents = _describe(base_python, " ".join(SHARED_PINS) + " " + source_digest())
    if _needs_build(folder, contents):
        _create(folder, base_python)
        # The same version number may hold new code: reinstall it whatever pip thinks.
        _pip(folder, "install", "--force-reinstall", "--no-deps", str(OVERSEER_PACKAGE))
        _pip(folder, "install", str(OVERSEER_PACKAGE), *SHARED_PINS)
        (folder / _MARKER).write_text(contents)
    return _inspect("overseer", folder)


def _describe(base_python: str, requirements: str) -> str:
    version = subprocess.run(
        [base_python, "-c", "import sys; print(sys.version)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{version}\n{requirements}\n"


def _needs_build(folder: Path, contents: str) -> bool:
    marker = folder / _MARKER
    return not marker.is_file() or marker.read_text() != contents


def _create(folder: Path, base_python: str) -> None:
    python = folder / "bin" / "python"
    if python.exists() and _version_of(python) != _version_of(Path(base_python)):
        shutil.rmtree(folder)
    if not python.exists():
        print(f"bench: creating {folder.relative_to(ROOT)}", file=sys.stderr, flush=True)
        subprocess.run([base_python, "-m", "venv", str(folder)], check=True)


def _version_of(python: Path) -> str:
    return subprocess.run(
        [str(python), "-c", "import sys; print(sys.version)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _pip(folder: Path, *arguments: str) -> None:
    command = [str(folder / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*command, "--quiet", *arguments], check=True)


def source_digest() -> str:
    """A digest of what a wheel of packages/overseer is built from."""
    digest = hashlib.sha256()
    files = [OVERSEER_PACKAGE / "pyproject.toml", OVERSEER_PACKAGE / "README.md"]
    files += sorted((OVERSEER_PACKAGE / "src").rglob("*"))
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(OVERSEER_PACKAGE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _inspect(peer: str, folder: Path) -> Venv:
    script = (
        "import importlib.metadata as m, json, sys\n"
        "found = {}\n"
        f"for name in {REPORTED_DISTRIBUTIONS!r}:\n"
        "    try:\n"
        "        found[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        pass\n"
        "print(json.dumps({'versions': found, 'python': sys.version}))\n"
    )
    output = subprocess.run(
        [str(folder / "bin" / "python"), "-c", script],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    facts = json.loads(output)
    return Venv(peer, folder, facts["versions"], facts["python"])
