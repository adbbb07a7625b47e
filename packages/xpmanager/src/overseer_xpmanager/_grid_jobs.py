"""What reconciling a grid does to jobs: schedule, predict, cancel, clear, drop."""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from .errors import StoreError
from .job import JobRecord, JobState
from .schedule import JobExecutor, current_job, executor_for, schedule, settings_difference
from .store import XP, Store

__all__ = [
    "GridAction",
    "GridExecutor",
    "Rules",
    "cancel_live",
    "clear_xp",
    "current_job",
    "drop_xp",
    "schedule_xps",
]

#: Files of an XP folder that ``clear`` keeps: what defines the XP, and its lock.
_CANCEL_WAIT = 10.0


#: What a grid needs from an executor: submit, state, cancel (and ``submit_array``, used
#: for job arrays when the executor has it).
GridExecutor = JobExecutor


@dataclass
class GridAction:
    """What :func:`reconcile` did, or would do in a dry run, for one XP.

    Attributes:
        sig: the XP's signature.
        action: ``submitted``, ``kept``, ``replaced``, ``resubmitted-settings-changed``,
            ``skipped-failed``, ``skipped-completed``, ``cancelled``, ``cleared`` or
            ``dropped`` (no longer in the grid: live job cancelled, link removed).
        job: the XP's job after the action, when it has one.
        done: False in a dry run (nothing was written nor submitted).
        detail: more words for the user.
        alias: the XP's alias, empty when it has none yet.

    Example:
        >>> print(GridAction("63e21adfdcc3", "kept", alias="neat-funds"))
        63e21adfdcc3 (neat-funds) kept
    """

    sig: str
    action: str
    job: JobRecord | None = None
    done: bool = True
    detail: str = ""
    alias: str = ""

    def __str__(self) -> str:
        name = f"{self.sig} ({self.alias})" if self.alias else self.sig
        verb = self.action if self.done else f"would be {self.action}"
        job_id = self.job.job_id if self.job is not None else None
        job = f", job {job_id}" if job_id and job_id not in self.detail else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{name} {verb}{job}{detail}"


@dataclass(frozen=True)
class Rules:
    """When an XP gets a new job (see :func:`overseer_xpmanager.grid.reconcile`)."""

    retry: bool
    replace: bool
    rerun: bool
    dry_run: bool


def drop_xp(
    store: Store, grid_name: str, sig: str, executor: GridExecutor, dry_run: bool
) -> GridAction:
    """Cancel the live job of an XP the grid no longer asks for, and unlink it from the grid."""
    xp = XP(store, sig)
    try:
        record = current_job(xp, executor)
    except StoreError as error:
        record, detail = None, f"job unreadable ({error})"
    else:
        detail = "no live job"
    if record is not None and record.state.live:
        detail = f"job {record.job_id} cancelled"
        if not dry_run:
            executor_for(record, executor, store).cancel(xp)
            record = xp.job()
    if not dry_run:
        store.unlink_from_grid(grid_name, sig)
    return GridAction(sig, "dropped", record, not dry_run, detail)


def cancel_live(xps: list[XP], executor: GridExecutor, dry_run: bool) -> list[GridAction]:
    """Cancel every live job of ``xps``: one action per job cancelled."""
    actions = []
    for xp in xps:
        record = current_job(xp, executor)
        if record is None or not record.state.live:
            continue
        if not dry_run:
            executor_for(record, executor, xp.store).cancel(xp)
        detail = f"job {record.job_id}"
        actions.append(
            GridAction(xp.sig, "cancelled", record if dry_run else xp.job(), not dry_run, detail)
        )
    return actions


def clear_xp(xp: XP, executor: GridExecutor) -> GridAction:
    """Cancel the XP's job, wait for it to end, then remove all but its definition.

    Raises:
        StoreError: the job still runs after the wait.
    """
    record = current_job(xp, executor)
    if record is not None and record.state.live:
        owner = executor_for(record, executor, xp.store)
        owner.cancel(xp)
        _wait_ended(xp, owner)
    removed = xp.clear_runs()
    return GridAction(xp.sig, "cleared", None, True, f"{removed} files and folders removed")


def _wait_ended(xp: XP, executor: GridExecutor) -> None:
    deadline = time.monotonic() + _CANCEL_WAIT
    while executor.state(xp).state.live:
        if time.monotonic() > deadline:
            message = (
                f"XP {xp.sig} still has a live job {_CANCEL_WAIT:g} s after it was cancelled: "
                "wait for it to end, then clear the grid again"
            )
            raise StoreError(message)
        time.sleep(0.1)


def schedule_xps(
    xps: list[XP], executor: GridExecutor, settings: dict[str, Any], rules: Rules
) -> list[GridAction]:
    """Schedule XPs launched together: one array job when there are several and the executor
    submits arrays, else one job each; in a dry run, only say what would be done."""
    if rules.dry_run:
        return [_predict(xp, executor, settings, rules) for xp in xps]
    if len(xps) > 1 and hasattr(executor, "submit_array"):
        return _schedule_array(xps, executor, settings, rules)
    return [_schedule_one(xp, executor, settings, rules) for xp in xps]


def _schedule_one(
    xp: XP, executor: GridExecutor, settings: dict[str, Any], rules: Rules
) -> GridAction:
    action, record = schedule(
        xp, executor, settings, retry=rules.retry, replace=rules.replace, rerun=rules.rerun
    )
    return GridAction(xp.sig, str(action), record, detail=action.detail)


def _predict(xp: XP, executor: GridExecutor, settings: dict[str, Any], rules: Rules) -> GridAction:
    record = current_job(xp, executor)
    action, detail = _decide(record, settings, rules)
    return GridAction(xp.sig, action, record, done=False, detail=detail)


_SUBMITTING = frozenset({"submitted", "replaced", "resubmitted-settings-changed"})


def _decide(record: JobRecord | None, settings: Mapping[str, Any], rules: Rules) -> tuple[str, str]:
    """The action the rules of :func:`~overseer_xpmanager.schedule.schedule` take, and why."""
    if record is None:
        return "submitted", ""
    state = f"{record.state.value} job {record.job_id or ''}".rstrip()
    if record.state.live:
        difference = settings_difference(record.settings, settings)
        if rules.replace:
            return "replaced", state
        if record.state is JobState.PENDING and difference:
            return "resubmitted-settings-changed", difference
        return "kept", state
    if record.state is JobState.COMPLETED:
        return ("submitted" if rules.rerun else "skipped-completed"), state
    if record.state.done and not rules.retry:
        return "skipped-failed", state
    return "submitted", state


def _schedule_array(
    xps: list[XP], executor: GridExecutor, settings: dict[str, Any], rules: Rules
) -> list[GridAction]:
    with ExitStack() as stack:
        for xp in xps:
            stack.enter_context(xp.lock(timeout=60))
        records = {xp.sig: current_job(xp, executor) for xp in xps}
        decided = {xp.sig: _decide(records[xp.sig], settings, rules) for xp in xps}
        chosen = [xp for xp in xps if decided[xp.sig][0] in _SUBMITTING]
        for xp in chosen:
            record = records[xp.sig]
            if record is not None and record.state.live:
                executor_for(record, executor, xp.store).cancel(xp)
        if chosen:
            submitted = executor.submit_array(chosen, settings)  # type: ignore[attr-defined]
            records.update(zip((xp.sig for xp in chosen), submitted, strict=True))
    actions = []
    for xp in xps:
        action, detail = decided[xp.sig]
        actions.append(GridAction(xp.sig, action, records[xp.sig], detail=detail))
    return actions
