"""progress draws live bars when stderr is a real terminal, and nothing under a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

BAR = "━"
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(screen: str) -> str:
    """The text drawn, without colours and cursor moves."""
    return ESCAPE.sub("", screen)


def run_in_terminal(workdir: Path, *args: str, timeout: float = 60) -> tuple[int, str]:
    """Run ``python -m overseer ARGS`` with a pseudo-terminal as stdin, stdout and stderr."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_FD", "NO_COLOR", "VOIRFILE")}
    process = subprocess.Popen(
        [sys.executable, "-m", "overseer", *args],
        cwd=workdir,
        env={**env, "TERM": "xterm-256color", "PYTHONUNBUFFERED": "1"},
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has exited
                break
            if not chunk:
                break
            output += chunk
        returncode = process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    return returncode, output.decode(errors="replace")


def test_bars_are_drawn_on_a_terminal(workdir: Path) -> None:
    returncode, screen = run_in_terminal(workdir, "--progress", "progress_tasks.py")
    assert returncode == 0, screen
    assert f"train {BAR}" in plain(screen)
    assert "40/40" in plain(screen)
    assert f"valid {BAR}" in plain(screen)
    assert "10/10" in plain(screen)
    # A record whose progress is not (i, n) gets no bar and breaks nothing.
    assert "malformed" not in screen
    # The script's own lines still show, and the cursor is given back at the end.
    assert "halfway there" in screen
    assert "rich loaded: True" in screen
    assert screen.index(HIDE_CURSOR) < screen.rindex(SHOW_CURSOR)


def test_early_stop_progress_has_its_bar(workdir: Path) -> None:
    returncode, screen = run_in_terminal(
        workdir, "--progress", "--early-stop-n", "10", "stopping_steps.py", "1000", "0.01"
    )
    assert returncode == 0, screen
    assert "last step given: 9" in screen
    assert f"early_stop {BAR}" in plain(screen)
    assert "10/10" in plain(screen)


def test_without_the_flag_a_terminal_shows_no_bar(workdir: Path) -> None:
    returncode, screen = run_in_terminal(workdir, "progress_tasks.py")
    assert returncode == 0, screen
    assert "halfway there" in screen
    assert BAR not in screen
    assert "rich loaded: False" in screen


def test_under_a_pipe_nothing_is_drawn_and_rich_is_not_loaded(run_overseer: Any) -> None:
    finished = run_overseer("--progress", "--early-stop-n", "30", "progress_tasks.py")
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines() == ["halfway there", "rich loaded: False"]
    assert BAR not in finished.stderr
    assert "\x1b" not in finished.stderr
