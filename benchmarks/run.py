"""Run every benchmark: each ``benchmarks/<name>/run.py``, in a fresh process, by name.

    python benchmarks/run.py                    # all of them, from a fresh clone too
    python benchmarks/run.py --only overseer    # only benchmarks/overseer/run.py
    python benchmarks/run.py --quick            # other arguments go to every benchmark

Each benchmark builds the environments it needs (under ``.bench/``) and writes its own
section of ``benchmarks/RESULTS.md``. The exit status is 1 if any benchmark failed.
``nox -s bench`` runs this script in an environment holding every workspace package.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks(only: list[str]) -> list[Path]:
    """The ``run.py`` of every benchmark folder, or of those named in ``only``."""
    found = sorted(HERE.glob("*/run.py"))
    if not only:
        return found
    unknown = sorted(set(only) - {path.parent.name for path in found})
    if unknown:
        names = ", ".join(path.parent.name for path in found) or "none"
        message = f"no benchmark named {', '.join(unknown)}: pick among {names}"
        raise SystemExit(message)
    return [path for path in found if path.parent.name in only]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks one after the other; return 1 if any failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    options, passed = parser.parse_known_args(argv)
    failed = []
    for script in benchmarks(options.only):
        print(f"== {script.parent.name}", file=sys.stderr, flush=True)
        status = subprocess.run([sys.executable, str(script), *passed], check=False).returncode
        if status != 0:
            failed.append(f"{script.parent.name} (exit status {status})")
    if failed:
        print(f"benchmarks failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
