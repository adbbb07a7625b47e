"""The latest job of an XP (``job.json``) and the exit marker its supervisor writes.

A job moves through :class:`JobState`; each reading of its state records where it came from
(``source``: ``"sacct"``, ``"squeue"``, ``"scontrol"``, ``"marker"``, ``"process"``,
``"journal"``) and when (``updated``), so ``info`` can say how fresh and how sure it is::

    record = JobRecord(
        executor="local",
        job_id="local-4242",
        state=JobState.RUNNING,
        source="process",
        updated=time.time(),
    )
    write_job(xp.folder, record)
    read_job(xp.folder).state.live  # True
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import StoreError

__all__ = [
    "EXIT_MARKER",
    "JOB_FILE",
    "JobRecord",
    "JobState",
    "read_exit_marker",
    "read_job",
    "write_exit_marker",
    "write_job",
    "write_json_atomically",
]

JOB_FILE = "job.json"
EXIT_MARKER = "exit.json"


class JobState(str, Enum):
    """Where a job stands. ``live`` states hold the XP; ``done`` states end it."""

    PENDING = "PENDING"
    SUBMITTING = "SUBMITTING"
    RUNNING = "RUNNING"
    REQUEUED = "REQUEUED"
    PREEMPTED = "PREEMPTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN = "UNKNOWN"

    @property
    def live(self) -> bool:
        """Whether the job is still queued or running."""
        return self in _LIVE

    @property
    def done(self) -> bool:
        """Whether the job has ended, for good or ill."""
        return self in _DONE


_LIVE = frozenset(
    {JobState.PENDING, JobState.SUBMITTING, JobState.RUNNING, JobState.REQUEUED, JobState.PREEMPTED}
)
_DONE = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT})


@dataclass
class JobRecord:
    """One job of an XP, as ``job.json`` holds it.

    Attributes:
        executor: ``"local"`` or ``"slurm"``.
        job_id: the executor's id (``"local-4242"``, ``"1234"``, ``"1234_3"``), None while
            the submission is only journaled.
        state: the latest known state.
        source: where ``state`` was read.
        updated: when ``state`` was read (seconds since the epoch).
        attempts: how many times the XP was started (requeues count).
        settings: the resources asked for (gpus, partition, time, ...); a pending job whose
            settings differ from a new launch's is replaced.
        job_name: the name the job carries on the cluster (``xp-<sig>``).
        returncode: the program's exit status once known.
    """

    executor: str
    job_id: str | None
    state: JobState
    source: str
    updated: float = field(default_factory=time.time)
    attempts: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    job_name: str = ""
    returncode: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as ``job.json`` stores it."""
        data = asdict(self)
        data["state"] = self.state.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        """The record ``job.json`` holds; unknown keys are ignored, unknown states are UNKNOWN."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        try:
            known["state"] = JobState(known.get("state", "UNKNOWN"))
        except ValueError:
            known["state"] = JobState.UNKNOWN
        known.setdefault("executor", "local")
        known.setdefault("job_id", None)
        known.setdefault("source", "journal")
        return cls(**known)

    def age(self, now: float | None = None) -> float:
        """Seconds since the state was read."""
        return (time.time() if now is None else now) - self.updated


def write_json_atomically(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        message = f"cannot write {path}: {error.strerror}; check that the folder is writable"
        raise StoreError(message) from error


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as error:
        message = f"{path} is not valid JSON ({error}); remove it or restore it from a backup"
        raise StoreError(message) from error


def read_job(folder: Path) -> JobRecord | None:
    """The job recorded in ``folder``, or None when it never had one."""
    data = _read_json(folder / JOB_FILE)
    return None if data is None else JobRecord.from_json(data)


def write_job(folder: Path, record: JobRecord) -> None:
    """Record ``record`` as the latest job of the XP in ``folder``."""
    write_json_atomically(folder / JOB_FILE, record.to_json())


def write_exit_marker(folder: Path, returncode: int, job_id: str | None = None) -> None:
    """Say that the program of the XP in ``folder`` ended with ``returncode``."""
    marker = {"returncode": returncode, "t": time.time(), "job_id": job_id}
    write_json_atomically(folder / EXIT_MARKER, marker)


def read_exit_marker(folder: Path) -> dict[str, Any] | None:
    """The exit marker of the XP in ``folder``, or None while its program has not ended."""
    data = _read_json(folder / EXIT_MARKER)
    return data if isinstance(data, dict) else None
