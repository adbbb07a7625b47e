"""``--dash-panel`` (and ``--dash`` without overseer-tui): every key given, its latest value.

Run in a pipe, the panel is written once at the end; run in a real pseudo-terminal, it is
drawn live with the script's lines above it.
"""

from __future__ import annotations

import math
import os
import pty
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from overseer_instruments.dash import summary

Run = Callable[..., Any]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
ROWS = [
    ("loss", "0.03333", "30"),
    ("step", "29", "30"),
    ("progress", "(30, 30)", "30"),
    ("phase", "warm", "30"),
    ("sizes", "list of 20: 0, 1, 2, …", "30"),
    ("weights", "Array (64, 3) float32", "30"),
]


def table_rows(text: str) -> list[tuple[str, ...]]:
    """The rows of the last panel drawn in ``text``, as (key, latest, given)."""
    last = text.rsplit(" records given", 1)[-1]
    found = []
    for line in last.splitlines():
        cells = tuple(cell for cell in re.split(r"\s{2,}", line.strip()) if cell)
        if len(cells) == 3 and cells[0] not in ("key",):
            found.append(cells)
    return found


def test_in_a_pipe_the_panel_is_written_once_at_the_end(run_overseer: Run) -> None:
    done = run_overseer("--dash-panel", "dash_values.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "step 0\nstep 10\nstep 20\ndone\n"
    assert done.stderr.count("records given") == 1
    assert re.search(r"^dash_values\.py · \d+ s · 60 records given", done.stderr, re.MULTILINE)
    assert table_rows(done.stderr) == ROWS


def run_in_terminal(argv: list[str], folder: Path, timeout: float = 60) -> str:
    """Run ``argv`` with stdout and stderr on a pseudo-terminal; all it wrote, ANSI removed."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "LINES": "40", "TERM": "xterm-256color"}
    env.pop("DATA_FD", None)
    process = subprocess.Popen(
        argv, cwd=folder, stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=10) == 0
    return ANSI.sub("", b"".join(chunks).decode("utf-8", errors="replace"))


def test_on_a_terminal_the_panel_is_live_and_the_scripts_lines_go_above(workdir: Path) -> None:
    command = [sys.executable, "-m", "overseer", "--dash-panel", "dash_values.py"]
    screen = run_in_terminal(command, workdir)
    # Drawn at the start and the end, and redrawn while the script ran (four times a second
    # over at least 0.6 s).
    counts = [int(n) for n in re.findall(r"· (\d+) records given", screen)]
    assert any(0 < count < 60 for count in counts), counts
    assert counts == sorted(counts)
    assert counts[-1] == 60
    assert table_rows(screen) == ROWS
    for line in ("step 0", "step 10", "step 20", "done"):
        assert line in screen


def test_dash_falls_back_to_the_panel_without_overseer_tui(run_overseer: Run) -> None:
    from importlib.metadata import entry_points

    if any(point.name == "tui" for point in entry_points(group="overseer.commands")):
        pytest.skip("overseer-tui is installed: --dash opens its monitor (its tests drive it)")
    done = run_overseer("--dash", "dash_values.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("done\n")
    assert table_rows(done.stderr) == ROWS


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.000123456, "0.0001235"),
        (2.0, "2"),
        (math.nan, "nan"),
        (12345678, "12,345,678"),
        (True, "True"),
        (None, "None"),
        ("a  long\nline " * 20, ("a long line " * 5)[:59] + "…"),
        ((3, 10), "(3, 10)"),
        (list(range(100)), "list of 100: 0, 1, 2, …"),
        ({"lr": 0.1}, "{'lr': 0.1}"),
    ],
)
def test_values_are_summarised_in_one_short_line(value: Any, text: str) -> None:
    assert summary(value) == text
