"""Check the built wheels and sdists of the workspace against each package's pyproject.toml.

For every ``packages/*/pyproject.toml`` the folder of distributions must hold one sdist and
one wheel of that version, and the wheel must carry:

- ``py.typed`` beside each top-level package it ships (the packages are typed);
- in ``entry_points.txt``, exactly the ``[project.scripts]``, ``[project.gui-scripts]`` and
  ``[project.entry-points]`` tables of pyproject.toml (the suite's only wiring);
- in ``METADATA``, the name and version of pyproject.toml.

Usage::

    python tools/check_wheels.py DIST_FOLDER [PACKAGES_FOLDER]

Prints one line per problem and exits 1 if there is any, else prints what it checked.
"""

from __future__ import annotations

import configparser
import re
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

import tomllib

EntryPoints = dict[str, dict[str, str]]


def normalized(name: str) -> str:
    """The distribution name as wheel and sdist file names spell it.

    >>> normalized("overseer-core")
    'overseer_core'
    """
    return re.sub(r"[-_.]+", "_", name).lower()


def expected_entry_points(project: dict[str, Any]) -> EntryPoints:
    """The entry point groups a wheel of ``project`` must declare, by group then name."""
    groups: EntryPoints = {}
    if project.get("scripts"):
        groups["console_scripts"] = dict(project["scripts"])
    if project.get("gui-scripts"):
        groups["gui_scripts"] = dict(project["gui-scripts"])
    for group, entries in project.get("entry-points", {}).items():
        if entries:
            groups[group] = dict(entries)
    return groups


def declared_entry_points(text: str) -> EntryPoints:
    """Parse an ``entry_points.txt`` into groups of ``name -> object reference``."""
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    # Entry point names are case-sensitive: keep them as written.
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return {
        group: {name: value.strip() for name, value in parser.items(group)}
        for group in parser.sections()
    }


def top_level_packages(pyproject: dict[str, Any]) -> list[str]:
    """The import packages the wheel ships, from hatch's wheel target or the dist name."""
    wheel = pyproject.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {})
    configured = wheel.get("wheel", {}).get("packages", [])
    if configured:
        return [Path(path).name for path in configured]
    return [normalized(pyproject["project"]["name"])]


def check_wheel(wheel: Path, pyproject: dict[str, Any]) -> list[str]:
    """The problems of one wheel, each as a line naming the wheel."""
    project = pyproject["project"]
    dist_info = f"{normalized(project['name'])}-{project['version']}.dist-info"
    problems: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for package in top_level_packages(pyproject):
            if f"{package}/py.typed" not in names:
                problems.append(f"{wheel.name}: no {package}/py.typed (the package is typed)")
        metadata_name = f"{dist_info}/METADATA"
        if metadata_name not in names:
            return [*problems, f"{wheel.name}: no {metadata_name}"]
        metadata = HeaderParser().parsestr(archive.read(metadata_name).decode())
        if metadata["Version"] != project["version"]:
            problems.append(
                f"{wheel.name}: METADATA says version {metadata['Version']},"
                f" pyproject.toml says {project['version']}"
            )
        entry_points_name = f"{dist_info}/entry_points.txt"
        text = archive.read(entry_points_name).decode() if entry_points_name in names else ""
    declared = declared_entry_points(text)
    expected = expected_entry_points(project)
    if declared != expected:
        problems.append(
            f"{wheel.name}: entry_points.txt declares {declared},"
            f" pyproject.toml declares {expected}"
        )
    return problems


def check_sdist(sdist: Path, project: dict[str, Any]) -> list[str]:
    """The problems of one sdist: its PKG-INFO must carry pyproject's version."""
    root = f"{normalized(project['name'])}-{project['version']}"
    with tarfile.open(sdist) as archive:
        try:
            member = archive.extractfile(f"{root}/PKG-INFO")
        except KeyError:
            member = None
        if member is None:
            return [f"{sdist.name}: no {root}/PKG-INFO"]
        metadata = HeaderParser().parsestr(member.read().decode())
    if metadata["Version"] != project["version"]:
        return [f"{sdist.name}: PKG-INFO says version {metadata['Version']}"]
    return []


def check_package(dist_folder: Path, pyproject_path: Path) -> list[str]:
    """The problems of one package's wheel and sdist in ``dist_folder``."""
    pyproject = tomllib.loads(pyproject_path.read_text(encoding="utf-8"))
    project = pyproject["project"]
    stem = f"{normalized(project['name'])}-{project['version']}"
    wheels = sorted(dist_folder.glob(f"{stem}-*.whl"))
    sdists = sorted(dist_folder.glob(f"{stem}.tar.gz"))
    where = pyproject_path.parent.name
    problems: list[str] = []
    if len(wheels) != 1:
        problems.append(f"{where}: expected one {stem}-*.whl in {dist_folder}, found {len(wheels)}")
    if len(sdists) != 1:
        problems.append(f"{where}: expected {stem}.tar.gz in {dist_folder}, found {len(sdists)}")
    for wheel in wheels:
        problems.extend(check_wheel(wheel, pyproject))
    for sdist in sdists:
        problems.extend(check_sdist(sdist, project))
    return problems


def main(argv: list[str]) -> int:
    """Check every package's distributions; print the problems; 0 when there are none."""
    if len(argv) not in (1, 2):
        print("usage: python tools/check_wheels.py DIST_FOLDER [PACKAGES_FOLDER]", file=sys.stderr)
        return 2
    dist_folder = Path(argv[0])
    packages = Path(argv[1]) if len(argv) == 2 else Path(__file__).parents[1] / "packages"
    pyprojects = sorted(packages.glob("*/pyproject.toml"))
    if not pyprojects:
        print(f"no packages/*/pyproject.toml under {packages}: pass the packages folder")
        return 1
    problems = [line for path in pyprojects for line in check_package(dist_folder, path)]
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"checked the wheel and sdist of {len(pyprojects)} packages in {dist_folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
