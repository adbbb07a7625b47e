"""Whether an XP gets a new job: the scheduling rules ``launch`` and ``grid`` share.

An XP is never scheduled twice: a queued or running job is kept, a failed, cancelled or
timed-out one waits for ``retry``, a completed one for ``rerun``; ``replace`` cancels a live
job and submits again. A job still waiting in the queue whose settings (GPUs, partition,
time...) differ from the new launch's is replaced by one with the new settings::

    action, job = schedule(xp, LocalExecutor(store), {}, retry=False, replace=False, rerun=False)
    action  # "submitted"; "kept" when launched again while it runs
    action.detail  # what decided it, e.g. "gpus: 1 -> 2" for a settings change

The XP's lock is held from reading its job to recording the new one, so two ``launch`` of
one XP at once make one job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .job import JobRecord, JobState
from .store import XP, Store

__all__ = [
    "ACTIONS",
    "Action",
    "JobExecutor",
    "current_job",
    "executor_for",
    "schedule",
    "settings_difference",
]

ACTIONS = (
    "submitted",
    "kept",
    "replaced",
    "skipped-failed",
    "skipped-completed",
    "resubmitted-settings-changed",
)
_MISSING = "<unset>"


class JobExecutor(Protocol):
    """What :func:`schedule` needs of an executor (local or Slurm).

    An executor's ``name`` attribute (``"local"``, ``"slurm"``), when it has one, tells the
    jobs it ran from those another executor ran.
    """

    def submit(self, xp: XP, settings: Mapping[str, Any]) -> JobRecord: ...

    def state(self, xp: XP) -> JobRecord: ...

    def cancel(self, xp: XP) -> None: ...


class Action(str):
    """One of :data:`ACTIONS`, equal to its plain string, with what decided it.

    Attributes:
        detail: a short explanation: the previous job's state, or the settings that changed.
    """

    detail: str

    def __new__(cls, kind: str, detail: str = "") -> Action:
        action = super().__new__(cls, kind)
        action.detail = detail
        return action

    def describe(self) -> str:
        """``"kept (RUNNING job 1234)"``: the action with its detail."""
        return f"{self} ({self.detail})" if self.detail else str(self)


#: Settings that say how the XP runs, not what the cluster gives it: a launch from another
#: folder or with other overseer flags does not replace a pending job.
NOT_RESOURCES = frozenset({"cwd", "overseer_flags"})


def settings_difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """The resources that differ, ``"gpus: 1 -> 2, partition: <unset> -> debug"``; "" if none.

    Example:
        >>> settings_difference({"gpus": 1, "cwd": "/a"}, {"gpus": 2, "cwd": "/b"})
        'gpus: 1 -> 2'
    """
    keys = sorted((set(old) | set(new)) - NOT_RESOURCES)
    changes = [
        f"{key}: {old.get(key, _MISSING)!s} -> {new.get(key, _MISSING)!s}"
        for key in keys
        if old.get(key, _MISSING) != new.get(key, _MISSING)
    ]
    return ", ".join(changes)


def schedule(
    xp: XP,
    executor: JobExecutor,
    settings: Mapping[str, Any],
    *,
    retry: bool = False,
    replace: bool = False,
    rerun: bool = False,
    lock_timeout: float = 60.0,
) -> tuple[Action, JobRecord]:
    """Give ``xp`` a job unless the rules say otherwise; the action taken and the job.

    Args:
        xp: the XP.
        executor: runs the job (and reads the state of a job it ran).
        settings: the resources of the job, recorded in it.
        retry: resubmit after a failed, cancelled or timed-out job.
        replace: cancel a queued or running job and submit a new one.
        rerun: resubmit after a completed job.
        lock_timeout: seconds to wait for another command scheduling this XP.

    Returns:
        The action (one of :data:`ACTIONS`, with its ``detail``) and the XP's job.

    Raises:
        StoreError: another command held the XP for over ``lock_timeout`` seconds.
        SubmissionError, ClusterError: the executor could not submit.
    """
    with xp.lock(timeout=lock_timeout):
        record = current_job(xp, executor)
        if record is None:
            return Action("submitted"), executor.submit(xp, settings)
        if record.state.live:
            return _live(xp, executor, settings, record, replace)
        return _ended(xp, executor, settings, record, retry=retry, rerun=rerun)


def current_job(xp: XP, executor: JobExecutor | None = None) -> JobRecord | None:
    """The XP's job, its state read again by the executor that runs it while it is live."""
    record = xp.job()
    if record is None or record.state.done:
        return record
    return executor_for(record, executor, xp.store).state(xp)


def executor_for(record: JobRecord, executor: JobExecutor | None, store: Store) -> JobExecutor:
    """``executor`` when it ran the job ``record`` describes, else one of the kind that did."""
    if executor is not None and record.executor == getattr(executor, "name", record.executor):
        return executor
    if record.executor == "slurm":
        from .executor_slurm import SlurmExecutor

        return SlurmExecutor(store)
    from .executor_local import LocalExecutor

    return LocalExecutor(store)


def _describe(record: JobRecord) -> str:
    job = f" job {record.job_id}" if record.job_id else " job"
    return f"{record.state.value}{job} on {record.executor}"


def _live(
    xp: XP,
    executor: JobExecutor,
    settings: Mapping[str, Any],
    record: JobRecord,
    replace: bool,
) -> tuple[Action, JobRecord]:
    difference = settings_difference(record.settings, settings)
    if replace:
        kind, detail = "replaced", _describe(record)
    elif record.state is JobState.PENDING and difference:
        kind, detail = "resubmitted-settings-changed", difference
    else:
        return Action("kept", _describe(record)), record
    executor_for(record, executor, xp.store).cancel(xp)
    return Action(kind, detail), executor.submit(xp, settings)


def _ended(
    xp: XP,
    executor: JobExecutor,
    settings: Mapping[str, Any],
    record: JobRecord,
    *,
    retry: bool,
    rerun: bool,
) -> tuple[Action, JobRecord]:
    detail = _describe(record)
    if record.state is JobState.COMPLETED:
        if not rerun:
            return Action("skipped-completed", detail), record
        return Action("submitted", f"rerun after {detail}"), executor.submit(xp, settings)
    if record.state.done and not retry:
        return Action("skipped-failed", detail), record
    reason = "retry after" if record.state.done else "previous job"
    return Action("submitted", f"{reason} {detail}"), executor.submit(xp, settings)
