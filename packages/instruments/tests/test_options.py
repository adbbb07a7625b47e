"""--argparse gives and writes the options a real script parses, once, without changing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.mark.parametrize("log_given", [False, True])
def test_the_script_options_are_given_and_written_once(run_overseer: Any, log_given: bool) -> None:
    flags = ["--argparse", "--log-given"] if log_given else ["--argparse"]
    finished = run_overseer(*flags, "options_train.py", "mnist", "--lr", "0.5", "--progress")
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "training on mnist with lr=0.5 for 10 epochs\n"
    assert finished.data("options") == [
        {
            "dataset": "mnist",
            "lr": 0.5,
            "epochs": 10,
            "output": {"$repr": "PosixPath('runs')"},
            "progress": True,
        }
    ]


def test_the_overseer_flags_never_appear(run_overseer: Any) -> None:
    finished = run_overseer(
        "--argparse", "--early-stop-n", "1000", "--log", "loss", "options_train.py", "cifar"
    )
    assert finished.returncode == 0, finished.stderr
    [options] = finished.data("options")
    assert sorted(options) == ["dataset", "epochs", "lr", "output", "progress"]
    assert options["progress"] is False


def test_a_script_parsing_twice_gives_the_first_options(run_overseer: Any) -> None:
    finished = run_overseer(
        "--argparse", "options_twice.py", "--seed", "3", "train", "--batch", "8", "--verbose"
    )
    assert finished.returncode == 0, finished.stderr
    assert "command=train batch=8 seed=3 rest=['--verbose']" in finished.stdout
    # The subcommand's parser runs inside the first parse: its options are part of it.
    assert finished.data("options") == [{"seed": 3, "command": "train", "batch": 8}]


def test_a_script_without_argparse_gives_nothing(run_overseer: Any) -> None:
    finished = run_overseer("--argparse", "--log-given", "options_none.py", "--lr", "1")
    assert finished.returncode == 0, finished.stderr
    assert finished.data("arguments") == [["--lr", "1"]]
    assert finished.data("options") == []


def test_a_parse_that_fails_gives_nothing(run_overseer: Any) -> None:
    finished = run_overseer("--argparse", "options_train.py", "--lr", "fast")
    assert finished.returncode == 2
    assert "argument --lr: invalid float value: 'fast'" in finished.stderr
    assert finished.data("options") == []


def test_without_the_flag_nothing_is_given(run_overseer: Any) -> None:
    finished = run_overseer("--log-given", "options_train.py", "mnist")
    assert finished.returncode == 0, finished.stderr
    assert finished.data("options") == []


def test_argparse_is_restored_when_the_script_ends(run_overseer: Any, workdir: Path) -> None:
    (workdir / "voirfile.py").write_text(
        "import argparse\n\n\n"
        "def instrument_check(ov):\n"
        "    yield ov.phases.finalize\n"
        "    wrapped = [name for name in ('parse_args', 'parse_known_args')\n"
        "               if hasattr(vars(argparse.ArgumentParser)[name], '__wrapped__')]\n"
        "    print(f'wrapped after the script: {wrapped}')\n"
        "    argparse.ArgumentParser().parse_args([])\n"
    )
    finished = run_overseer("--argparse", "options_train.py", "mnist")
    assert finished.returncode == 0, finished.stderr
    assert "wrapped after the script: []" in finished.stdout
    assert len(finished.data("options")) == 1
