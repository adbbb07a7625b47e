"""What Slurm's commands say of a job: sacct, squeue, scontrol, and the XP's exit marker.

Each reader answers None when it cannot tell (the command is missing or fails, the job is
unknown to it); :func:`slurm_state` asks them in turn, from the most to the least complete.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from .errors import ClusterError
from .job import JobState, read_exit_marker

__all__ = [
    "SLURM_MISSING",
    "find_job",
    "job_state",
    "marker_state",
    "require_slurm",
    "sacct_state",
    "scancel",
    "scontrol_state",
    "slurm_state",
    "squeue_state",
]

SLURM_MISSING = (
    "Slurm's commands are not on PATH: install the slurm-client package or use the local "
    "executor (--local)"
)
_TIMEOUT_S = 60
_STATES = {
    "PENDING": JobState.PENDING,
    "REQUEUED": JobState.REQUEUED,
    "REQUEUE_HOLD": JobState.REQUEUED,
    "REQUEUE_FED": JobState.REQUEUED,
    "PREEMPTED": JobState.PREEMPTED,
    "COMPLETED": JobState.COMPLETED,
    "CANCELLED": JobState.CANCELLED,
    "TIMEOUT": JobState.TIMEOUT,
    "FAILED": JobState.FAILED,
    "NODE_FAIL": JobState.FAILED,
    "OUT_OF_MEMORY": JobState.FAILED,
    "BOOT_FAIL": JobState.FAILED,
    "DEADLINE": JobState.FAILED,
}
_RUNNING = frozenset(
    {"RUNNING", "COMPLETING", "CONFIGURING", "STAGE_OUT", "SIGNALING", "RESIZING", "SUSPENDED"}
)


def require_slurm() -> None:
    """Raise :class:`ClusterError` unless sbatch and squeue are on PATH."""
    if shutil.which("sbatch") is None or shutil.which("squeue") is None:
        raise ClusterError(SLURM_MISSING)


def job_state(slurm: str) -> JobState:
    """The :class:`JobState` of a Slurm state (``"CANCELLED by 0"``, ``"RUNNING"``...)."""
    word = slurm.strip().split(" ")[0].rstrip("+") if slurm.strip() else ""
    if word in _RUNNING:
        return JobState.RUNNING
    return _STATES.get(word, JobState.UNKNOWN)


def _run(*command: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def sacct_state(job_id: str) -> JobState | None:
    """The job's state in Slurm's accounting; None when sacct fails or has no record yet."""
    done = _run("sacct", "-j", job_id, "-X", "-n", "-P", "-o", "JobID,State")
    if done is None or done.returncode != 0:
        return None
    rows = [line.split("|") for line in done.stdout.splitlines() if line.count("|") == 1]
    matching = [state for jid, state in rows if jid == job_id]
    return job_state(matching[-1]) if matching else None


def _queue_field(job_id: str) -> str | None:
    """``%T`` of the job in squeue; "" when the controller does not know it; None: no answer."""
    done = _run("squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T")
    if done is None:
        return None
    if done.returncode != 0:
        return "" if "Invalid job id" in done.stderr else None
    lines = done.stdout.split()
    return lines[0] if lines else ""


def squeue_state(job_id: str) -> JobState | None:
    """The job's state in the controller's queue; None when squeue does not know it."""
    field = _queue_field(job_id)
    return job_state(field) if field else None


def _scontrol_field(job_id: str) -> str | None:
    done = _run("scontrol", "show", "job", job_id)
    if done is None:
        return None
    if done.returncode != 0:
        return "" if "Invalid job id" in done.stderr else None
    for word in done.stdout.split():
        if word.startswith("JobState="):
            return word.partition("=")[2]
    return ""


def scontrol_state(job_id: str) -> JobState | None:
    """The job's state from ``scontrol show job``; None when it does not know it."""
    field = _scontrol_field(job_id)
    return job_state(field) if field else None


def marker_state(folder: Path, job_id: str) -> JobState | None:
    """COMPLETED or FAILED from the exit marker job ``job_id`` wrote in ``folder``; else None."""
    marker = read_exit_marker(folder)
    if marker is None or marker.get("job_id") != job_id:
        return None
    return JobState.COMPLETED if marker.get("returncode") == 0 else JobState.FAILED


def slurm_state(job_id: str, folder: Path | None = None) -> tuple[JobState, str]:
    """The job's state and where it was read: sacct, squeue, scontrol, then the marker.

    A job the controller has forgotten, without accounting and without an exit marker,
    died before its supervisor could write one: FAILED. ``(UNKNOWN, "none")`` means that
    nothing answered.

    Example:
        >>> slurm_state("1234", xp.folder)  # doctest: +SKIP
        (<JobState.COMPLETED: 'COMPLETED'>, 'sacct')
    """
    accounted = sacct_state(job_id)
    if accounted is not None:
        return accounted, "sacct"
    queued = _queue_field(job_id)
    if queued:
        return job_state(queued), "squeue"
    shown = _scontrol_field(job_id)
    if shown:
        return job_state(shown), "scontrol"
    marked = marker_state(folder, job_id) if folder is not None else None
    if marked is not None:
        return marked, "marker"
    if queued == "" and shown == "" and folder is not None:
        return JobState.FAILED, "marker"
    return JobState.UNKNOWN, "none"


def find_job(name: str, since: float, folder: Path) -> str | None:
    """The latest job named ``name`` whose submission script lies in ``folder``.

    Jobs queued now come first, then those accounting saw submitted after ``since``. The
    script's folder tells a job of this store from one of another store whose XP has the
    same signature, hence the same name.
    """
    inside = f"{folder}/"
    done = _run("squeue", "-h", "--name", name, "-o", "%F|%o")
    ids = _ids(done.stdout, inside) if done is not None and done.returncode == 0 else []
    if not ids:
        start = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(since))
        command = ("sacct", "--name", name, "-X", "-n", "-P", "-o", "JobID,SubmitLine")
        done = _run(*command, "-S", start)
        ids = _ids(done.stdout, inside) if done is not None and done.returncode == 0 else []
    return str(max(ids)) if ids else None


def _ids(text: str, inside: str) -> list[int]:
    """The job ids (array ids for array tasks) of ``id|command`` lines naming ``inside``."""
    rows = (line.partition("|") for line in text.splitlines())
    heads = (job.strip().split("_")[0] for job, _, command in rows if inside in command)
    return [int(head) for head in heads if head.isdigit()]


def scancel(job_id: str) -> None:
    """Cancel job ``job_id``.

    Raises:
        ClusterError: scancel is missing or refused.
    """
    if shutil.which("scancel") is None:
        raise ClusterError(SLURM_MISSING)
    done = _run("scancel", job_id)
    if done is None:
        message = f"scancel {job_id} did not answer in {_TIMEOUT_S} s: is slurmctld up? (sinfo)"
        raise ClusterError(message)
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1:] or [f"status {done.returncode}"]
        message = f"scancel {job_id} failed: {said[0]}; check the job with squeue -j {job_id}"
        raise ClusterError(message)
