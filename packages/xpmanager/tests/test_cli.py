"""The ``xp`` command end to end on the argproj test project, with the local executor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from overseer_xpmanager.store import Store


def xp(
    *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "overseer_xpmanager", "-P", "argproj", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("xp: error: ")
    return lines[0]


def test_run_makes_the_xp_and_runs_it_under_the_overseer(xp_env: Path) -> None:
    done = xp("run", "--", "--lr=0.01", "--epochs=2")
    assert done.returncode == 0, done.stderr
    (xp_,) = Store(xp_env).xps()
    assert f"running XP {xp_.sig} ({xp_.alias})" in done.stdout
    assert "epoch 1 loss 0.0050" in done.stdout
    assert [entry["epoch"] for entry in xp_.link.history] == [0, 1]
    events = [json.loads(line) for line in xp_.events_path.read_text().splitlines()]
    assert {"start", "phase", "line", "end"} <= {event["event"] for event in events}
    assert any(event["event"] == "data" and event["data"].get("loss") for event in events)
    job = xp_.job()
    assert job is not None
    assert job.state.value == "COMPLETED"
    assert job.returncode == 0


def test_the_same_xp_asked_twice_runs_in_one_folder_and_resumes(xp_env: Path) -> None:
    assert xp("run", "--", "--lr=0.01", "--epochs=2").returncode == 0
    again = xp("run", "--", "--epochs=2", "--lr=0.010", "--num_workers=7", "--batch_size=32")
    assert again.returncode == 0, again.stderr
    assert "resuming from epoch 2" in again.stdout
    assert len(Store(xp_env).sigs()) == 1


def test_a_failing_run_exits_with_the_program_status(xp_env: Path) -> None:
    done = xp("run", "--", "--crash")
    assert done.returncode == 3
    assert "crashing as asked" in done.stderr
    (xp_,) = Store(xp_env).xps()
    job = xp_.job()
    assert job is not None
    assert job.state.value == "FAILED"
    assert job.returncode == 3
    assert len(xp_.link.history) == 1


def test_an_unknown_argument_is_a_one_line_error_and_makes_nothing(xp_env: Path) -> None:
    line = one_line_error(xp("run", "--", "--lr=0.1", "--learning_rate=3"))
    assert "--learning_rate" in line
    assert Store(xp_env).sigs() == []


def test_info_finds_xps_by_signature_alias_glob_and_latest(xp_env: Path) -> None:
    assert xp("run", "--", "--epochs=1").returncode == 0
    assert xp("run", "--", "--epochs=1", "--lr=0.5").returncode == 0
    old, new = Store(xp_env).xps()
    for selector, expected in [
        (old.sig, old),
        (old.sig[:6], old),
        (new.alias, new),
        ("-1", new),
        ("-2", old),
    ]:
        done = xp("info", selector)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"XP {expected.sig} ({expected.alias})\n")
        assert "COMPLETED" in done.stdout
    glob = xp("info", "?" + new.alias[1:], "-m")
    assert f"XP {new.sig}" in glob.stdout
    assert "metrics[1]:" in glob.stdout
    assert xp("info", "--folder", "-f", old.alias).stdout.strip() == str(old.folder)


def test_info_by_arguments_and_the_listing(xp_env: Path) -> None:
    assert xp("run", "--", "--epochs=1").returncode == 0
    (only,) = Store(xp_env).xps()
    assert xp("info", "--", "--epochs=1").stdout.startswith(f"XP {only.sig}")
    listing = xp("info")
    assert only.sig in listing.stdout
    assert "1 XPs in" in listing.stdout


def test_selectors_that_match_nothing_or_several_are_one_line_errors(xp_env: Path) -> None:
    assert xp("run", "--", "--epochs=1").returncode == 0
    assert xp("run", "--", "--epochs=1", "--lr=0.5").returncode == 0
    assert "no XP matches 'nothing-here'" in one_line_error(xp("info", "-f", "nothing-here"))
    assert "matches 2 XPs" in one_line_error(xp("info", "-f", "*"))
    assert "no XP matches '-3'" in one_line_error(xp("run", "-f", "-3"))


def test_from_sig_starts_from_another_xp_s_arguments(xp_env: Path) -> None:
    assert xp("run", "--", "--epochs=1", "--lr=0.5").returncode == 0
    base = Store(xp_env).find("-1")
    assert xp("run", "-f", base.alias, "--", "--batch_size=8").returncode == 0
    derived = Store(xp_env).find("-1")
    assert derived.delta == {"epochs": 1, "lr": 0.5, "batch_size": 8}


def test_export_then_import_moves_xps_to_another_store(xp_env: Path, tmp_path: Path) -> None:
    assert xp("run", "--", "--epochs=1", "--lr=0.5").returncode == 0
    exported = xp("export", "-1")
    assert exported.returncode == 0, exported.stderr
    document = tmp_path / "xps.json"
    document.write_text(exported.stdout)
    other = tmp_path / "other"
    imported = xp("--dir", str(other), "import", str(document))
    assert imported.returncode == 0, imported.stderr
    (moved,) = Store(other).xps()
    assert moved.sig == Store(xp_env).find("-1").sig
    assert f"imported XP {moved.sig}" in imported.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"xps": 3}')
    assert "is not a document of `suite xp export`" in one_line_error(xp("import", str(bad)))


def test_launch_schedules_in_the_background_and_info_follows_it(xp_env: Path) -> None:
    done = xp("launch", "--no_tail", "--", "--epochs=2", "--sleep=0.5")
    assert done.returncode == 0, done.stderr
    assert "submitted" in done.stdout
    followed = xp("info", "-1", "-t")
    assert followed.returncode == 0, followed.stderr
    assert "epoch 1 loss" in followed.stdout
    again = xp("launch", "--no_tail", "--", "--epochs=2", "--sleep=0.5")
    assert "skipped-completed" in again.stdout
    rerun = xp("launch", "-D", "--", "--epochs=2", "--sleep=0.5")
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming from epoch 2" in rerun.stdout


def test_launch_cancel_stops_a_running_job(xp_env: Path) -> None:
    assert xp("launch", "--no_tail", "--", "--epochs=50", "--sleep=0.5").returncode == 0
    cancelled = xp("launch", "-C", "--", "--epochs=50", "--sleep=0.5")
    assert cancelled.returncode == 0, cancelled.stderr
    assert "cancelled job" in cancelled.stdout
    job = Store(xp_env).find("-1").job()
    assert job is not None
    assert job.state.value == "CANCELLED"


def test_a_grid_file_that_raises_shows_its_traceback_and_schedules_nothing(xp_env: Path) -> None:
    done = xp("grid", "broken")
    assert done.returncode == 2
    first, *_rest = done.stderr.strip().splitlines()
    assert first.startswith("xp: error: ")
    assert "ValueError" in first
    assert "Traceback" in done.stderr
    assert "broken.py" in done.stderr
    assert Store(xp_env).sigs() == []


def test_grid_names_and_a_dry_run(xp_env: Path) -> None:
    assert xp("grid").stdout.split() == ["arrays", "basic", "broken"]
    dry = xp("grid", "basic", "--dry_run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("would be submitted") == 3
    assert not xp_env.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through folder permissions")
def test_an_unwritable_store_is_a_one_line_error(xp_env: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert "is not writable" in one_line_error(xp("--dir", str(locked / "store"), "run"))


def test_a_store_that_is_a_file_is_a_one_line_error(xp_env: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    assert "is not writable" in one_line_error(xp("--dir", str(tmp_path / "file"), "run"))


def test_debug_runs_in_process_without_the_overseer(xp_env: Path) -> None:
    done = xp("run", "-D", "--", "--epochs=1")
    assert done.returncode == 0, done.stderr
    (xp_,) = Store(xp_env).xps()
    assert len(xp_.link.history) == 1
    assert not xp_.events_path.exists()


def test_info_imports_no_heavy_module(xp_env: Path) -> None:
    assert xp("run", "--", "--epochs=1").returncode == 0
    code = (
        "import sys; from overseer_xpmanager.cli import main\n"
        "main(['-P', 'argproj', 'info', '-1'])\n"
        "heavy = ('torch', 'hydra', 'submitit', 'omegaconf', 'rich')\n"
        "print(sorted(name for name in heavy if name in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]")


def test_an_unknown_executor_is_a_one_line_error(
    xp_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVERSEER_XP_EXECUTOR", "kubernetes")
    line = one_line_error(xp("launch", "--no_tail", "--", "--epochs=1"))
    assert "unknown executor 'kubernetes'" in line


def test_the_project_can_name_its_executor(xp_env: Path) -> None:
    import argparse

    from overseer_xpmanager.main import argparse_main

    decorate = argparse_main(dir=xp_env, parser=argparse.ArgumentParser(), executor="slurm")
    assert decorate(lambda: None).executor == "slurm"
    assert argparse_main(dir=xp_env, parser=argparse.ArgumentParser())(print).executor is None


def hydra_xp(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "overseer_xpmanager", "-P", "hydraproj", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=240)


def test_a_hydra_project_runs_and_its_grid_deduplicates_the_default_model(xp_env: Path) -> None:
    done = hydra_xp("run", "--", "lr=0.01")
    assert done.returncode == 0, done.stderr
    assert "done" in done.stdout
    assert "small" in done.stdout
    grid = hydra_xp("grid", "models", "-i", "0.02")
    assert grid.returncode == 0, grid.stderr
    # model=small is the default: (small, 0.01) is the XP `run` made, kept, not redone.
    assert grid.stdout.count("submitted") == 3
    assert grid.stdout.count("skipped-completed") == 1
    assert "grid models: 4 XPs: 4 COMPLETED" in grid.stdout
    assert len(Store(xp_env).sigs()) == 4


def test_an_attached_launch_cancels_its_job_when_interrupted(xp_env: Path) -> None:
    import signal
    import time

    command = [sys.executable, "-m", "overseer_xpmanager", "-P", "argproj", "launch", "-a"]
    attached = subprocess.Popen(
        [*command, "--", "--epochs=100", "--sleep=0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not Store(xp_env).sigs():
        time.sleep(0.1)
    launched = Store(xp_env).find("-1")
    while time.monotonic() < deadline and len(launched.link.history) < 2:
        time.sleep(0.1)
    attached.send_signal(signal.SIGINT)
    out, err = attached.communicate(timeout=60)
    assert attached.returncode == 130, err
    assert "cancelled job" in out
    job = launched.job()
    assert job is not None
    assert job.state.value == "CANCELLED"


def test_grid_patterns_handle_only_the_matching_xps_and_drop_none(xp_env: Path) -> None:
    dry = xp("grid", "basic", "lr=0.01", "--dry_run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("would be submitted") == 1
    done = xp("grid", "basic", "-i", "0.02")
    assert done.returncode == 0, done.stderr
    assert "grid basic: 3 XPs: 3 COMPLETED" in done.stdout
    part = xp("grid", "basic", "lr=0.1", "--no_monitoring", "-D")
    assert part.returncode == 0, part.stderr
    assert part.stdout.count("submitted") == 1
    assert "dropped" not in part.stdout
    assert len(Store(xp_env).grid_sigs("basic")) == 3
    assert "grid basic: 1 XPs" in part.stdout
