"""docs/tutorials/monitor.md runs as written, in a real terminal (tmux).

A ```python block with a ``title`` is a file, written where the title says. In a ```console
block, each ``$ suite tui ...`` command runs in a tmux pane of 140x30 and every line shown
after it must be on the screen, in order (whitespace squeezed, the folder's path dropped);
other commands run as subprocesses and the lines shown must start lines they print. The keys
of the tutorial's table must be the monitor's.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[3] / "docs" / "tutorials" / "monitor.md"
FENCE = re.compile(r'^```(\w+)(?: title="([^"]+)")?\n(.*?)^```$', re.DOTALL | re.MULTILINE)
BORDERS = str.maketrans("", "", "▌▏▎▊")

pytestmark = [
    pytest.mark.skipif(not TUTORIAL.is_file(), reason=f"{TUTORIAL} is not here"),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def squeeze(line: str, folder: Path) -> str:
    line = line.replace(f"{folder}/", "").translate(BORDERS)
    return re.sub(r"\s+", " ", line).strip()


def console_commands(body: str) -> list[tuple[str, list[str]]]:
    commands: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif line.strip():
            commands[-1][1].append(line)
    return commands


def environment(folder: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    env.pop("OVERSEER_XP_DIR", None)
    return {**env, "PYTHONPATH": str(folder)}


def run_in_terminal(words: list[str], shown: list[str], folder: Path) -> None:
    socket = folder / ".tmux.sock"
    tmux = ["tmux", "-S", str(socket)]
    command = shlex.join([sys.executable, "-m", "overseer_suite", *words[1:]])
    env = environment(folder)
    start = [*tmux, "new-session", "-d", "-s", "t", "-x", "140", "-y", "30", "-c", str(folder)]
    subprocess.run([*start, command], env=env, check=True, timeout=30)
    expected = [squeeze(line, folder) for line in shown]
    screen: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            capture = [*tmux, "capture-pane", "-p", "-t", "t"]
            text = subprocess.run(capture, capture_output=True, text=True, timeout=30).stdout
            screen = [squeeze(line, folder) for line in text.splitlines()]
            if in_order(expected, screen):
                break
            time.sleep(0.1)
        assert in_order(expected, screen), f"{shlex.join(words)} shows:\n" + "\n".join(screen)
        subprocess.run([*tmux, "send-keys", "-t", "t", "q"], check=True, timeout=30)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=30, check=False)


def in_order(expected: list[str], screen: list[str]) -> bool:
    position = 0
    for wanted in expected:
        while position < len(screen) and wanted not in screen[position]:
            position += 1
        if position == len(screen):
            return False
        position += 1
    return True


def run_in_shell(words: list[str], shown: list[str], folder: Path) -> None:
    assert words[:2] == ["suite", "xp"], f"the tutorial runs suite xp and suite tui: {words}"
    argv = [sys.executable, "-m", "overseer_suite", *words[1:]]
    done = subprocess.run(
        argv, cwd=folder, env=environment(folder), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{shlex.join(words)}\n{done.stdout}\n{done.stderr}"
    printed = [squeeze(line, folder) for line in done.stdout.splitlines()]
    assert in_order([squeeze(line, folder) for line in shown], printed), done.stdout


def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    ran = []
    for language, title, body in FENCE.findall(TUTORIAL.read_text(encoding="utf-8")):
        if language == "python" and title:
            path = tmp_path / title
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
        elif language == "console":
            for line, shown in console_commands(body):
                words = shlex.split(line)
                if words[:2] == ["suite", "tui"]:
                    run_in_terminal(words, shown, tmp_path)
                else:
                    run_in_shell(words, shown, tmp_path)
                ran.append(line)
    assert len(ran) == 4, ran


def test_the_keys_of_its_table_are_the_monitor_s() -> None:
    from overseer_tui.app import MonitorApp
    from overseer_tui.help_screen import TABLE_KEYS, describe_keys

    helped = " ".join(keys for keys, _ in [*describe_keys(MonitorApp.BINDINGS), *TABLE_KEYS])
    text = TUTORIAL.read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("| `")]
    keys = [key for row in table for key in re.findall(r"`([^`]+)`", row.split("|")[1])]
    assert len(keys) > 20
    missing = [key for key in keys if key not in helped]
    assert not missing, f"the tutorial names keys the monitor's help does not: {missing}"
