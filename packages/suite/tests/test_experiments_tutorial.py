"""docs/tutorials/experiments.md runs as written: its files, then its commands, in order.

A ```python block with a ``title`` is a file of the project, written where the title says. A
```console block holds commands (``$ ...``) each followed by what it prints: every shown line
must start one printed line, in order. Paths are compared relative to the tutorial's folder;
job ids, ages and the widths of table columns, which change from run to run, are compared
as placeholders. ```sh blocks need a Slurm cluster and are only
checked to name real subcommands and flags.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[3] / "docs" / "tutorials" / "experiments.md"
FENCE = re.compile(r'^```(\w+)(?: title="([^"]+)")?\n(.*?)^```$', re.DOTALL | re.MULTILINE)

needs_tutorial = pytest.mark.skipif(
    not TUTORIAL.is_file(), reason=f"the docs folder is not here ({TUTORIAL} is missing)"
)


@dataclass
class Command:
    line: str
    expected: list[str] = field(default_factory=list)


def parse_console(body: str) -> list[Command]:
    commands: list[Command] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append(Command(line[2:]))
        elif line.strip():
            commands[-1].expected.append(line.rstrip())
    return commands


def run_command(command: Command, folder: Path) -> str:
    words = shlex.split(command.line)
    assert words[:2] == ["suite", "xp"], f"the tutorial runs `suite xp` only: {command.line}"
    argv = [sys.executable, "-m", "overseer_suite", *words[1:]]
    env = {**os.environ, "PYTHONPATH": str(folder)}
    env.pop("OVERSEER_XP_DIR", None)
    done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command.line}\n{done.stdout}\n{done.stderr}"
    return done.stdout.replace(f"{folder}/", "")


def normalise(line: str) -> str:
    line = re.sub(r"local-\d+", "local-N", line)
    line = re.sub(r"\b\d+[smhd](?:\d{2}[smh])?\b", "<age>", line)
    line = re.sub(r"-{2,}", "--", line)
    return re.sub(r"\s+", " ", line).strip()


def assert_shown(command: Command, output: str) -> None:
    printed = [normalise(line) for line in output.splitlines()]
    position = 0
    for shown in command.expected:
        expected = normalise(shown)
        while position < len(printed) and not printed[position].startswith(expected):
            position += 1
        assert position < len(printed), f"{command.line}: {shown!r} not printed in\n{output}"
        position += 1


@needs_tutorial
def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    ran = 0
    for language, title, body in FENCE.findall(TUTORIAL.read_text(encoding="utf-8")):
        if language == "python" and title:
            (tmp_path / title).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / title).write_text(body, encoding="utf-8")
        elif language == "console":
            for command in parse_console(body):
                assert_shown(command, run_command(command, tmp_path))
                ran += 1
    assert ran >= 5
    # The grid's four XPs and the first run's one: five folders, no duplicate.
    assert len(list((tmp_path / "outputs" / "xps").iterdir())) == 5


@needs_tutorial
def test_the_cluster_commands_parse() -> None:
    from overseer_xpmanager.cli import build_parser

    parser = build_parser()
    for language, _title, body in FENCE.findall(TUTORIAL.read_text(encoding="utf-8")):
        if language != "sh":
            continue
        for line in body.splitlines():
            words = shlex.split(line)
            assert words[:2] == ["suite", "xp"], line
            args = parser.parse_args(words[2:])
            assert args.executor == "slurm", line


def test_ages_job_ids_and_column_widths_are_placeholders() -> None:
    shown = "0  neat-finch  COMPLETED (marker, 7s)   local-5668  ------  0.05"
    printed = "0 neat-finch COMPLETED (marker, 3m05s) local-77 ---- 0.05"
    assert normalise(shown) == normalise(printed)
    assert normalise("loss 0.0025") != normalise("loss 0.0026")


def test_a_shown_line_missing_from_the_output_fails() -> None:
    command = Command("suite xp info -1", ["XP 123", "  state:   COMPLETED"])
    assert_shown(command, "XP 123 (a-b)\n  state:   COMPLETED (marker)\n")
    with pytest.raises(AssertionError, match="not printed"):
        assert_shown(command, "XP 123 (a-b)\n  state:   FAILED\n")
