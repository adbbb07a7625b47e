"""docs/tutorials/instrumenting.md runs as written: its files, then its commands, in order.

A ```python block with a ``title`` is a file, written in the tutorial's folder when the
block is reached; a later block with the same title replaces it, as the tutorial says. A
```console block holds commands (``$ ...``), each followed by what it prints. Each command
runs in bash, in that folder, with ``overseer`` and ``python`` standing for this Python
(``python -m overseer``), so the packages under test are the ones used; it must exit with
status 0 (a block that shows another status does it with ``; echo "exit status $?"``).
stdout and stderr are read together, unbuffered, as a terminal shows them; the environment
has no ``COLUMNS`` (help is 80 columns wide), and none of the variables that steer the data
stream (``DATA_FD``, ``OVERSEER_DATA_STDOUT``, ``RANK``, ``SLURM_PROCID``) or the voirfile.

Every line shown must be a line printed, in order; lines printed and not shown are allowed
(the tutorial cuts long outputs short). Before comparing, runs of spaces become one, and
only what changes from run to run is a placeholder: in JSON records, the values of ``"$t"``,
``"$pid"`` and ``"rate"`` and the contents of ``"cpudata"``; elsewhere, a number before
``items/s``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[3] / "docs" / "tutorials" / "instrumenting.md"
FENCE = re.compile(r"^```(\w+)((?: [\w-]+=\"[^\"]*\")*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
TITLE = re.compile(r' title="([^"]+)"')
# `overseer` and `python` in a command line are this interpreter, whatever PATH holds.
PRELUDE = (
    'overseer() { "$TUTORIAL_PYTHON" -m overseer "$@"; }\npython() { "$TUTORIAL_PYTHON" "$@"; }\n'
)
NUMBER = r"-?[0-9][0-9.e+-]*"
PLACEHOLDERS = [
    (re.compile(rf'"(\$t|\$pid|rate)":{NUMBER}'), r'"\1":N'),
    (re.compile(r'"cpudata":\{[^{}]*\}'), '"cpudata":{...}'),
    (re.compile(rf"\b{NUMBER} items/s"), "N items/s"),
]

needs_tutorial = pytest.mark.skipif(
    not TUTORIAL.is_file(), reason=f"the docs folder is not here ({TUTORIAL} is missing)"
)
needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


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
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    env.update(TUTORIAL_PYTHON=sys.executable, PYTHONUNBUFFERED="1")
    for name in ("DATA_FD", "OVERSEER_DATA_STDOUT", "VOIRFILE", "RANK", "SLURM_PROCID"):
        env.pop(name, None)
    done = subprocess.run(
        ["bash", "-c", PRELUDE + command.line],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"$ {command.line} exited with {done.returncode}:\n{done.stdout}"
    return done.stdout


def normalise(line: str) -> str:
    for pattern, placeholder in PLACEHOLDERS:
        line = pattern.sub(placeholder, line)
    return re.sub(r"\s+", " ", line).strip()


def assert_shown(command: Command, output: str) -> None:
    printed = [normalise(line) for line in output.splitlines()]
    position = 0
    for shown in command.expected:
        expected = normalise(shown)
        while position < len(printed) and printed[position] != expected:
            position += 1
        assert position < len(printed), f"$ {command.line}: {shown!r} not printed in\n{output}"
        position += 1


@needs_tutorial
@needs_bash
def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    ran = []
    for language, attributes, body in FENCE.findall(TUTORIAL.read_text(encoding="utf-8")):
        title = TITLE.search(attributes)
        if language == "python" and title:
            path = tmp_path / title.group(1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
        elif language == "console":
            for command in parse_console(body):
                assert command.expected, f"$ {command.line} shows no output"
                assert_shown(command, run_command(command, tmp_path))
                ran.append(command.line)
    assert len(ran) >= 9, ran
    assert (tmp_path / "data.jsonl").is_file()


def test_only_what_varies_is_a_placeholder() -> None:
    shown = '{"task":"train","rate":734.9,"units":"items/s","$t":1796092805.64,"$pid":31484}'
    printed = '{"task":"train","rate":1.2e+03,"units":"items/s","$t":1796092999.1,"$pid":7}'
    assert normalise(shown) == normalise(printed)
    cpu = '{"cpudata":{"load":0.5,"per_cpu":[0.5,0.5],"memory":[1,2]},"task":"main"}'
    assert normalise(cpu) == normalise('{"cpudata":{"load":1.0,"memory":[3,4]},"task":"main"}')
    assert normalise("  train    730.4 items/s") == normalise("train 12 items/s")
    assert normalise('{"loss":1.548,"$rank":0}') != normalise('{"loss":1.549,"$rank":0}')
    assert normalise("epoch 0: loss 1.4961") != normalise("epoch 0: loss 1.4962")


def test_a_shown_line_missing_from_the_output_fails() -> None:
    command = Command("overseer train.py", ["epoch 0: loss 1.4961", "w = 2.378, b = 1.042"])
    assert_shown(command, "epoch 0: loss 1.4961\nepoch 1: loss 0.5683\nw = 2.378, b = 1.042\n")
    with pytest.raises(AssertionError, match="not printed"):
        assert_shown(command, "w = 2.378, b = 1.042\nepoch 0: loss 1.4961\n")
