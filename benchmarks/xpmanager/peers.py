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

from dataclasses import dataclass
from pathlib import Path

from environments import installed, prepare
from environments import source_digest as sources_digest

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / ".bench"
PACKAGES = (ROOT / "packages" / "overseer", ROOT / "packages" / "xpmanager")
SHARED_PINS = ("torch==2.13.0+cpu", "hydra-core==1.3.8", "omegaconf==2.3.1")
DORA_REQUIREMENTS = ("dora-search==0.1.13", *SHARED_PINS)
REPORTED = ("dora-search", "overseer-xpmanager", "overseer-core", "torch", "hydra-core")


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
    installs = [["install", "--prefer-binary", *DORA_REQUIREMENTS]]
    prepare(folder, base_python, " ".join(DORA_REQUIREMENTS), installs)
    return _inspect("dora", folder)


def overseer_peer(base_python: str) -> Peer:
    """The environment holding overseer-core and overseer-xpmanager from ``packages/``."""
    folder = BENCH_DIR / "venv-xpmanager"
    sources = [str(path) for path in PACKAGES]
    installs = [
        # The same version number may hold new code: reinstall it whatever pip thinks.
        ["install", "--force-reinstall", "--no-deps", *sources],
        ["install", "--prefer-binary", *sources, *SHARED_PINS],
    ]
    prepare(folder, base_python, " ".join(SHARED_PINS) + " " + source_digest(), installs)
    return _inspect("overseer", folder)


def source_digest() -> str:
    """A digest of what the wheels of overseer-core and overseer-xpmanager are built from."""
    return sources_digest(PACKAGES)


def _inspect(name: str, folder: Path) -> Peer:
    versions, python = installed(folder, REPORTED)
    return Peer(name, folder, versions, python.split()[0])
