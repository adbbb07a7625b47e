"""Check an environment where the whole suite is installed: the wiring by entry points works.

- Every package of the workspace is installed.
- Every entry point of the installed ``overseer-*`` distributions in the groups
  ``overseer.commands``, ``overseer.instruments`` and ``console_scripts`` loads.
- ``suite --help`` succeeds and names every installed ``overseer.commands`` entry point.

Usage::

    python tools/check_entry_points.py [PACKAGES_FOLDER]

Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution, distributions
from pathlib import Path

import tomllib

GROUPS = ("overseer.commands", "overseer.instruments", "console_scripts")
PREFIX = "overseer-"


def workspace_dists(packages: Path) -> list[str]:
    """The distribution names declared under ``packages/*/pyproject.toml``."""
    return [
        tomllib.loads(path.read_text(encoding="utf-8"))["project"]["name"]
        for path in sorted(packages.glob("*/pyproject.toml"))
    ]


def missing_dists(names: list[str]) -> list[str]:
    """A problem line for each distribution of ``names`` that is not installed."""
    problems = []
    for name in names:
        try:
            distribution(name)
        except PackageNotFoundError:
            problems.append(f"{name} is not installed in {sys.prefix}")
    return problems


def entry_point_problems() -> tuple[list[str], list[str]]:
    """Load every entry point of the suite's groups; return the problems and command names."""
    problems: list[str] = []
    commands: list[str] = []
    seen: set[str] = set()
    for dist in distributions():
        name = dist.metadata["Name"] or ""
        # A distribution found twice on sys.path is one install: check its first copy.
        if not name.lower().startswith(PREFIX) or name.lower() in seen:
            continue
        seen.add(name.lower())
        for entry_point in dist.entry_points:
            if entry_point.group not in GROUPS:
                continue
            if entry_point.group == "overseer.commands":
                commands.append(entry_point.name)
            try:
                entry_point.load()
            except Exception as error:
                # Whatever a plugin raises while loading is the finding: catch it all.
                problems.append(
                    f"{name}: [{entry_point.group}] {entry_point.name} = {entry_point.value}"
                    f" does not load: {type(error).__name__}: {error}"
                )
    return problems, sorted(commands)


def suite_help_problems(commands: list[str]) -> list[str]:
    """Run ``suite --help``; a problem for a failure and for each command it does not name."""
    executable = shutil.which("suite")
    if executable is None:
        return ["the suite command is not installed: install packages/suite (overseer-suite)"]
    done = subprocess.run(
        [executable, "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    print(done.stdout, end="")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [""])[-1]
        return [f"suite --help exited with {done.returncode}: {last}"]
    return [
        f"suite --help does not list the installed command {command!r}"
        for command in commands
        if not re.search(rf"(?<![\w-]){re.escape(command)}(?![\w-])", done.stdout)
    ]


def main(argv: list[str]) -> int:
    """Run every check; print the problems; 0 when there are none."""
    packages = Path(argv[0]) if argv else Path(__file__).parents[1] / "packages"
    problems = missing_dists(workspace_dists(packages))
    loading, commands = entry_point_problems()
    problems += loading
    problems += suite_help_problems(commands)
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"every entry point loads; suite --help lists {len(commands)} commands: {commands}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
