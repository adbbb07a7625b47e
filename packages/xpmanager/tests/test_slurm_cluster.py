"""A real Slurm cluster, as ``scripts/slurm-cluster up`` brings it up, used as users use it.

The tests marked ``slurm`` submit real jobs with sbatch and read their fate from sacct and
from the files they write. They wait with short polls under a generous deadline: a busy
machine makes them slower, never wrong. Without a cluster they skip, or fail when
``OVERSEER_REQUIRE_SLURM=1`` says one must be there (``nox -s slurm`` sets it).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "slurm-cluster"
# Far above what a job of these tests takes (a requeued job starts again after about 11 s).
DEADLINE_S = 180.0
POLL_S = 0.5

T = TypeVar("T")


def slurm(*args: str) -> str:
    """Run a Slurm client command; its stdout, or a failure that shows what it said."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"{' '.join(args)} exited with {done.returncode}: {done.stderr}"
    return done.stdout


def wait_for(what: str, probe: Callable[[], T | None], deadline_s: float = DEADLINE_S) -> T:
    """Poll ``probe`` until it returns something other than None; fail after the deadline."""
    give_up = time.monotonic() + deadline_s
    while (found := probe()) is None:
        if time.monotonic() > give_up:
            pytest.fail(f"{what}: not seen within {deadline_s:.0f} s")
        time.sleep(POLL_S)
    return found


def submit(folder: Path, *options: str, script: str) -> str:
    """sbatch ``script`` (a bash body) from ``folder``; the job id."""
    path = folder / "job.sh"
    path.write_text(f"#!/bin/bash\n{script}\n", encoding="utf-8")
    out = slurm("sbatch", "--parsable", f"--chdir={folder}", *options, str(path))
    return out.strip().split(";")[0]


def accounting(job_id: str, *, duplicates: bool = False) -> dict[str, list[str]]:
    """sacct's states per job id (``12``, ``12_3``), every record of it when ``duplicates``."""
    options = ["-D"] if duplicates else []
    out = slurm("sacct", "-j", job_id, "-X", "-n", "-P", "-o", "JobID,State", *options)
    states: dict[str, list[str]] = {}
    for line in out.splitlines():
        step, _, state = line.partition("|")
        # "CANCELLED by 0" names who cancelled: keep the state alone.
        states.setdefault(step, []).append(state.split()[0] if state else "")
    return states


