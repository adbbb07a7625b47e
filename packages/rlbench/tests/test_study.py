"""``rl study`` end to end: a real xpmanager grid of real training runs, an arena, a report.

These need overseer-xpmanager (the ``study`` extra) and overseer-instruments: they run in the
``torch`` session, where every package of the workspace is installed, and skip elsewhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from overseer_rlbench.checkpoint import latest_checkpoint, load_checkpoint
from overseer_rlbench.study.spec import threads_per_run

pytest.importorskip("overseer_xpmanager")
pytest.importorskip("overseer_instruments")  # each run is measured by --train-rate
pytestmark = pytest.mark.torch

TINY_STUDY = [
    "study",
    "--sizes",
    "3",
    "--presets",
    "tiny",
    "--samples",
    "1024,4096",
    "--simulations",
    "8",
    "--n-envs",
    "32",
    "--games",
    "16",
    "--bootstrap",
    "10",
    "-j",
    "2",
    "-O=--train-rate",
    "-O=--rate-interval=0.2",
    "-O=--cpu-monitor",
]  # the default flags, with a short rate window that gives the tiny runs a rate


def stops_of(xp_folder: Path) -> list[str]:
    """The values of the stop control records in the XP's event stream."""
    entries = [json.loads(line) for line in (xp_folder / "events.jsonl").read_text().splitlines()]
    return [entry["data"]["value"] for entry in entries if entry["event"] == "stop"]


def _study(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "overseer_rlbench", *TINY_STUDY, *extra],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_study_trains_rates_reports_and_reuses_its_runs(tmp_path: Path) -> None:
    first = _study(tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    store = tmp_path / "rl-study"
    document = json.loads((store / "study.json").read_text())
    runs = document["runs"]
    assert sorted(run["samples"] for run in runs) == [1024, 4096]
    for run in runs:
        assert run["elo_low"] <= run["elo"] <= run["elo_high"]
        assert run["flops"] > 0
        assert run["train_rate"] > 0  # the overseer's rate instrument measured the run
        assert (store / "xps" / run["sig"]).is_dir()
        # The overseer's early stop ended the run at its budget, inside the give of the
        # learner step that reached it; the trainer saved its checkpoint there.
        assert stops_of(store / "xps" / run["sig"]) == [
            f"early_stop: 'samples' reached {run['samples']} (at {run['samples']})"
        ]
        # Two runs at once share the cores: torch gets its share of threads in each.
        argv = json.loads((store / "xps" / run["sig"] / "argv.json").read_text())["argv"]
        assert f"--threads={threads_per_run(2)}" in argv
        latest = latest_checkpoint(store / "xps" / run["sig"])
        assert latest is not None
        assert load_checkpoint(latest).samples == run["samples"]
    assert (store / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "arena, 3x3" in first.stdout
    assert "perfect" in first.stdout  # the solver plays in the arena up to 4x4
    assert f"suite tui {store}" in first.stdout or f"OVERSEER_XP_DIR={store}" in first.stdout
    checkpoints = sorted(path.name for path in store.glob("xps/*/checkpoint-*.pt"))

    again = _study(tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count("skipped-completed") == 2
    assert sorted(path.name for path in store.glob("xps/*/checkpoint-*.pt")) == checkpoints


def test_an_unknown_preset_is_a_one_line_error(tmp_path: Path) -> None:
    done = _study(tmp_path, "--presets", "huge")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "rl: error: unknown preset huge: use some of tiny, xs, s, m, l, xl"
    ]
    assert not (tmp_path / "rl-study").exists()


def test_ctrl_c_keeps_finished_runs_and_the_next_study_picks_up_the_rest(tmp_path: Path) -> None:
    import os
    import signal
    import time

    command = [sys.executable, "-m", "overseer_rlbench", *TINY_STUDY]
    # A terminal's Ctrl-C reaches the whole foreground group: the study and what it started.
    study = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    jobs = tmp_path / "rl-study" / "xps"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and study.poll() is None:
        states = [json.loads(path.read_text()).get("state") for path in jobs.glob("*/job.json")]
        if "COMPLETED" in states and len(states) == 2:
            break
        time.sleep(0.1)
    assert study.poll() is None, "the study ended before a run completed: it could not be cut"
    finished = {path.parent.name for path in jobs.glob("*/exit.json")}
    checkpoints = {path: path.stat().st_mtime_ns for path in jobs.glob("*/checkpoint-*.pt")}
    os.killpg(study.pid, signal.SIGINT)
    _, stderr = study.communicate(timeout=120)
    assert study.returncode == 130
    assert "interrupted: finished runs are kept" in stderr
    assert "Traceback" not in stderr

    again = _study(tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count("skipped-completed") >= len(finished) >= 1
    document = json.loads((tmp_path / "rl-study" / "study.json").read_text())
    assert len(document["runs"]) == 2
    for path, modified in checkpoints.items():
        if path.parent.name in finished:
            assert path.stat().st_mtime_ns == modified  # a finished run was not trained again
