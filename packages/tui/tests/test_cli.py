"""``suite tui``'s command line: where the store is, and one clear line for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from overseer_tui.cli import default_store, split_words
from overseer_tui.errors import TuiError


def run_tui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "overseer_tui", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["missing/store"], "folder 'missing/store' does not exist"),
        (["."], "holds no XP store (no xps/ in it)"),
        (["--interval", "0"], "is not a number of seconds from 0.05 to 3600"),
        (["--"], "nothing after --: give the script"),
        (["--", "nope.py"], "'nope.py' is not a file"),
        (["STORE", "-g", "nogrid"], "no grid 'nogrid'"),
        (["STORE", "lr="], "not understood"),
        (["STORE", "status=bogus"], "names no status: give one of pending, running"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    (tmp_path / "store" / "xps").mkdir(parents=True)
    (tmp_path / "store" / "grids" / "sweep").mkdir(parents=True)
    args = [str(tmp_path / "store") if arg == "STORE" else arg for arg in args]
    done = run_tui(*args, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert expected in lines[-1], done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # nothing drawn: the screen was never taken


def test_the_store_is_the_environment_s_else_outputs_else_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OVERSEER_XP_DIR", raising=False)
    assert default_store(tmp_path) == tmp_path / "outputs"
    (tmp_path / "xps").mkdir()
    assert default_store(tmp_path) == tmp_path
    (tmp_path / "outputs" / "xps").mkdir(parents=True)
    assert default_store(tmp_path) == tmp_path / "outputs"
    monkeypatch.setenv("OVERSEER_XP_DIR", str(tmp_path / "elsewhere"))
    assert default_store(tmp_path) == tmp_path / "elsewhere"


def test_the_first_word_is_the_store_when_it_holds_xps(tmp_path: Path) -> None:
    (tmp_path / "study" / "xps").mkdir(parents=True)
    root, selectors = split_words(["study", "-1", "lr=3e-4"], cwd=tmp_path)
    assert root == tmp_path / "study"
    assert selectors == ["-1", "lr=3e-4"]
    with pytest.raises(TuiError, match="holds no XP store"):
        split_words(["."], cwd=tmp_path)


def test_a_script_is_watched_alone(tmp_path: Path) -> None:
    done = run_tui("-g", "sweep", "--", "train.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "is watched alone" in done.stderr
