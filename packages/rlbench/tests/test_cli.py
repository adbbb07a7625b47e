"""The ``rl`` command as a user runs it: real processes, real training, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TINY_TRAINING = [
    "--size",
    "3",
    "--preset",
    "tiny",
    "--n-envs",
    "32",
    "--simulations",
    "8",
    "--batch-size",
    "64",
]


def _rl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "overseer_rlbench", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_train_then_rate_the_checkpoint_in_the_arena(tmp_path: Path) -> None:
    trained = _rl(
        "train",
        *TINY_TRAINING,
        "--samples",
        "3000",
        "--folder",
        "run",
        "--check-games",
        "20",
        cwd=tmp_path,
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "stopped by max_samples" in trained.stdout
    assert "against random play (greedy network, no search): won" in trained.stdout
    assert list((tmp_path / "run").glob("checkpoint-*.pt"))

    rated = _rl("arena", "run", "--games", "8", "--simulations", "4", "--mcts", "16", cwd=tmp_path)
    assert rated.returncode == 0, rated.stderr[-2000:]
    table = rated.stdout.splitlines()
    assert table[0] == "arena, 3x3, 8 games a pairing, random play at 0 Elo:"
    names = {line.split()[0] for line in table[2:]}
    assert names == {"random", "mcts-16", "run", "perfect"}


def test_training_resumes_from_its_folder(tmp_path: Path) -> None:
    first = _rl(
        "train",
        *TINY_TRAINING,
        "--samples",
        "1000",
        "--folder",
        "run",
        "--check-games",
        "0",
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr[-2000:]
    second = _rl(
        "train",
        *TINY_TRAINING,
        "--samples",
        "2000",
        "--folder",
        "run",
        "--check-games",
        "0",
        cwd=tmp_path,
    )
    assert second.returncode == 0, second.stderr[-2000:]
    # The budget counts the whole training: the second run adds about 1000 samples, not 2000.
    steps = sorted(
        int(path.stem.split("-")[1]) for path in (tmp_path / "run").glob("checkpoint-*.pt")
    )
    assert steps[-1] * 64 >= 2000
    assert steps[-1] * 64 < 2000 + 64


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--size", "0"], "argument --size: expected a positive integer, got '0'"),
        (
            ["arena", "nowhere"],
            "rl: error: nowhere does not exist: give checkpoint files or folders",
        ),
        (["arena"], "rl: error: no checkpoint and no --size: give checkpoints, or --size"),
        (["study", "--sizes", "3,,x"], "argument --sizes: expected a positive integer, got 'x'"),
        (["bench", "--sizes", "1"], "rl bench: error:"),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = _rl(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr.strip().splitlines()[-1]
    assert "Traceback" not in done.stderr


@pytest.mark.torch
def test_the_standard_rate_instrument_measures_training(run_overseer: Any, tmp_path: Path) -> None:
    pytest.importorskip("overseer_instruments")
    done = run_overseer(
        "--train-rate",
        "--rate-interval",
        "0.2",
        "-m",
        "overseer_rlbench",
        "train",
        *TINY_TRAINING,
        "--samples",
        "12000",
        "--check-games",
        "0",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rates = [record["rate"] for record in done.records if record.get("task") == "train"]
    assert rates, "no train rate in the stream"
    assert all(rate > 0 for rate in rates)


def test_the_study_runs_the_standard_monitors_when_they_are_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from overseer_rlbench.scaling import default_instruments
    from overseer_rlbench.study.spec import budget_flags

    pytest.importorskip("overseer_instruments")
    on_cpu, on_cuda = default_instruments("cpu"), default_instruments("cuda:0")
    assert on_cpu[:2] == ["--train-rate", "--cpu-monitor"]
    assert "--gpu-monitor" not in on_cpu
    assert on_cuda[: len(on_cpu)] == on_cpu
    assert "--gpu-monitor" in on_cuda
    assert budget_flags(800) == ["--early-stop-key=samples", "--early-stop-at=800"]
    # Without overseer-instruments, the runs get no flags its instruments would refuse.
    monkeypatch.setitem(sys.modules, "overseer_instruments", None)
    assert default_instruments("cuda:0") == budget_flags(800) == []
