"""``suite tui`` in a real terminal: tmux runs it, types keys, and reads what a person sees."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

Terminal = Any  # conftest.Terminal: a program in a tmux session

MONITOR = [sys.executable, "-m", "overseer_tui"]


def test_a_store_of_real_runs_is_shown_and_driven_by_keys(
    terminal: Terminal, recorded_store: Path, recorded_names: list[str]
) -> None:
    terminal.start([*MONITOR, str(recorded_store)], cwd=recorded_store.parent)
    screen = terminal.wait_for("3 runs")
    for name in recorded_names:
        assert name in screen
    assert "completed" in screen
    assert "loss" in screen
    assert " lr " in screen  # the argument that differs between the runs is a column

    terminal.press("l")  # log y: the plot's title says so
    terminal.wait_for("log y")
    terminal.press("?")
    screen = terminal.wait_for("escape closes")
    terminal.press("Escape")
    before = terminal.wait_while("escape closes")
    terminal.press("/")
    terminal.wait_for("filter runs")
    terminal.press("amber", "Enter")
    screen = terminal.wait_for("1 of 3 runs")
    assert "amber-fjord" in screen
    assert "brave-otter" not in screen
    assert before != screen

    terminal.press("q")
    _wait_until_exited(terminal)


def test_a_grid_and_a_selector_narrow_the_runs(terminal: Terminal, recorded_store: Path) -> None:
    terminal.start([*MONITOR, str(recorded_store), "-g", "sweep", "lr>0.03"], cwd=Path.cwd())
    screen = terminal.wait_for("2 runs")
    assert "brave-otter" in screen
    assert "quiet-heron" in screen
    assert "amber-fjord" not in screen
    terminal.press("C-c")
    _wait_until_exited(terminal)


def test_a_script_is_run_under_the_overseer_and_watched_live(
    terminal: Terminal, train_script: Path
) -> None:
    terminal.start([*MONITOR, "--", str(train_script), "0.05"], cwd=train_script.parent)
    screen = terminal.wait_for("completed")
    assert "train" in screen
    assert "loss" in screen
    terminal.press("o")  # the log panel shows the script's output
    screen = terminal.wait_for("step 40: loss")
    terminal.press("q")
    _wait_until_exited(terminal)


def _wait_until_exited(terminal: Terminal, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if terminal.exited():
            return
        time.sleep(0.05)
    raise AssertionError(f"the monitor did not quit; the screen:\n{terminal.screen()}")


def test_overseer_dash_shows_the_script_live(terminal: Terminal, train_script: Path) -> None:
    command = [sys.executable, "-m", "overseer", "--dash", str(train_script), "0.1"]
    terminal.start(command, cwd=train_script.parent)
    screen = terminal.wait_for("completed")
    assert "train.py" in screen
    assert "loss" in screen
    terminal.press("q")
    _wait_until_exited(terminal)


@pytest.mark.torch
def test_a_real_rlbench_training_is_watched_live(terminal: Terminal, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("overseer_rlbench")
    train = ["-m", "overseer_rlbench", "train", "--size", "3", "--preset", "tiny"]
    budget = ["--samples", "6000", "--n-envs", "32", "--simulations", "8", "--folder", "run"]
    terminal.start([*MONITOR, "--", *train, *budget], cwd=tmp_path)
    screen = terminal.wait_for("loss", timeout=120)
    assert "overseer_rlbench" in screen
    screen = terminal.wait_for("completed", timeout=300)
    assert "policy_loss" in screen or "loss" in screen
    terminal.press("q")
    _wait_until_exited(terminal)
