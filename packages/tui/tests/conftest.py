"""Fixtures of overseer-tui's tests: a store of real runs, and a real terminal (tmux).

``recorded_store`` runs small training scripts under the real overseer, through
``overseer.runner.run_commands``, and records their entries in an XP store laid out as the
XP manager lays it out (``xps/<sig>/argv.json, meta.json, job.json, events.jsonl``, a grid).
``terminal`` starts a program in a detached tmux session and reads the screen a person sees.
``drive_app`` runs a Textual app headless and hands its pilot to a test's coroutine.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

TRAIN_SCRIPT = """\
import sys
from overseer import give

lr = float(sys.argv[1])
loss = 2.0
for step in range(1, 41):
    loss = loss * (1.0 - lr)
    give(step=step, loss=loss, progress=(step, 40))
    if step % 10 == 0:
        print(f"step {step}: loss {loss:.4f}", flush=True)
print("WARNING: finished early on purpose", file=sys.stderr, flush=True)
"""

#: The runs of the recorded store: signature, alias, learning rate.
RECORDED_RUNS = (
    ("a1b2c3d4e5f6", "brave-otter", 0.05),
    ("0f1e2d3c4b5a", "quiet-heron", 0.10),
    ("9a8b7c6d5e4f", "amber-fjord", 0.02),
)


def _record_run(store: Path, sig: str, alias: str, lr: float, script: Path, created: float) -> None:
    from overseer.runner import run_commands

    folder = store / "xps" / sig
    folder.mkdir(parents=True)
    argv = [f"--lr={lr}"]
    definition = {"argv": argv, "delta": {"lr": lr}, "config": {"lr": lr, "epochs": 40}}
    (folder / "argv.json").write_text(json.dumps({**definition, "backend": "argparse"}))
    (folder / "meta.json").write_text(json.dumps({"alias": alias, "created": created}))
    command = [sys.executable, "-m", "overseer", "--log-given", str(script), str(lr)]
    returncode = None
    with open(folder / "events.jsonl", "w", encoding="utf-8") as events:
        for entry in run_commands([command]):
            events.write(json.dumps(entry) + "\n")
            if entry["event"] == "end":
                returncode = entry["data"]["returncode"]
    state = "COMPLETED" if returncode == 0 else "FAILED"
    job = {"executor": "local", "job_id": f"local-{sig[:4]}", "state": state, "updated": created}
    (folder / "job.json").write_text(json.dumps(job))
    grid = store / "grids" / "sweep"
    grid.mkdir(parents=True, exist_ok=True)
    os.symlink(Path("..") / ".." / "xps" / sig, grid / sig)
    os.symlink(Path("..") / "xps" / sig, _aliases(store) / alias)


def _aliases(store: Path) -> Path:
    folder = store / "aliases"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def recorded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of three finished runs of a real script under the real overseer."""
    root = tmp_path_factory.mktemp("recorded")
    script = root / "train.py"
    script.write_text(TRAIN_SCRIPT)
    store = root / "store"
    for index, (sig, alias, lr) in enumerate(RECORDED_RUNS):
        _record_run(store, sig, alias, lr, script, created=1_800_000_000.0 + index)
    return store


@pytest.fixture
def train_script(tmp_path: Path) -> Path:
    """The training script of the recorded runs, in a fresh folder: ``train.py LR``."""
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    return script


@pytest.fixture(scope="session")
def recorded_names() -> list[str]:
    """The names of the recorded store's runs, oldest first."""
    return [alias for _, alias, _ in RECORDED_RUNS]


class Terminal:
    """A program in a detached tmux session: send it keys, read its screen."""

    def __init__(self, socket: Path, width: int, height: int) -> None:
        self.socket = socket
        self.width = width
        self.height = height
        self.session = "tui"

    def tmux(self, *args: str) -> str:
        command = ["tmux", "-S", str(self.socket), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        return done.stdout

    def start(self, command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        """Run ``command`` in a new session of the terminal's size."""
        size = ["-x", str(self.width), "-y", str(self.height)]
        exports = [f"{key}={value}" for key, value in (env or {}).items()]
        # COLUMNS and LINES, when inherited, override the pane's size in Rich and Textual.
        unset = ["-u", "COLUMNS", "-u", "LINES"]
        shell = " ".join(["env", *unset, *map(_quote, exports), *map(_quote, command)])
        # remain-on-exit keeps the pane after the program quits: its end is observable.
        self.tmux("new-session", "-d", "-s", self.session, *size, "-c", str(cwd), shell)
        self.tmux("set-option", "-t", self.session, "remain-on-exit", "on")
        # tmux holds an Escape 500 ms to see if a key follows (as Alt+key): not here.
        self.tmux("set-option", "-s", "escape-time", "0")

    def screen(self) -> str:
        """What the terminal shows now, one line per row."""
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """The screen once it shows ``text``; fails with the last screen after ``timeout``."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.05)
        pytest.fail(f"the terminal never showed {text!r}; it shows:\n{screen}")

    def wait_while(self, text: str, timeout: float = 10.0) -> str:
        """The screen once it no longer shows ``text``."""
        deadline = time.monotonic() + timeout
        screen = self.screen()
        while text in screen and time.monotonic() < deadline:
            time.sleep(0.05)
            screen = self.screen()
        if text in screen:
            pytest.fail(f"the terminal still shows {text!r} after {timeout} s:\n{screen}")
        return screen

    def wait_until_changed(self, before: str, timeout: float = 10.0) -> str:
        """The screen once it differs from ``before``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen != before:
                return screen
            time.sleep(0.05)
        pytest.fail(f"the screen did not change after a key; it shows:\n{before}")

    def press(self, *keys: str) -> None:
        """Type keys as tmux names them (``j``, ``Space``, ``C-c``)."""
        self.tmux("send-keys", "-t", self.session, *keys)

    def exited(self) -> bool:
        """Whether the program in the pane has ended."""
        return self.tmux("display-message", "-p", "-t", self.session, "#{pane_dead}").strip() == "1"

    def close(self) -> None:
        self.tmux("kill-server")


def _quote(word: str) -> str:
    import shlex

    return shlex.quote(word)


def _ensure_tmux() -> str | None:
    """tmux's path, installed from the system's packages when missing and allowed."""
    found = shutil.which("tmux")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        install = ["apt-get", "install", "-y", "-q", "tmux"]
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(install, capture_output=True, env=environment, timeout=600, check=False)
    return shutil.which("tmux")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """A 120x40 tmux terminal of its own (its own server socket), killed after the test."""
    if _ensure_tmux() is None:
        pytest.skip("tmux is not installed and cannot be installed here (needs root and apt-get)")
    term = Terminal(tmp_path / "tmux.sock", 120, 40)
    try:
        yield term
    finally:
        term.close()


DriveApp = Callable[[App[Any], tuple[int, int], Callable[[Pilot[Any]], Awaitable[None]]], None]


def _drive(
    app: App[Any], size: tuple[int, int], body: Callable[[Pilot[Any]], Awaitable[None]]
) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await body(pilot)

    asyncio.run(main())


@pytest.fixture
def drive_app() -> DriveApp:
    """Run an app headless: ``drive_app(app, (width, height), body)`` awaits ``body(pilot)``.

    ``body`` is a coroutine function taking the pilot; it runs once the app has mounted and
    settled, and the app exits after it.
    """
    return _drive
