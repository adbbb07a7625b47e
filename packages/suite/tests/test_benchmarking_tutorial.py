"""docs/tutorials/benchmarking.md runs as written: its files, then its commands, in order.

A ```python block with a ``title`` is a file, written where the title says in a fresh folder.
A ```console block holds commands (``$ ...``), each followed by what it prints. Each command
runs in bash in that folder, ``overseer`` as ``python -m overseer`` of this interpreter. It
must exit 0, or N when a line ``[exit status N]`` follows what it prints. Every other line
shown must be a whole line of what the command printed (stdout and stderr together), in
order; lines left out of the tutorial may lie between them. Only what changes from one run
to the next is a placeholder: the number before `` items/s`` at the end of a line (the rates
of the ``--verify`` checklist), and the numbers of ``"rate"``, ``"$t"`` and ``"$pid"`` in a
JSON record. Losses, step counts, names and spacing are compared as printed.
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

TUTORIAL = Path(__file__).resolve().parents[3] / "docs" / "tutorials" / "benchmarking.md"
FENCE = re.compile(r'^```(\w+)(?: title="([^"]+)")?\n(.*?)^```$', re.DOTALL | re.MULTILINE)
EXIT_STATUS = re.compile(r"^\[exit status (\d+)\]$")
VARYING = (
    (re.compile(r"\b\d+(?:\.\d+)? items/s$"), "<rate> items/s"),
    (re.compile(r'"(rate|\$t|\$pid)":[-+.\deE]+'), r'"\1":<number>'),
)

needs_tutorial = pytest.mark.skipif(
    not TUTORIAL.is_file(), reason=f"the docs folder is not here ({TUTORIAL} is missing)"
)


@dataclass
class Command:
    line: str
    expected: list[str] = field(default_factory=list)
    status: int = 0


def parse_console(body: str) -> list[Command]:
    commands: list[Command] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append(Command(line[2:]))
        elif found := EXIT_STATUS.match(line):
            commands[-1].status = int(found[1])
        elif line.strip():
            commands[-1].expected.append(line)
    return commands


def run_command(command: Command, folder: Path) -> str:
    line = command.line
    if line.split()[0] == "overseer":
        line = shlex.join([sys.executable, "-m", "overseer"]) + line[len("overseer") :]
    hidden = ("DATA_FD", "VOIRFILE", "OVERSEER_DATA_STDOUT")
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    done = subprocess.run(
        ["bash", "-c", line],
        cwd=folder,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == command.status, (
        f"{command.line}: exit {done.returncode}\n{done.stdout}"
    )
    return done.stdout


def normalise(line: str) -> str:
    line = line.rstrip()
    for pattern, placeholder in VARYING:
        line = pattern.sub(placeholder, line)
    return line


def assert_shown(command: Command, output: str) -> None:
    printed = [normalise(line) for line in output.splitlines()]
    position = 0
    for shown in command.expected:
        expected = normalise(shown)
        while position < len(printed) and printed[position] != expected:
            position += 1
        assert position < len(printed), f"{command.line}: {shown!r} not printed in\n{output}"
        position += 1


@pytest.mark.torch
@needs_tutorial
def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    ran = []
    for language, title, body in FENCE.findall(TUTORIAL.read_text(encoding="utf-8")):
        if language == "python" and title:
            (tmp_path / title).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / title).write_text(body, encoding="utf-8")
        elif language == "console":
            for command in parse_console(body):
                assert_shown(command, run_command(command, tmp_path))
                ran.append(command.line)
    assert sum(line.startswith("overseer --verify") for line in ran) == 3
    assert (tmp_path / "rates.jsonl").is_file()


def test_rates_times_and_pids_are_placeholders() -> None:
    shown = '{"task":"train","rate":14942.3591,"units":"items/s","$t":1796.5,"$pid":32053}'
    printed = '{"task":"train","rate":9.5e-05,"units":"items/s","$t":1801.25,"$pid":7}'
    assert normalise(shown) == normalise(printed)
    assert normalise("  train    21473.4 items/s") == normalise("  train    98.0 items/s")
    assert normalise("epoch 2: loss 0.01") != normalise("epoch 2: loss 0.02")
    assert normalise("  3 of 3 given.") != normalise("  2 of 3 given.")


def test_a_shown_line_missing_from_the_output_fails() -> None:
    [command] = parse_console("$ overseer --verify t.py\n  [x] loss\n  [x] use_cuda\n")
    assert command.status == 0
    assert_shown(command, "  [x] loss\n  [x] step + batch\n  [x] use_cuda\n")
    with pytest.raises(AssertionError, match="not printed"):
        assert_shown(command, "  [x] loss\n  [ ] use_cuda\n")
    [failing] = parse_console("$ overseer bad.py\n[exit status 2]\n")
    assert (failing.status, failing.expected) == (2, [])
