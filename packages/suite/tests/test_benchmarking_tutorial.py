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

import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

EXIT_STATUS = re.compile(r"^\[exit status (\d+)\]$")
VARYING = (
    (re.compile(r"\b\d+(?:\.\d+)? items/s$"), "<rate> items/s"),
    (re.compile(r'"(rate|\$t|\$pid)":[-+.\deE]+'), r'"\1":<number>'),
)
HIDDEN = ("DATA_FD", "VOIRFILE", "OVERSEER_DATA_STDOUT")


def normalise(line: str) -> str:
    """The line without its trailing spaces, with the ``VARYING`` placeholders put in."""
    line = line.rstrip()
    for pattern, placeholder in VARYING:
        line = pattern.sub(placeholder, line)
    return line


@pytest.fixture
def page(tutorial: Any) -> Any:
    """The tutorial, whose shown lines are printed lines, ``[exit status N]`` aside."""
    return tutorial("benchmarking.md", normalise, status_line=EXIT_STATUS)


def run_command(page: Any, command: Any, folder: Path) -> str:
    """Run the command line in bash, ``overseer`` this Python's; stdout and stderr."""
    line = command.line
    if line.split()[0] == "overseer":
        line = shlex.join([sys.executable, "-m", "overseer"]) + line[len("overseer") :]
    env = page.environment(unset=HIDDEN, PYTHONUNBUFFERED="1")
    printed: str = page.run(
        command, ["bash", "-c", line], folder, env, merge_stderr=True, timeout=120
    )
    return printed


@pytest.mark.torch
def test_the_tutorial_runs_as_written(page: Any, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    ran = page.run_through(tmp_path, run_command)
    assert sum(line.startswith("overseer --verify") for line in ran) == 3
    assert (tmp_path / "rates.jsonl").is_file()


def test_rates_times_and_pids_are_placeholders() -> None:
    shown = '{"task":"train","rate":14942.3591,"units":"items/s","$t":1796.5,"$pid":32053}'
    printed = '{"task":"train","rate":9.5e-05,"units":"items/s","$t":1801.25,"$pid":7}'
    assert normalise(shown) == normalise(printed)
    assert normalise("  train    21473.4 items/s") == normalise("  train    98.0 items/s")
    assert normalise("epoch 2: loss 0.01") != normalise("epoch 2: loss 0.02")
    assert normalise("  3 of 3 given.") != normalise("  2 of 3 given.")


def test_a_shown_line_missing_from_the_output_fails(page: Any) -> None:
    [command] = page.commands("$ overseer --verify t.py\n  [x] loss\n  [x] use_cuda\n")
    assert command.status == 0
    page.assert_shown(command, "  [x] loss\n  [x] step + batch\n  [x] use_cuda\n")
    with pytest.raises(AssertionError, match="not printed"):
        page.assert_shown(command, "  [x] loss\n  [ ] use_cuda\n")
    [failing] = page.commands("$ overseer bad.py\n[exit status 2]\n")
    assert (failing.status, failing.shown) == (2, [])
