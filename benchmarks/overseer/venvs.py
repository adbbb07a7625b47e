"""The two virtual environments the comparison runs in, one per peer, kept under ``.bench/``.

voir and overseer-core never share an interpreter: both hook ``giving``, and each would see
the other's hooks. Both environments are made from the same Python, and both pin the
``giving`` and ``ptera`` versions voir 0.2.24 is measured with, so what differs between them
is the code on top. An environment is rebuilt only when what it should hold changes: the
Python, the pins, or (for overseer-core) any file of ``packages/overseer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from environments import installed, prepare
from environments import source_digest as sources_digest

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / ".bench"
OVERSEER_PACKAGE = ROOT / "packages" / "overseer"
SHARED_PINS = ("giving==0.4.3", "ptera==1.4.1")
VOIR_REQUIREMENTS = ("voir==0.2.24", *SHARED_PINS)
REPORTED_DISTRIBUTIONS = ("voir", "overseer-core", "giving", "ptera", "reactivex")


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
    prepare(folder, base_python, " ".join(VOIR_REQUIREMENTS), [["install", *VOIR_REQUIREMENTS]])
    return _inspect("voir", folder)


def overseer_venv(base_python: str) -> Venv:
    """The environment holding overseer-core, installed (not editable) from packages/overseer."""
    folder = BENCH_DIR / "venv-overseer"
    package = str(OVERSEER_PACKAGE)
    installs = [
        # The same version number may hold new code: reinstall it whatever pip thinks.
        ["install", "--force-reinstall", "--no-deps", package],
        ["install", package, *SHARED_PINS],
    ]
    prepare(folder, base_python, " ".join(SHARED_PINS) + " " + source_digest(), installs)
    return _inspect("overseer", folder)


def source_digest() -> str:
    """A digest of what a wheel of packages/overseer is built from."""
    return sources_digest([OVERSEER_PACKAGE])


def _inspect(peer: str, folder: Path) -> Venv:
    versions, python = installed(folder, REPORTED_DISTRIBUTIONS)
    return Venv(peer, folder, versions, python)
