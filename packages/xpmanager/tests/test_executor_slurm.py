"""Slurm jobs through submitit: submit, arrays, cancel, requeue, state readers, journal.

The tests marked ``slurm`` run real jobs on the cluster ``scripts/slurm-cluster up`` brings
up; they skip without one (or fail under ``OVERSEER_REQUIRE_SLURM=1``). They poll under a
generous deadline: a busy machine makes them slower, never wrong.
"""

from __future__ import annotations

import importlib
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from overseer_xpmanager._slurm_commands import (
    SLURM_MISSING,
    marker_state,
    sacct_state,
    scontrol_state,
    slurm_state,
    squeue_state,
)
from overseer_xpmanager.errors import ClusterError, SubmissionError
from overseer_xpmanager.executor_slurm import SlurmExecutor, SupervisedJob, submitit_parameters
from overseer_xpmanager.job import JobRecord, JobState, write_exit_marker
from overseer_xpmanager.store import XP, Store

PROJECTS = Path(__file__).parent / "projects"
SETTINGS = {"cwd": str(PROJECTS)}
DEADLINE_S = 180.0
T = TypeVar("T")


def make_xp(store: Store, *argv: str) -> XP:
    main = importlib.import_module("argproj.train").main
    return store.ensure(main.definition(list(argv)))


def wait_for(what: str, probe: Callable[[], T | None], deadline_s: float = DEADLINE_S) -> T:
    give_up = time.monotonic() + deadline_s
    while (found := probe()) is None:
        if time.monotonic() > give_up:
            pytest.fail(f"{what}: not seen within {deadline_s:.0f} s")
        time.sleep(0.5)
    return found


def ended(executor: SlurmExecutor, xp: XP) -> JobRecord:
    return wait_for(f"the end of XP {xp.sig}", lambda: _if_ended(executor.state(xp)))


def _if_ended(record: JobRecord) -> JobRecord | None:
    return None if record.state.live else record


def steps_pushed(xp: XP, count: int) -> None:
    wait_for(
        f"{count} steps of XP {xp.sig}", lambda: True if len(xp.link.history) >= count else None
    )


def jobs_named(name: str) -> list[str]:
    done = subprocess.run(
        ["squeue", "-h", "--name", name, "-o", "%i"], capture_output=True, text=True, timeout=60
    )
    return done.stdout.split()


def test_gpus_spread_over_nodes_of_eight_with_memory_per_gpu() -> None:
    one = submitit_parameters("xp-a", {"gpus": 2, "partition": "debug", "mem_per_gpu": 2})
    assert one["nodes"] == 1
    assert (one["tasks_per_node"], one["gpus_per_node"], one["mem_gb"]) == (2, 2, 4.0)
    assert one["slurm_partition"] == "debug"
    assert one["name"] == "xp-a"
    big = submitit_parameters("xp-b", {"gpus": 16})
    assert (big["nodes"], big["tasks_per_node"], big["gpus_per_node"]) == (2, 8, 8)
    single = submitit_parameters("xp-d", {"gpus": 4, "one_task_per_node": True})
    assert (single["tasks_per_node"], single["gpus_per_node"]) == (1, 4)
    plain = submitit_parameters("xp-c", {})
    assert "gpus_per_node" not in plain
    assert (plain["nodes"], plain["tasks_per_node"], plain["mem_gb"]) == (1, 1, 1.0)


def test_bad_settings_are_refused_before_anything_is_submitted() -> None:
    with pytest.raises(SubmissionError, match="unknown Slurm setting"):
        submitit_parameters("xp-a", {"gpu": 1})
    with pytest.raises(SubmissionError, match="gpus=12 spans nodes of 8"):
        submitit_parameters("xp-a", {"gpus": 12})


