"""Changes to ``job.json`` made under one lock, shared by the supervisor and the executors.

A submission is journaled first (SUBMITTING, no job id), then given its job id; the
supervisor records each attempt; state readers record what they read. All of them change
the record through :func:`update_job`, so that none undoes another's change, and none
touches a record that a newer job replaced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import XPManagerError
from .job import EXIT_MARKER, JOB_FILE, JobRecord, JobState, read_job, write_job
from .store import XP, _flock

__all__ = ["journal", "record_alive", "record_job_id", "record_reading", "restore", "update_job"]


def update_job(
    folder: Path, change: Callable[[JobRecord | None], JobRecord | None]
) -> JobRecord | None:
    """Read ``job.json``, apply ``change``, write what it returns (None: leave it as it is)."""
    with _flock(folder / ".job.lock", 30.0, f"job record of {folder.name}"):
        changed = change(read_job(folder))
        if changed is not None:
            write_job(folder, changed)
        return changed


def journal(xp: XP, executor: str, settings: Mapping[str, Any], name: str = "") -> JobRecord | None:
    """Record that a submission starts (SUBMITTING, no job id); the record it replaces."""
    previous = xp.job()
    record = JobRecord(
        executor=executor,
        job_id=None,
        state=JobState.SUBMITTING,
        source="journal",
        attempts=previous.attempts if previous else 0,
        settings=dict(settings),
        job_name=name,
    )
    (xp.folder / EXIT_MARKER).unlink(missing_ok=True)
    update_job(xp.folder, lambda _: record)
    return previous


def restore(xps: Sequence[XP], previous: Sequence[JobRecord | None]) -> None:
    """Put back the records a failed submission had journaled over."""
    for xp, record in zip(xps, previous, strict=True):
        if record is None:
            (xp.folder / JOB_FILE).unlink(missing_ok=True)
        else:
            write_job(xp.folder, record)


def record_job_id(xp: XP, job_id: str) -> JobRecord:
    """Give the journaled submission its job id, PENDING (unless its job already started)."""

    def pending(record: JobRecord | None) -> JobRecord | None:
        if record is None or record.job_id is not None:
            return None
        record.job_id, record.state, record.updated = job_id, JobState.PENDING, time.time()
        return record

    update_job(xp.folder, pending)
    record = xp.job()
    if record is None:
        message = f"{xp.folder / JOB_FILE} vanished during the submission of job {job_id}"
        raise XPManagerError(message)
    return record


def record_reading(
    xp: XP,
    record: JobRecord,
    state: JobState,
    source: str,
    returncode: int | None = None,
) -> JobRecord:
    """Record a state reading of job ``record``, unless a newer job replaced it meanwhile."""

    def change(current: JobRecord | None) -> JobRecord | None:
        if current is None or current.job_id != record.job_id:
            return None
        current.state, current.source, current.updated = state, source, time.time()
        if returncode is not None:
            current.returncode = returncode
        return current

    try:
        return update_job(xp.folder, change) or xp.job() or record
    except (XPManagerError, OSError):
        # A store someone else owns: the reading stands, unrecorded.
        record.state, record.source, record.updated = state, source, time.time()
        return record


def record_alive(xp: XP, record: JobRecord) -> JobRecord:
    """Record that the process of job ``record`` was seen alive.

    The state stays the one ``job.json`` holds now, not the one ``record`` was read with:
    the supervisor may have recorded its start (or its end) since.
    """

    def change(current: JobRecord | None) -> JobRecord | None:
        if current is None or current.job_id != record.job_id or not current.state.live:
            return None
        current.source, current.updated = "process", time.time()
        return current

    try:
        return update_job(xp.folder, change) or xp.job() or record
    except (XPManagerError, OSError):
        return record
