"""Background jobs on this machine: one detached supervisor per XP, a few at a time.

:meth:`LocalExecutor.submit` starts ``python -m overseer_xpmanager.supervise`` in a session
of its own, so that it outlives the command that launched it; its job id is
``local-<pid>``. Before starting the XP's program the supervisor takes one of
``max_parallel`` slots (``fcntl`` locks on ``<root>/.local-slots/<i>.lock``): until then
the job is PENDING, RUNNING after. ``process.json`` in the XP folder records the pids of
the supervisor and of the program with their start times, so that a pid reused by another
process is never taken for the job's::

    executor = LocalExecutor(store, max_parallel=2)
    executor.submit(xp, {})
    executor.wait(xp).state  # JobState.COMPLETED
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from ._job_updates import journal, record_alive, record_job_id, record_reading, restore
from ._processes import is_running, read_process, record_process
from .errors import SubmissionError, XPManagerError
from .job import JobRecord, JobState, read_exit_marker
from .store import XP, Store

__all__ = ["LocalExecutor"]

#: Seconds a journaled submission may go without a job id before it counts as lost.
LOST_SUBMISSION_S = 10.0
#: Seconds between SIGTERM and SIGKILL when cancelling (the supervisor itself gives its
#: program 5 s).
CANCEL_GRACE_S = 8.0
_POLL_S = 0.1

# Supervisors started by this process, kept so that they are reaped when they end.
_started: list[subprocess.Popen[bytes]] = []


class LocalExecutor:
    """Runs XPs as background processes on this machine.

    Args:
        store: the XP store.
        max_parallel: XPs running at once; the others wait, PENDING, for a slot.
    """

    name = "local"

    def __init__(self, store: Store, max_parallel: int | None = None) -> None:
        count = (os.cpu_count() or 1) if max_parallel is None else max_parallel
        if count < 1:
            message = f"max_parallel={count} runs nothing: give 1 or more XPs at once (-j N)"
            raise XPManagerError(message)
        self.store = store
        self.max_parallel = count

    def submit(self, xp: XP, settings: Mapping[str, Any]) -> JobRecord:
        """Start a supervisor for ``xp``; its job record (PENDING until it gets a slot).

        ``settings`` may hold ``overseer_flags`` (a list), ``cwd`` (the folder the program
        runs in) and ``nprocs``; they are recorded whole in the job.

        Raises:
            SubmissionError: the supervisor could not be started.
        """
        previous = journal(xp, self.name, settings)
        process = self._start(xp, settings, previous)
        job_id = f"local-{process.pid}"
        known = read_process(xp.folder)
        if known is None or known.get("job_id") != job_id:
            record_process(xp.folder, job_id, process.pid)
        return record_job_id(xp, job_id)

    def _start(
        self, xp: XP, settings: Mapping[str, Any], previous: JobRecord | None
    ) -> subprocess.Popen[bytes]:
        command = [
            sys.executable,
            "-m",
            "overseer_xpmanager.supervise",
            str(self.store.root),
            xp.sig,
            f"--slots={self.max_parallel}",
            f"--nprocs={int(settings.get('nprocs', 1))}",
            *(f"--overseer-flag={flag}" for flag in settings.get("overseer_flags", ())),
        ]
        cwd = str(settings.get("cwd") or os.getcwd())
        command.append(f"--cwd={cwd}")
        try:
            with (xp.folder / "supervisor.log").open("ab") as log:
                process = subprocess.Popen(
                    command,
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except OSError as error:
            restore([xp], [previous])
            message = f"cannot start a supervisor for XP {xp.sig} in {cwd}: {error}"
            raise SubmissionError(message) from error
        _started.append(process)
        return process

    def state(self, xp: XP) -> JobRecord:
        """The XP's job as its processes and exit marker tell it, recorded in ``job.json``.

        Raises:
            XPManagerError: the XP has no job.
        """
        _reap()
        record = xp.job()
        if record is None:
            message = f"XP {xp.sig} has no job: launch it first"
            raise XPManagerError(message)
        if record.executor != self.name or record.state.done:
            return record
        if record.job_id is None:
            lost = record.age() > LOST_SUBMISSION_S
            return record_reading(xp, record, JobState.UNKNOWN, "journal") if lost else record
        return self._read(xp, record)

    def _read(self, xp: XP, record: JobRecord) -> JobRecord:
        process = _process_of(xp.folder, record.job_id)
        alive = is_running(process["pid"], process.get("start"))
        marker = read_exit_marker(xp.folder)
        if marker is not None and marker.get("job_id") == record.job_id:
            final = xp.job() or record
            if final.state.done:
                return final
            code = int(marker["returncode"])
            return record_reading(xp, record, _state_of(code), "marker", code)
        if alive:
            return record_alive(xp, record)
        _stop_children(process, signal.SIGKILL)
        return record_reading(xp, record, JobState.FAILED, "process")

    def cancel(self, xp: XP) -> None:
        """SIGTERM the job's processes, SIGKILL what is left after a grace, record CANCELLED."""
        record = self.state(xp)
        if not record.state.live or record.job_id is None:
            return
        process = _process_of(xp.folder, record.job_id)
        _signal(process["pid"], process.get("start"), signal.SIGTERM)
        deadline = time.monotonic() + CANCEL_GRACE_S
        while is_running(process["pid"], process.get("start")):
            if time.monotonic() > deadline:
                _signal(process["pid"], process.get("start"), signal.SIGKILL)
                break
            _reap()
            time.sleep(_POLL_S)
        _stop_children(_process_of(xp.folder, record.job_id), signal.SIGKILL)
        marker = read_exit_marker(xp.folder) or {}
        code = marker.get("returncode")
        record_reading(xp, record, JobState.CANCELLED, "process", code)

    def wait(self, xp: XP, timeout: float | None = None) -> JobRecord:
        """The job once it ended, or as it stands after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        record = self.state(xp)
        while record.state.live and (deadline is None or time.monotonic() < deadline):
            time.sleep(_POLL_S)
            record = self.state(xp)
        return record


def _state_of(returncode: int) -> JobState:
    return JobState.COMPLETED if returncode == 0 else JobState.FAILED


def _reap() -> None:
    _started[:] = [process for process in _started if process.poll() is None]


def _process_of(folder: Path, job_id: str | None) -> dict[str, Any]:
    """What ``process.json`` says of job ``job_id``; the pid its id names otherwise."""
    process = read_process(folder)
    if process is not None and process.get("job_id") == job_id:
        return process
    pid = int(job_id.rpartition("-")[2]) if job_id and job_id[-1].isdigit() else -1
    return {"job_id": job_id, "pid": pid, "start": None, "children": []}


def _stop_children(process: Mapping[str, Any], number: int) -> None:
    for pid, start in process.get("children", []):
        _signal(pid, start, number)


def _signal(pid: int, start: int | None, number: int) -> None:
    """Signal ``pid``'s process group, if ``pid`` is still the process that was recorded."""
    if pid <= 0 or not is_running(pid, start):
        return
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, number)