def test_without_slurm_commands_submission_says_what_to_install(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    xp = make_xp(store)
    monkeypatch.setenv("PATH", str(store.root))
    with pytest.raises(ClusterError) as raised:
        SlurmExecutor(store).submit(xp, SETTINGS)
    assert str(raised.value) == SLURM_MISSING
    assert xp.job() is None


@pytest.mark.slurm
def test_a_job_runs_the_xp_and_sacct_says_completed(cluster: None, store: Store) -> None:
    executor = SlurmExecutor(store)
    xp = make_xp(store, "--epochs=2")
    submitted = executor.submit(xp, SETTINGS | {"gpus": 1})
    assert (submitted.state, submitted.job_name) == (JobState.PENDING, f"xp-{xp.sig}")
    done = ended(executor, xp)
    assert (done.state, done.attempts, done.returncode) == (JobState.COMPLETED, 1, 0)
    assert [entry["epoch"] for entry in xp.link.history] == [0, 1]
    assert "epoch 1 loss 0.0500" in xp.log_path.read_text()
    script = (xp.submitit_folder / f"{done.job_id}_submission.sh").read_text()
    assert "--gpus-per-node=1" in script


@pytest.mark.slurm
def test_a_failing_xp_fails_its_job(cluster: None, store: Store) -> None:
    executor = SlurmExecutor(store)
    xp = make_xp(store, "--crash")
    executor.submit(xp, SETTINGS)
    done = ended(executor, xp)
    assert (done.state, done.returncode) == (JobState.FAILED, 3)


@pytest.mark.slurm
def test_a_job_array_runs_every_xp(cluster: None, store: Store) -> None:
    executor = SlurmExecutor(store)
    xps = [make_xp(store, f"--lr=0.{n + 1}", "--epochs=1") for n in range(3)]
    records = executor.submit_array(xps, SETTINGS)
    array = str(records[0].job_id).split("_")[0]
    assert [record.job_id for record in records] == [f"{array}_{n}" for n in range(3)]
    for xp in xps:
        assert ended(executor, xp).state is JobState.COMPLETED
        assert len(xp.link.history) == 1


@pytest.mark.slurm
def test_cancel_ends_a_running_job(cluster: None, store: Store) -> None:
    executor = SlurmExecutor(store)
    xp = make_xp(store, "--epochs=1000", "--sleep=0.2")
    executor.submit(xp, SETTINGS)
    steps_pushed(xp, 1)
    executor.cancel(xp)
    assert executor.state(xp).state is JobState.CANCELLED
    job = xp.job()
    assert job is not None
    assert job.job_id is not None
    job_id = job.job_id
    wait_for(
        "CANCELLED in sacct", lambda: True if sacct_state(job_id) is JobState.CANCELLED else None
    )


@pytest.mark.slurm
@pytest.mark.parametrize(
    "requeue", [["scancel", "--signal=USR2"], ["scontrol", "requeue"]], ids=["usr2", "scontrol"]
)
def test_a_requeued_job_resumes_from_its_folder(
    cluster: None, store: Store, requeue: list[str]
) -> None:
    executor = SlurmExecutor(store)
    xp = make_xp(store, "--epochs=12", "--sleep=0.5", f"--batch_size={len(requeue[0])}")
    job_id = executor.submit(xp, SETTINGS).job_id
    assert job_id is not None
    steps_pushed(xp, 3)
    subprocess.run([*requeue, job_id], check=True, capture_output=True, timeout=60)
    done = ended(executor, xp)
    assert (done.state, done.job_id, done.attempts) == (JobState.COMPLETED, job_id, 2)
    log = xp.log_path.read_text()
    assert "== attempt 2, " in log
    resumed = [line for line in log.splitlines() if line.startswith("resuming from epoch")]
    assert len(resumed) == 1
    assert resumed[0] != "resuming from epoch 0"
    assert [entry["epoch"] for entry in xp.link.history][-1] == 11


@pytest.mark.slurm
def test_each_reader_tells_the_state_of_a_job_the_cluster_knows(
    cluster: None, store: Store
) -> None:
    executor = SlurmExecutor(store)
    xp = make_xp(store, "--epochs=4", "--sleep=0.5")
    job_id = executor.submit(xp, SETTINGS).job_id
    assert job_id is not None
    steps_pushed(xp, 1)
    assert squeue_state(job_id) is JobState.RUNNING
    assert scontrol_state(job_id) is JobState.RUNNING
    assert marker_state(xp.folder, job_id) is None
    ended(executor, xp)
    wait_for("COMPLETED in squeue", lambda: squeue_state(job_id) is JobState.COMPLETED or None)
    assert marker_state(xp.folder, job_id) is JobState.COMPLETED
    assert slurm_state(job_id, xp.folder) == (JobState.COMPLETED, "sacct")


@pytest.mark.slurm
def test_a_job_nobody_knows_without_marker_failed(cluster: None, tmp_path: Path) -> None:
    assert slurm_state("999999", tmp_path) == (JobState.FAILED, "marker")
    write_exit_marker(tmp_path, 0, job_id="999999")
    assert slurm_state("999999", tmp_path) == (JobState.COMPLETED, "marker")
    assert squeue_state("999999") is None


def journal_of(xp: XP, age: float = 0.0) -> JobRecord:
    return JobRecord(
        executor="slurm", job_id=None, state=JobState.SUBMITTING, source="journal",
        job_name=f"xp-{xp.sig}", updated=time.time() - age,
    )  # fmt: skip


@pytest.mark.slurm
def test_a_journaled_submission_is_found_by_name_not_submitted_twice(
    cluster: None, store: Store
) -> None:
    import submitit

    xp = make_xp(store, "--lr=0.6", "--epochs=1000", "--sleep=0.2")
    # What a command that died right after sbatch leaves: a job, and a journal without its id.
    direct = submitit.AutoExecutor(folder=xp.submitit_folder, cluster="slurm")
    direct.update_parameters(**submitit_parameters(f"xp-{xp.sig}", SETTINGS))
    made = direct.submit(SupervisedJob(str(store.root), xp.sig, [], str(PROJECTS))).job_id
    xp.write_job(journal_of(xp))
    found = SlurmExecutor(store).submit(xp, SETTINGS)
    assert found.job_id == made
    assert found.state.live
    assert jobs_named(f"xp-{xp.sig}") == [made]


@pytest.mark.slurm
def test_a_lost_submission_is_submitted_again_and_a_namesake_is_not_adopted(
    cluster: None, store: Store, tmp_path: Path
) -> None:
    other = Store(tmp_path / "other")
    namesake = make_xp(other, "--lr=0.5", "--epochs=1000", "--sleep=0.2")
    SlurmExecutor(other).submit(namesake, SETTINGS)
    try:
        xp = make_xp(store, "--lr=0.5", "--epochs=1000", "--sleep=0.2")
        assert xp.sig == namesake.sig
        xp.write_job(journal_of(xp, age=600))
        executor = SlurmExecutor(store)
        assert executor.state(xp).state is JobState.UNKNOWN
        submitted = executor.submit(xp, SETTINGS)
        assert submitted.job_id != namesake.job().job_id  # type: ignore[union-attr]
        assert len(jobs_named(f"xp-{xp.sig}")) == 2
    finally:
        SlurmExecutor(other).cancel(namesake)


@pytest.mark.slurm
def test_a_refused_submission_leaves_the_xp_as_it_was(cluster: None, store: Store) -> None:
    xp = make_xp(store, "--lr=0.4")
    with pytest.raises(SubmissionError, match="sbatch refused the job") as raised:
        SlurmExecutor(store).submit(xp, SETTINGS | {"partition": "no-such-partition"})
    assert "\n" not in str(raised.value)
    assert xp.job() is None
