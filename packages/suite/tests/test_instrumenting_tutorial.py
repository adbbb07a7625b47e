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

import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

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
HIDDEN = ("COLUMNS", "LINES", "DATA_FD", "OVERSEER_DATA_STDOUT", "VOIRFILE", "RANK", "SLURM_PROCID")

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def normalise(line: str) -> str:
    """The line with its ``PLACEHOLDERS`` put in, spaces squeezed."""
    for pattern, placeholder in PLACEHOLDERS:
        line = pattern.sub(placeholder, line)
    return re.sub(r"\s+", " ", line).strip()


@pytest.fixture
def page(tutorial: Any) -> Any:
    """The tutorial, whose shown lines are printed lines."""
    return tutorial("instrumenting.md", normalise)


def run_command(page: Any, command: Any, folder: Path) -> str:
    """Run the command line in bash, ``overseer`` and ``python`` this Python; its output."""
    assert command.shown, f"$ {command.line} shows no output"
    env = page.environment(unset=HIDDEN, TUTORIAL_PYTHON=sys.executable, PYTHONUNBUFFERED="1")
    argv = ["bash", "-c", PRELUDE + command.line]
    printed: str = page.run(command, argv, folder, env, merge_stderr=True, timeout=120)
    return printed


@needs_bash
def test_the_tutorial_runs_as_written(page: Any, tmp_path: Path) -> None:
    ran = page.run_through(tmp_path, run_command)
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


def test_a_shown_line_missing_from_the_output_fails(page: Any) -> None:
    [command] = page.commands("$ overseer train.py\nepoch 0: loss 1.4961\nw = 2.378, b = 1.042\n")
    page.assert_shown(command, "epoch 0: loss 1.4961\nepoch 1: loss 0.5683\nw = 2.378, b = 1.042\n")
    with pytest.raises(AssertionError, match="not printed"):
        page.assert_shown(command, "w = 2.378, b = 1.042\nepoch 0: loss 1.4961\n")
