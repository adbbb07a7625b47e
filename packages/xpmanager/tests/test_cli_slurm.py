"""The ``xp`` command on the real Slurm cluster: launch, info -t, cancel, requeue, grids.

Marked ``slurm``: they run in ``nox -s slurm`` against ``scripts/slurm-cluster up``'s cluster
and skip without one. Waits poll under a generous deadline, never a fixed time.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from overseer_xpmanager.store import XP, Store

pytestmark = [pytest.mark.slurm, pytest.mark.usefixtures("cluster")]
DEADLINE_S = 240.0


def xp(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "overseer_xpmanager", "-P", "argproj", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=DEADLINE_S)


def wait_for(store: Store, xp_: XP, states: set[str]) -> str:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        info = xp("info", xp_.sig)
        for state in states:
            if f"state:   {state}" in info.stdout:
                return info.stdout
        time.sleep(1)
    pytest.fail(f"XP {xp_.sig} never reached {states}: {xp('info', xp_.sig).stdout}")


def test_launch_then_info_tail_follows_the_job_to_its_end(store: Store) -> None:
    done = xp("launch", "--slurm", "--no_tail", "--", "--epochs=2", "--sleep=1")
    assert done.returncode == 0, done.stderr
    assert "submitted" in done.stdout
    followed = xp("info", "-1", "-t")
    assert followed.returncode == 0, followed.stderr
    assert "epoch 1 loss" in followed.stdout
    shown = wait_for(store, store.find("-1"), {"COMPLETED"})
    assert "on slurm" in shown
    again = xp("launch", "--slurm", "--no_tail", "--", "--epochs=2", "--sleep=1")
    assert "skipped-completed" in again.stdout


def test_info_cancel_stops_a_slurm_job(store: Store) -> None:
    assert xp("launch", "--slurm", "--no_tail", "--", "--epochs=300", "--sleep=1").returncode == 0
    launched = store.find("-1")
    wait_for(store, launched, {"RUNNING"})
    cancelled = xp("info", "-C", launched.alias)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "cancelled job" in cancelled.stdout
    wait_for(store, launched, {"CANCELLED"})
    retried = xp("launch", "--slurm", "--no_tail", "--", "--epochs=300", "--sleep=1")
    assert "skipped" in retried.stdout  # a cancelled XP waits for -r


def test_a_job_requeued_by_the_cluster_resumes_from_its_folder(store: Store) -> None:
    assert xp("launch", "--slurm", "--no_tail", "--", "--epochs=6", "--sleep=1").returncode == 0
    launched = store.find("-1")
    deadline = time.monotonic() + DEADLINE_S
    while len(launched.link.history) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    job = launched.job()
    assert job is not None
    assert job.job_id
    requeue = subprocess.run(["scontrol", "requeue", job.job_id], capture_output=True, text=True)
    assert requeue.returncode == 0, requeue.stderr
    wait_for(store, launched, {"COMPLETED"})
    assert "resuming from epoch" in launched.log_path.read_text()
    epochs = [entry["epoch"] for entry in launched.link.history]
    assert epochs[-1] == 5
    assert sorted(set(epochs)) == list(range(6))
    final = launched.job()
    assert final is not None
    assert final.attempts >= 2


def test_a_grid_runs_on_the_cluster_with_its_array(store: Store) -> None:
    done = xp("grid", "arrays", "--slurm", "-i", "0.02")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("submitted") == 3
    assert "grid arrays: 3 XPs: 3 COMPLETED" in done.stdout
    jobs = [one.job() for one in store.xps()]
    ids = sorted(job.job_id for job in jobs if job is not None and job.job_id)
    assert sum("_" in job_id for job_id in ids) == 2  # the two array members
    again = xp("grid", "arrays", "--slurm", "--no_monitoring")
    assert again.stdout.count("skipped-completed") == 3


def test_a_hydra_grid_runs_on_the_cluster(store: Store) -> None:
    command = [sys.executable, "-m", "overseer_xpmanager", "-P", "hydraproj", "grid", "models"]
    done = subprocess.run(
        [*command, "--slurm", "-i", "0.02"], capture_output=True, text=True, timeout=DEADLINE_S
    )
    assert done.returncode == 0, done.stderr
    assert "grid models: 4 XPs: 4 COMPLETED" in done.stdout
    for one in store.xps():
        job = one.job()
        assert job is not None
        assert job.executor == "slurm"
        assert one.link.history[-1]["epoch"] == 1
