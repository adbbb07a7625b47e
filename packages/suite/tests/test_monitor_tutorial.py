"""docs/tutorials/monitor.md runs as written, in a real terminal (tmux).

A ```python block with a ``title`` is a file, written where the title says. In a ```console
block, each ``$ suite tui ...`` command runs in a tmux pane of 140x30 and every line shown
after it must be on the screen, in order (whitespace squeezed, the folder's path dropped);
other commands run as subprocesses and the lines shown must start lines they print. The keys
of the tutorial's table must be the monitor's.
"""

from __future__ import annotations

import itertools
import operator
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

BORDERS = str.maketrans("", "", "▌▏▎▊")
# Each command gets a tmux server of its own: a new session on the socket of a server that is
# still exiting (after ``q`` or kill-server) fails with "server exited unexpectedly".
SOCKETS = itertools.count()

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def squeeze(line: str) -> str:
    """The line without the monitor's borders, spaces squeezed."""
    return re.sub(r"\s+", " ", line.translate(BORDERS)).strip()


@pytest.fixture
def page(tutorial: Any) -> Any:
    """The tutorial, whose shown lines are each within a printed line or a line on screen."""
    return tutorial("monitor.md", squeeze, matches=operator.contains)


def run_command(page: Any, command: Any, folder: Path) -> str:
    """Run ``suite tui ...`` in a terminal, ``suite xp ...`` as a subprocess: its output."""
    words = shlex.split(command.line)
    if words[:2] == ["suite", "tui"]:
        return run_in_terminal(page, command, folder)
    assert words[:2] == ["suite", "xp"], f"the tutorial runs suite xp and suite tui: {words}"
    argv = [sys.executable, "-m", "overseer_suite", *words[1:]]
    printed: str = page.run(command, argv, folder, environment(page, folder))
    return printed.replace(f"{folder}/", "")


def environment(page: Any, folder: Path) -> dict[str, str]:
    """The environment of a command: the tutorial's project importable, no terminal size."""
    env: dict[str, str] = page.environment(
        unset={"COLUMNS", "LINES", "OVERSEER_XP_DIR"}, PYTHONPATH=str(folder)
    )
    return env


def run_in_terminal(page: Any, command: Any, folder: Path) -> str:
    """Start the command in tmux; the screen once it shows what the tutorial shows.

    Fails if it does not within 30 s; else quits the monitor with ``q``.
    """
    tmux = ["tmux", "-S", str(folder / f".tmux-{next(SOCKETS)}.sock"), "-f", "/dev/null"]
    argv = [sys.executable, "-m", "overseer_suite", *shlex.split(command.line)[1:]]
    start = [*tmux, "new-session", "-d", "-s", "t", "-x", "140", "-y", "30", "-c", str(folder)]
    subprocess.run(
        [*start, shlex.join(argv)], env=environment(page, folder), check=True, timeout=30
    )
    screen = ""
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and page.missing(command, screen) is not None:
            time.sleep(0.1)
            capture = [*tmux, "capture-pane", "-p", "-t", "t"]
            text = subprocess.run(capture, capture_output=True, text=True, timeout=30).stdout
            screen = text.replace(f"{folder}/", "")
        page.assert_shown(command, screen)
        subprocess.run([*tmux, "send-keys", "-t", "t", "q"], check=True, timeout=30)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=30, check=False)
    return screen


def test_the_tutorial_runs_as_written(page: Any, tmp_path: Path) -> None:
    ran = page.run_through(tmp_path, run_command)
    assert len(ran) == 4, ran


def test_a_shown_line_missing_from_the_screen_fails(page: Any) -> None:
    [command] = page.commands("$ suite tui outputs\n  lr  0.1\n▌ done")
    page.assert_shown(command, "▏ lr    0.1  running\n▊  done ▎\n")
    with pytest.raises(AssertionError, match="not printed"):
        page.assert_shown(command, "▊  done ▎\n▏ lr    0.1  running\n")


def test_the_keys_of_its_table_are_the_monitor_s(page: Any) -> None:
    from overseer_tui.app import MonitorApp
    from overseer_tui.help_screen import TABLE_KEYS, describe_keys

    helped = " ".join(keys for keys, _ in [*describe_keys(MonitorApp.BINDINGS), *TABLE_KEYS])
    table = [line for line in page.text().splitlines() if line.startswith("| `")]
    keys = [key for row in table for key in re.findall(r"`([^`]+)`", row.split("|")[1])]
    assert len(keys) > 20
    missing = [key for key in keys if key not in helped]
    assert not missing, f"the tutorial names keys the monitor's help does not: {missing}"
