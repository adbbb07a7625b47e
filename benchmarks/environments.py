"""Virtual environments for the peers of a comparison, kept under ``.bench/`` and rebuilt
only when what they should hold changes.

A benchmark folder's modules import this after putting ``benchmarks/`` on ``sys.path``::

    prepare(folder, sys.executable, "voir==0.2.24", [["install", "voir==0.2.24"]])
    versions, python = installed(folder, ("voir", "giving"))

``prepare`` writes a marker file naming the base interpreter's version and a key (the pins,
a digest of the sources); the environment is remade when either changes, and created anew
when the base interpreter's version differs from the one it was made with.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "bench-contents.txt"


def python_version(python: str | Path) -> str:
    """``sys.version`` of the interpreter ``python``."""
    return subprocess.run(
        [str(python), "-c", "import sys; print(sys.version)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def prepare(folder: Path, base_python: str, key: str, installs: Sequence[Sequence[str]]) -> None:
    """Make ``folder`` a venv of ``base_python`` holding what ``key`` names, unless it is one.

    Args:
        folder: the environment's folder.
        base_python: the interpreter it is made from.
        key: what it should hold (pins, source digests); a new key rebuilds it.
        installs: the ``pip`` argument lists that fill it, run in order.
    """
    contents = f"{python_version(base_python)}\n{key}\n"
    marker = folder / MARKER
    if marker.is_file() and marker.read_text() == contents:
        return
    python = folder / "bin" / "python"
    if python.exists() and python_version(python) != python_version(base_python):
        shutil.rmtree(folder)
    if not python.exists():
        print(f"bench: creating {folder.relative_to(ROOT)}", file=sys.stderr, flush=True)
        subprocess.run([base_python, "-m", "venv", str(folder)], check=True)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    for arguments in installs:
        subprocess.run([*pip, *arguments], check=True)
    marker.write_text(contents)


def installed(folder: Path, names: Sequence[str]) -> tuple[dict[str, str], str]:
    """The versions of the distributions ``names`` installed in ``folder``, and its Python's."""
    script = (
        "import importlib.metadata as m, json, sys\n"
        "found = {}\n"
        f"for name in {tuple(names)!r}:\n"
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
    return facts["versions"], facts["python"]


def source_digest(packages: Sequence[Path]) -> str:
    """A digest of what the wheels of the package folders ``packages`` are built from."""
    digest = hashlib.sha256()
    for package in packages:
        files = [package / "pyproject.toml", package / "README.md"]
        for path in [*files, *sorted((package / "src").rglob("*"))]:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(package.parent)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