def final_state(job_id: str) -> str | None:
    """The job's state once sacct says it ended, else None."""
    states = accounting(job_id).get(job_id, [])
    ended = {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"}
    return states[-1] if states and states[-1] in ended else None


def queue_state(job_id: str) -> str:
    """The job's state in the controller (``PENDING``, ``RUNNING``, ...)."""
    return slurm("squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T").strip()


def file_text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


# `cluster` (conftest.py) skips these tests when no controller answers.


@pytest.fixture
def jobs(cluster: None) -> Iterator[list[str]]:
    """Job ids a test submits; whatever still runs at its end is cancelled."""
    submitted: list[str] = []
    yield submitted
    if submitted:
        subprocess.run(["scancel", *submitted], capture_output=True, timeout=60, check=False)


@pytest.mark.slurm
def test_a_batch_job_completes_and_sacct_records_it(tmp_path: Path, jobs: list[str]) -> None:
    jobs.append(submit(tmp_path, "--output=out.txt", script='echo "ran on $SLURMD_NODENAME"'))
    assert wait_for("job completion in sacct", lambda: final_state(jobs[0])) == "COMPLETED"
    assert file_text(tmp_path / "out.txt").strip() in {"ran on n1", "ran on n2"}


@pytest.mark.slurm
def test_a_job_asking_two_gpus_sees_both_in_cuda_visible_devices(
    tmp_path: Path, jobs: list[str]
) -> None:
    if "gpu" not in slurm("sinfo", "-h", "-o", "%G"):
        pytest.skip("no node of this cluster offers a gres gpu")
    script = 'echo "devices=$CUDA_VISIBLE_DEVICES"'
    jobs.append(submit(tmp_path, "--gres=gpu:2", "--output=out.txt", script=script))
    assert wait_for("job completion in sacct", lambda: final_state(jobs[0])) == "COMPLETED"
    assert file_text(tmp_path / "out.txt").strip() == "devices=0,1"


@pytest.mark.slurm
def test_scancel_ends_a_running_job_as_cancelled(tmp_path: Path, jobs: list[str]) -> None:
    jobs.append(submit(tmp_path, "--output=out.txt", script="echo started; sleep 600"))
    out = tmp_path / "out.txt"
    wait_for("the job's first line", lambda: True if file_text(out).startswith("started") else None)
    slurm("scancel", jobs[0])
    assert wait_for("the cancel in sacct", lambda: final_state(jobs[0])) == "CANCELLED"
    assert queue_state(jobs[0]) == "CANCELLED"


@pytest.mark.slurm
def test_a_job_array_runs_every_task_once(tmp_path: Path, jobs: list[str]) -> None:
    script = 'echo "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_JOB_ID"'
    job_id = submit(tmp_path, "--array=0-3", "--output=out-%a.txt", script=script)
    jobs.append(job_id)
    tasks = [f"{job_id}_{index}" for index in range(4)]

    def every_task_ended() -> dict[str, list[str]] | None:
        states = accounting(job_id)
        done = all(states.get(task, [""])[-1] not in ("", "PENDING", "RUNNING") for task in tasks)
        return states if done else None

    states = wait_for("every array task ended in sacct", every_task_ended)
    assert {task: states[task][-1] for task in tasks} == dict.fromkeys(tasks, "COMPLETED")
    for index in range(4):
        assert file_text(tmp_path / f"out-{index}.txt").strip() == f"task {index} of {job_id}"


def restarts_seen(out: Path, count: int) -> bool | None:
    """True once the job's output shows its start number ``count`` (0 is the first)."""
    return True if f"start {count}\n" in file_text(out) else None


@pytest.mark.slurm
def test_scontrol_requeue_runs_a_preempted_job_again(tmp_path: Path, jobs: list[str]) -> None:
    out = tmp_path / "out.txt"
    script = 'echo "start ${SLURM_RESTART_COUNT:-0}"; sleep 600'
    options = ("--requeue", "--open-mode=append", "--output=out.txt")
    jobs.append(submit(tmp_path, *options, script=script))
    wait_for("the first start", lambda: restarts_seen(out, 0))
    slurm("scontrol", "requeue", jobs[0])
    wait_for("the start after the requeue", lambda: restarts_seen(out, 1))
    assert "REQUEUED" in accounting(jobs[0], duplicates=True)[jobs[0]]
    assert queue_state(jobs[0]) == "RUNNING"


@pytest.mark.slurm
def test_a_job_that_requeues_itself_on_usr2_starts_again(tmp_path: Path, jobs: list[str]) -> None:
    # What submitit does on preemption: the job's handler of USR2 requeues the job.
    out = tmp_path / "out.txt"
    script = "\n".join(
        [
            'echo "start ${SLURM_RESTART_COUNT:-0}"',
            'trap \'echo "got USR2"; scontrol requeue "$SLURM_JOB_ID"; sleep 60\' USR2',
            # Waiting on a background sleep lets bash run the trap at once.
            "sleep 600 & wait",
        ]
    )
    options = ("--requeue", "--open-mode=append", "--output=out.txt")
    jobs.append(submit(tmp_path, *options, script=script))
    wait_for("the first start", lambda: restarts_seen(out, 0))
    slurm("scancel", "--batch", "--signal=USR2", jobs[0])
    wait_for("the start after the requeue", lambda: restarts_seen(out, 1))
    assert "got USR2" in file_text(out)
    assert "REQUEUED" in accounting(jobs[0], duplicates=True)[jobs[0]]


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_the_script_lists_its_commands_and_refuses_an_unknown_one_in_one_line() -> None:
    shown = run_script("--help")
    assert shown.returncode == 0, shown.stderr
    for command in ("up", "down", "status", "env"):
        assert f"    {command} " in shown.stdout
    refused = run_script("launch")
    assert refused.returncode != 0
    assert refused.stdout == ""
    lines = refused.stderr.splitlines()
    assert len(lines) == 1, refused.stderr
    assert "'launch'" in lines[0]
    assert "slurm-cluster --help" in lines[0]
