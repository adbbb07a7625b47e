"""docs/tutorials/experiments.md runs as written: its files, then its commands, in order.

A ```python block with a ``title`` is a file of the project, written where the title says. A
```console block holds commands (``$ ...``) each followed by what it prints: every shown line
must start one printed line, in order. Paths are compared relative to the tutorial's folder;
job ids, ages and the widths of table columns, which change from run to run, are compared
as placeholders. ```sh blocks need a Slurm cluster and are only
checked to name real subcommands and flags.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest


def normalise(line: str) -> str:
    """The line with job ids, ages and column widths as placeholders, spaces squeezed."""
    line = re.sub(r"local-\d+", "local-N", line)
    line = re.sub(r"\b\d+[smhd](?:\d{2}[smh])?\b", "<age>", line)
    line = re.sub(r"-{2,}", "--", line)
    return re.sub(r"\s+", " ", line).strip()


@pytest.fixture
def page(tutorial: Any) -> Any:
    """The tutorial, whose shown lines start printed ones."""
    return tutorial("experiments.md", normalise, matches=str.startswith)


def run_command(page: Any, command: Any, folder: Path) -> str:
    """Run ``suite xp ...`` as this Python's ``-m overseer_suite``; its paths made relative."""
    words = shlex.split(command.line)
    assert words[:2] == ["suite", "xp"], f"the tutorial runs `suite xp` only: {command.line}"
    argv = [sys.executable, "-m", "overseer_suite", *words[1:]]
    env = page.environment(unset={"OVERSEER_XP_DIR"}, PYTHONPATH=str(folder))
    printed: str = page.run(command, argv, folder, env)
    return printed.replace(f"{folder}/", "")


def test_the_tutorial_runs_as_written(page: Any, tmp_path: Path) -> None:
    assert len(page.run_through(tmp_path, run_command)) >= 5
    # The grid's four XPs and the first run's one: five folders, no duplicate.
    assert len(list((tmp_path / "outputs" / "xps").iterdir())) == 5


def test_the_cluster_commands_parse(page: Any) -> None:
    from overseer_xpmanager.cli import build_parser

    parser = build_parser()
    for block in page.blocks():
        if block.language != "sh":
            continue
        for line in block.body.splitlines():
            words = shlex.split(line)
            assert words[:2] == ["suite", "xp"], line
            args = parser.parse_args(words[2:])
            assert args.executor == "slurm", line


def test_ages_job_ids_and_column_widths_are_placeholders() -> None:
    shown = "0  neat-finch  COMPLETED (marker, 7s)   local-5668  ------  0.05"
    printed = "0 neat-finch COMPLETED (marker, 3m05s) local-77 ---- 0.05"
    assert normalise(shown) == normalise(printed)
    assert normalise("loss 0.0025") != normalise("loss 0.0026")


def test_a_shown_line_missing_from_the_output_fails(page: Any) -> None:
    [command] = page.commands("$ suite xp info -1\nXP 123\n  state:   COMPLETED\n")
    page.assert_shown(command, "XP 123 (a-b)\n  state:   COMPLETED (marker)\n")
    with pytest.raises(AssertionError, match="not printed"):
        page.assert_shown(command, "XP 123 (a-b)\n  state:   FAILED\n")
