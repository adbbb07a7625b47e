"""The porting promise, checked: the Dora project and ours differ only in their import lines.

``projects/dora`` and ``projects/overseer`` hold the same two projects (``argproj``,
``hydraproj``) file for file. :func:`project_differences` lists the lines that differ and
stops the benchmark if one of them is anything but ``from dora import ...`` against
``from overseer_xpmanager import ...`` of the same names::

    project_differences(PROJECTS / "dora", PROJECTS / "overseer")
    # [{"file": "argproj/train.py", "dora": "from dora import argparse_main, get_xp",
    #   "overseer": "from overseer_xpmanager import argparse_main, get_xp"}, ...]
"""

from __future__ import annotations

from pathlib import Path

_IMPORTS = {"dora": "from dora import ", "overseer": "from overseer_xpmanager import "}


def project_differences(dora: Path, overseer: Path) -> list[dict[str, str]]:
    """The lines in which the two trees differ, each an import of the same names.

    Raises:
        SystemExit: the trees hold different files, or differ in anything but imports.
    """
    files = {_relative(dora), _relative(overseer)}
    if len(files) != 1:
        message = f"{dora} and {overseer} do not hold the same files: {sorted(files)}"
        raise SystemExit(message)
    differences = []
    for name in files.pop():
        dora_lines = (dora / name).read_text().splitlines()
        our_lines = (overseer / name).read_text().splitlines()
        if len(dora_lines) != len(our_lines):
            raise SystemExit(f"{name} has a different number of lines in the two projects")
        for ours, theirs in zip(our_lines, dora_lines, strict=True):
            if ours != theirs:
                _check_import(name, theirs, ours)
                differences.append({"file": name, "dora": theirs, "overseer": ours})
    return differences


def _relative(root: Path) -> tuple[str, ...]:
    paths = (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return tuple(sorted(str(path.relative_to(root)) for path in paths))


def _check_import(name: str, dora_line: str, our_line: str) -> None:
    dora_names = dora_line.removeprefix(_IMPORTS["dora"])
    our_names = our_line.removeprefix(_IMPORTS["overseer"])
    same_names = dora_names == our_names and dora_line != dora_names and our_line != our_names
    if not same_names:
        message = (
            f"{name} differs in more than its import: {dora_line!r} (Dora) against "
            f"{our_line!r}; the projects must stay the same but for that line"
        )
        raise SystemExit(message)
