"""Jobs on a Slurm cluster, submitted through submitit, each running the XP's supervisor.

The job is named ``xp-<sig>`` and runs :class:`SupervisedJob`, which supervises one attempt
of the XP in its folder; on SIGUSR2 or a timeout submitit asks it for a checkpoint, requeues
it, and the next attempt resumes from what the XP's folder holds::

    executor = SlurmExecutor(store)
    executor.submit(xp, {"gpus": 2, "partition": "debug", "time": 60})
    executor.state(xp).state  # PENDING, then RUNNING, COMPLETED (read from sacct)

Submission is journaled: ``job.json`` says SUBMITTING, with the job's name, before sbatch
runs, so a command that dies between the two leaves a trace; the next one finds the job by
its name (squeue, then sacct) instead of submitting it twice. States come from sacct when
accounting works, else squeue, else ``scontrol``, else the XP's exit marker
(:func:`slurm_state`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import time
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

from ._job_updates import journal, record_job_id, record_reading, restore, update_job
from ._slurm_commands import find_job, require_slurm, scancel, slurm_state, squeue_state
from .errors import SubmissionError, XPManagerError
from .job import JobRecord, JobState
from .store import XP, Store
from .supervise import supervise

__all__ = ["SETTINGS", "SlurmExecutor", "SupervisedJob", "slurm_state", "submitit_parameters"]

#: Settings a Slurm job takes (Dora's names); ``overseer_flags``, ``cwd`` and ``nprocs``
#: tell how the XP runs. ``time`` is in minutes, ``mem`` and ``mem_per_gpu`` in GB.
SETTINGS = frozenset(
    {
        "gpus", "partition", "comment", "constraint", "exclude", "qos", "account", "time",
        "mem_per_gpu", "mem", "cpus_per_gpu", "cpus_per_task", "array", "array_parallelism",
        "setup", "srun_args", "one_task_per_node", "max_num_timeout",
        "slurm_additional_parameters", "overseer_flags", "cwd", "nprocs",
    }
)  # fmt: skip
GPUS_PER_NODE = 8
#: GB of memory per GPU (per node without GPU) unless ``mem_per_gpu`` or ``mem`` says.
DEFAULT_MEM_PER_GPU = 1.0
DEFAULT_TIME_MIN = 1200
#: Seconds a journaled submission may go without a job id before it counts as lost.
LOST_SUBMISSION_S = 60.0
#: Seconds :meth:`SlurmExecutor.cancel` waits for Slurm to stop a cancelled job.
CANCEL_WAIT_S = 30.0
_PASSED_AS_IS = {"partition": "slurm_partition", "comment": "slurm_comment",
                 "constraint": "slurm_constraint", "exclude": "slurm_exclude",
                 "qos": "slurm_qos", "account": "slurm_account", "setup": "slurm_setup",
                 "slurm_additional_parameters": "slurm_additional_parameters",
                 "srun_args": "slurm_srun_args", "array": "slurm_array_parallelism",
                 "array_parallelism": "slurm_array_parallelism"}  # fmt: skip


class SupervisedJob:
    """What a Slurm job runs: the supervisor of one XP, requeued with its folder on preemption.

    Args:
        root: the store's root.
        sig: the XP's signature.
        overseer_flags: flags of the ``overseer`` command.
        cwd: the folder the XP's program runs in.
    """

    def __init__(
        self, root: str, sig: str, overseer_flags: Sequence[str] = (), cwd: str | None = None
    ) -> None:
        self.root = str(root)
        self.sig = sig
        self.overseer_flags = list(overseer_flags)
        self.cwd = cwd

    def __call__(self) -> int:
        """Run one attempt; raise when the program fails, so that Slurm records FAILED."""
        import submitit

        environment = submitit.JobEnvironment()
        if environment.num_tasks > 1:
            submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
        xp = Store(self.root).load(self.sig)
        returncode = supervise(
            xp, echo=False, overseer_flags=self.overseer_flags, cwd=self.cwd,
            job_id=environment.job_id, executor="slurm", rank=environment.global_rank,
        )  # fmt: skip
        if returncode != 0:
            message = f"XP {self.sig} ended with status {returncode}; see {xp.log_path}"
            raise XPManagerError(message)
        return returncode

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        """Called by submitit before a requeue: the XP resumes from its folder."""
        import submitit

        job_id = submitit.JobEnvironment().job_id

        def requeued(record: JobRecord | None) -> JobRecord | None:
            if record is None or record.job_id != job_id:
                return None
            record.state, record.source, record.updated = JobState.REQUEUED, "process", time.time()
            return record

        update_job(Store(self.root).xps_folder / self.sig, requeued)
        return submitit.helpers.DelayedSubmission(self)

    def __repr__(self) -> str:
        return f"SupervisedJob(root={self.root!r}, sig={self.sig!r})"


def submitit_parameters(name: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """submitit's ``update_parameters`` arguments for a job named ``name`` with ``settings``.

    GPUs spread over nodes of at most 8, one task per GPU; memory is ``mem_per_gpu`` GB per
    GPU of a node (``mem`` GB per node overrides it).

    Example:
        >>> submitit_parameters("xp-abc", {"gpus": 16, "partition": "debug"})["nodes"]
        2

    Raises:
        SubmissionError: an unknown setting, or GPUs that do not fill whole nodes.
    """
    unknown = sorted(set(settings) - SETTINGS)
    if unknown:
        message = f"unknown Slurm setting(s) {', '.join(unknown)}: known ones are " + ", ".join(
            sorted(SETTINGS)
        )
        raise SubmissionError(message)
    gpus = int(settings.get("gpus") or 0)
    if gpus > GPUS_PER_NODE and gpus % GPUS_PER_NODE:
        message = f"gpus={gpus} spans nodes of {GPUS_PER_NODE} GPUs: ask a multiple of 8"
        raise SubmissionError(message)
    per_node = min(gpus, GPUS_PER_NODE)
    mem_per_gpu = float(settings.get("mem_per_gpu") or DEFAULT_MEM_PER_GPU)
    mem = settings.get("mem") or mem_per_gpu * max(per_node, 1)
    cpus = settings.get("cpus_per_task") or settings.get("cpus_per_gpu") or 1
    tasks = 1 if settings.get("one_task_per_node") else max(per_node, 1)
    parameters: dict[str, Any] = {
        "name": name,
        "nodes": max(1, math.ceil(gpus / GPUS_PER_NODE)),
        "tasks_per_node": tasks,
        "cpus_per_task": int(cpus),
        "mem_gb": float(mem),
        "timeout_min": int(settings.get("time") or DEFAULT_TIME_MIN),
    }
    if gpus:
        parameters["gpus_per_node"] = per_node
    for key, parameter in _PASSED_AS_IS.items():
        if settings.get(key) not in (None, "", [], {}):
            parameters[parameter] = settings[key]
    return parameters


class SlurmExecutor:
    """Runs XPs as Slurm jobs through submitit.

    Args:
        store: the XP store.
    """

    name = "slurm"

    def __init__(self, store: Store) -> None:
        self.store = store

    def submit(self, xp: XP, settings: Mapping[str, Any]) -> JobRecord:
        """Submit one job for ``xp``; its record (PENDING).

        Raises:
            ClusterError: Slurm's commands are missing.
            SubmissionError: bad settings, or sbatch refused the job (the XP is left as it was).
        """
        require_slurm()
        name = f"xp-{xp.sig}"
        parameters = submitit_parameters(name, settings)
        found = self._recover(xp)
        if found is not None and found.state.live:
            return found
        previous = journal(xp, self.name, settings, name)
        executor = _submitit_executor(xp.submitit_folder, parameters, settings)
        try:
            # submitit prints sbatch's complaint too: it is in the error raised.
            with redirect_stderr(io.StringIO()):
                job = executor.submit(_job_for(xp, settings))
        except Exception as error:  # sbatch's refusal comes as whatever submitit raises
            restore([xp], [previous])
            raise _submission_error(xp.sig, error) from error
        return record_job_id(xp, str(job.job_id))

    def submit_array(self, xps: Sequence[XP], settings: Mapping[str, Any]) -> list[JobRecord]:
        """Submit ``xps`` as one Slurm job array with ``settings``; their records, in order."""
        if len(xps) < 2:
            return [self.submit(xp, settings) for xp in xps]
        require_slurm()
        digest = hashlib.blake2b("".join(xp.sig for xp in xps).encode(), digest_size=5)
        name = f"xp-array-{digest.hexdigest()}"
        parameters = submitit_parameters(name, settings)
        folder = self.store.root / "submitit"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps([xp.sig for xp in xps]))
        previous = [journal(xp, self.name, settings, name) for xp in xps]
        executor = _submitit_executor(folder, parameters, settings)
        try:
            with redirect_stderr(io.StringIO()), executor.batch():
                jobs = [executor.submit(_job_for(xp, settings)) for xp in xps]
        except Exception as error:  # sbatch's refusal comes as whatever submitit raises
            restore(xps, previous)
            raise _submission_error(name, error) from error
        return [record_job_id(xp, str(job.job_id)) for xp, job in zip(xps, jobs, strict=True)]

    def state(self, xp: XP) -> JobRecord:
        """The XP's job as Slurm tells it, recorded in ``job.json``.

        Raises:
            XPManagerError: the XP has no job.
        """
        record = xp.job()
        if record is None:
            message = f"XP {xp.sig} has no job: launch it first"
            raise XPManagerError(message)
        if record.executor != self.name or record.state.done:
            return record
        if record.job_id is None:
            found = self._recover(xp)
            if found is not None:
                return found
            lost = record.state is JobState.SUBMITTING and record.age() > LOST_SUBMISSION_S
            return record_reading(xp, record, JobState.UNKNOWN, "journal") if lost else record
        state, source = slurm_state(record.job_id, xp.folder)
        if source == "none":
            return record
        return record_reading(xp, record, state, source)

    def _recover(self, xp: XP) -> JobRecord | None:
        """The job a journaled, unfinished submission made, found by its name; else None."""
        record = xp.job()
        if record is None or record.job_id is not None or record.state is not JobState.SUBMITTING:
            return None
        array = record.job_name.startswith("xp-array-")
        folder = self.store.root / "submitit" if array else xp.submitit_folder
        job_id = find_job(record.job_name, record.updated - 60, folder)
        if job_id is not None and array:
            job_id = _array_task(folder / f"{record.job_name}.json", job_id, xp.sig)
        if job_id is None:
            return None
        record_job_id(xp, job_id)
        return self.state(xp)

    def cancel(self, xp: XP) -> None:
        """scancel the XP's job, wait until Slurm stopped it (a while at most), record CANCELLED."""
        record = self.state(xp)
        if not record.state.live or record.job_id is None:
            return
        scancel(record.job_id)
        deadline = time.monotonic() + CANCEL_WAIT_S
        while time.monotonic() < deadline and _still_queued(record.job_id):
            time.sleep(0.5)
        record_reading(xp, record, JobState.CANCELLED, "scancel")

    def wait(self, xp: XP, timeout: float | None = None, poll: float = 1.0) -> JobRecord:
        """The job once it ended, or as it stands after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        record = self.state(xp)
        while record.state.live and (deadline is None or time.monotonic() < deadline):
            time.sleep(poll)
            record = self.state(xp)
        return record


def _submitit_executor(
    folder: Path, parameters: Mapping[str, Any], settings: Mapping[str, Any]
) -> Any:
    import submitit

    timeouts = int(settings.get("max_num_timeout") or 3)
    executor = submitit.AutoExecutor(folder=folder, cluster="slurm", slurm_max_num_timeout=timeouts)
    executor.update_parameters(**parameters)
    return executor


def _still_queued(job_id: str) -> bool:
    state = squeue_state(job_id)
    return state is not None and state.live


def _array_task(listing: Path, array_id: str, sig: str) -> str | None:
    """``<array id>_<index of sig>`` from the array's list of signatures; None if unknown."""
    try:
        sigs = json.loads(listing.read_text(encoding="utf-8"))
        return f"{array_id}_{sigs.index(sig)}"
    except (OSError, ValueError, AttributeError):
        return None


def _job_for(xp: XP, settings: Mapping[str, Any]) -> SupervisedJob:
    flags = list(settings.get("overseer_flags", ()))
    cwd = settings.get("cwd")
    return SupervisedJob(str(xp.store.root), xp.sig, flags, None if cwd is None else str(cwd))


def _submission_error(what: str, error: Exception) -> SubmissionError:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    said = next((line for line in lines if "error" in line.lower()), lines[-1] if lines else "")
    message = f"sbatch refused the job of {what}: {said or type(error).__name__}"
    return SubmissionError(message, details=str(error))
