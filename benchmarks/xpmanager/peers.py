"""The two virtual environments the comparison runs in, one per peer, kept under ``.bench/``.

Both are made from the same Python and hold the same torch, hydra-core and omegaconf, so what
differs between them is the XP manager on top: ``dora-search`` from PyPI in one,
overseer-core and overseer-xpmanager built from ``packages/`` (not editable) in the other.
torch is in both although overseer-xpmanager never needs it: that is how the benchmark tells
that the ``info`` command does not import it when it could. An environment is rebuilt only
when what it should hold changes: the Python, the pins, or (for ours) a file of the two
packages.

torch is pinned to its CPU build, ``2.13.0+cpu``, a wheel the machine's pip finds on local
disk (``PIP_FIND_LINKS``): PyPI has no such version, so a machine without that wheel stops
with pip's "no matching distribution" at once instead of downloading a CUDA build.
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
PACKAGES = (ROOT / "packages" / "overseer", ROOT / "packages" / "xpmanager")
SHARED_PINS = ("torch==2.13.0+cpu", "hydra-core==1.3.8", "omegaconf==2.3.1")
DORA_REQUIREMENTS = ("dora-search==0.1.13", *SHARED_PINS)
REPORTED = ("dora-search", "overseer-xpmanager", "overseer-core", "torch", "hydra-core")
_MARKER = "bench-contents.txt"


@dataclass(frozen=True)
class Peer:
    """One side of the comparison and the environment it runs in.

    Attributes:
        name: ``dora`` or ``overseer``.
        folder: the environment's folder.
        versions: the reported distributions installed in it, by name.
        python_version: the version of its interpreter.
    """

    name: str
    folder: Path
    versions: dict[str, str]
    python_version: str

    @property
    def python(self) -> Path:
        """The environment's interpreter."""
        return self.folder / "bin" / "python"

    def command(self, *arguments: str) -> list[str]:
        """The peer's command line: ``dora ...`` or ``python -m overseer_xpmanager ...``."""
        if self.name == "dora":
            return [str(self.folder / "bin" / "dora"), *arguments]
        return [str(self.python), "-m", "overseer_xpmanager", *arguments]

    def module_command(self, *python_options: str) -> list[str]:
        """The same command run as a module, after options for Python (``-X importtime``)."""
        module = "dora" if self.name == "dora" else "overseer_xpmanager"
        return [str(self.python), *python_options, "-m", module]


def dora_peer(base_python: str) -> Peer:
    """The environment holding dora-search 0.1.13 from PyPI and the shared pins."""
    folder = BENCH_DIR / "venv-dora"
    contents = _describe(base_python, " ".join(DORA_REQUIREMENTS))
    if _needs_build(folder, contents):
        _create(folder, base_python)
        _pip(folder, "install", "--prefer-binary", *DORA_REQUIREMENTS)
        (folder / _MARKER).write_text(contents)
    return _inspect("dora", folder)


def overseer_peer(base_python: str) -> Peer:
    """The environment holding overseer-core and overseer-xpmanager from ``packages/``."""
    folder = BENCH_DIR / "venv-xpmanager"
    contents = _describe(base_python, " ".join(SHARED_PINS) + " " + source_digest())
    if _needs_build(folder, contents):
        _create(folder, base_python)
        sources = [str(path) for path in PACKAGES]
        # The same version number may hold new code: reinstall it whatever pip thinks.
        _pip(folder, "install", "--force-reinstall", "--no-deps", *sources)
        _pip(folder, "install", "--prefer-binary", *sources, *SHARED_PINS)
        (folder / _MARKER).write_text(contents)
    return _inspect("overseer", folder)


def source_digest() -> str:
    """A digest of what the wheels of overseer-core and overseer-xpmanager are built from."""
    digest = hashlib.sha256()
    for package in PACKAGES:
        files = [package / "pyproject.toml", package / "README.md"]
        for path in [*files, *sorted((package / "src").rglob("*"))]:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(package.parent)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _describe(base_python: str, requirements: str) -> str:
    return f"{_version_of(base_python)}\n{requirements}\n"


def _needs_build(folder: Path, contents: str) -> bool:
    marker = folder / _MARKER
    return not marker.is_file() or marker.read_text() != contents


def _create(folder: Path, base_python: str) -> None:
    python = folder / "bin" / "python"
    if python.exists() and _version_of(str(python)) != _version_of(base_python):
        shutil.rmtree(folder)
    if not python.exists():
        print(f"bench: creating {folder.relative_to(ROOT)}", file=sys.stderr, flush=True)
        subprocess.run([base_python, "-m", "venv", str(folder)], check=True)


def _version_of(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import sys; print(sys.version)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _pip(folder: Path, *arguments: str) -> None:
    command = [str(folder / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*command, "--quiet", *arguments], check=True)


def _inspect(name: str, folder: Path) -> Peer:
    script = (
        "import importlib.metadata as m, json, sys\n"
        "found = {}\n"
        f"for name in {REPORTED!r}:\n"
        "    try:\n"
        "        found[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        pass\n"
        "print(json.dumps({'versions': found, 'python': sys.version.split()[0]}))\n"
    )
    output = subprocess.run(
        [str(folder / "bin" / "python"), "-c", script],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    facts = json.loads(output)
    return Peer(name, folder, facts["versions"], facts["python"])
