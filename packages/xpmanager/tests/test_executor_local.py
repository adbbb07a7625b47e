"""Background jobs: detached supervisors, slots, state from processes and markers, cancel."""

from __future__ import annotations

import importlib
import itertools
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from overseer_xpmanager._processes import is_running, read_process, record_process
from overseer_xpmanager.errors import XPManagerError
from overseer_xpmanager.executor_local import LocalExecutor
from overseer_xpmanager.job import JobRecord, JobState
from overseer_xpmanager.jsonl import read_jsonl
from overseer_xpmanager.store import XP, Store

PROJECTS = Path(__file__).parent / "projects"
SETTINGS = {"cwd": str(PROJECTS)}


@pytest.fixture
def executor(store: Store) -> Iterator[LocalExecutor]:
    executor = LocalExecutor(store, max_parallel=2)
    yield executor
    for xp in store.xps():
        job = xp.job()
        if job is not None and job.state.live:
            executor.cancel(xp)


def make_xp(store: Store, *argv: str) -> XP:
    main = importlib.import_module("argproj.train").main
    return store.ensure(main.definition(list(argv)))


@pytest.fixture
def job_process() -> Iterator[int]:
    """The pid of a process of its own session that stands for a job's.

    Not this process: the store's cleanup cancels a job it finds live, signalling its
    process's group, which would then be the test run's.
    """
    child = subprocess.Popen(["sleep", "600"], start_new_session=True)
    yield child.pid
    child.kill()
    child.wait()


def wait_until(condition: object, timeout: float = 30.0, xp: XP | None = None) -> None:
    """Wait for ``condition``; on a timeout, show ``xp``'s job record and supervisor log."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"condition not met in time{describe(xp)}"
        time.sleep(0.05)


def describe(xp: XP | None) -> str:
    if xp is None:
        return ""
    log = xp.folder / "supervisor.log"
    text = log.read_text(errors="replace")[-2000:] if log.exists() else "(none)"
    return f"\njob.json: {xp.job()}\nsupervisor.log:\n{text}"


def run_span(xp: XP) -> tuple[float, float]:
    """When the XP's program started and ended, from its event stream."""
    entries = read_jsonl(xp.events_path).records
    start = next(float(e["t"]) for e in entries if e["event"] == "start")
    end = next(float(e["t"]) for e in entries if e["event"] == "end")
    return start, end


def test_a_submitted_job_runs_in_the_background_and_completes(
    store: Store, executor: LocalExecutor
) -> None:
    xp = make_xp(store, "--epochs=2")
    submitted = executor.submit(xp, SETTINGS)
    assert submitted.job_id == f"local-{read_process(xp.folder)['pid']}"  # type: ignore[index]
    assert submitted.state in {JobState.PENDING, JobState.RUNNING}
    assert submitted.settings == SETTINGS
    done = executor.wait(xp, timeout=60)
    assert (done.state, done.source, done.returncode, done.attempts) == (
        JobState.COMPLETED, "marker", 0, 1,
    )  # fmt: skip
    assert [entry["epoch"] for entry in xp.link.history] == [0, 1]
    assert "epoch 1 loss 0.0500" in xp.log_path.read_text()


def test_a_crash_is_failed_with_its_return_code(store: Store, executor: LocalExecutor) -> None:
    xp = make_xp(store, "--crash")
    executor.submit(xp, SETTINGS)
    done = executor.wait(xp, timeout=60)
    assert (done.state, done.returncode) == (JobState.FAILED, 3)


def test_one_slot_runs_three_xps_one_at_a_time(store: Store) -> None:
    executor = LocalExecutor(store, max_parallel=1)
    xps = [make_xp(store, f"--lr=0.{n + 1}", "--epochs=2", "--sleep=0.2") for n in range(3)]
    for xp in xps:
        executor.submit(xp, SETTINGS)

    def one_runs_two_wait() -> bool:
        states = sorted(executor.state(xp).state.value for xp in xps)
        return states == ["PENDING", "PENDING", "RUNNING"]

    wait_until(one_runs_two_wait)
    for xp in xps:
        assert executor.wait(xp, timeout=60).state is JobState.COMPLETED
    spans = sorted(run_span(xp) for xp in xps)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, f"two XPs ran at once: {spans}"


def test_cancel_stops_every_process_and_records_cancelled(
    store: Store, executor: LocalExecutor
) -> None:
    xp = make_xp(store, "--epochs=100", "--sleep=0.2")
    executor.submit(xp, SETTINGS)
    wait_until(lambda: len(xp.link.history) >= 1)
    process = read_process(xp.folder)
    assert process is not None
    executor.cancel(xp)
    job = executor.state(xp)
    assert job.state is JobState.CANCELLED
    assert not is_running(process["pid"], process["start"])
    for pid, start in process["children"]:
        assert not is_running(pid, start)


def test_cancel_of_a_pending_job(store: Store) -> None:
    executor = LocalExecutor(store, max_parallel=1)
    busy = make_xp(store, "--lr=0.9", "--epochs=100", "--sleep=0.2")
    waiting = make_xp(store, "--lr=0.8")
    executor.submit(busy, SETTINGS)
    wait_until(lambda: executor.state(busy).state is JobState.RUNNING, xp=busy)
    executor.submit(waiting, SETTINGS)
    time.sleep(0.5)
    assert executor.state(waiting).state is JobState.PENDING
    executor.cancel(waiting)
    executor.cancel(busy)
    assert executor.state(waiting).state is JobState.CANCELLED
    assert not xp_ran(waiting)


def xp_ran(xp: XP) -> bool:
    return xp.events_path.exists()


def test_a_killed_supervisor_is_failed_and_its_history_stays(
    store: Store, executor: LocalExecutor
) -> None:
    xp = make_xp(store, "--epochs=100", "--sleep=0.2")
    executor.submit(xp, SETTINGS)
    wait_until(lambda: len(xp.link.history) >= 2)
    process = read_process(xp.folder)
    assert process is not None
    os.killpg(process["pid"], signal.SIGKILL)
    wait_until(lambda: not is_running(process["pid"], process["start"]))
    job = executor.state(xp)
    assert (job.state, job.source) == (JobState.FAILED, "process")
    assert [entry["epoch"] for entry in xp.link.history][:2] == [0, 1]
    for pid, start in process["children"]:
        wait_until(lambda pid=pid, start=start: not is_running(pid, start))


def test_a_reused_pid_is_not_taken_for_the_job(
    store: Store, executor: LocalExecutor, job_process: int
) -> None:
    xp = make_xp(store)
    job_id = f"local-{job_process}"
    record = JobRecord(executor="local", job_id=job_id, state=JobState.RUNNING, source="process")
    xp.write_job(record)
    record_process(xp.folder, job_id, job_process)
    assert executor.state(xp).state is JobState.RUNNING
    process = read_process(xp.folder)
    assert process is not None
    process["start"] -= 1
    (xp.folder / "process.json").write_text(json.dumps(process))
    assert executor.state(xp).state is JobState.FAILED


def test_a_reading_does_not_undo_the_start_the_supervisor_recorded_meanwhile(
    store: Store, executor: LocalExecutor, job_process: int
) -> None:
    # A reader reads job.json (PENDING), the supervisor records RUNNING, the reader then sees
    # the process alive: what it records must not put PENDING back.
    xp = make_xp(store)
    job_id = f"local-{job_process}"
    read_before = JobRecord("local", job_id, JobState.PENDING, source="journal")
    xp.write_job(read_before)
    record_process(xp.folder, job_id, job_process)
    xp.write_job(JobRecord("local", job_id, JobState.RUNNING, source="process"))
    assert executor._read(xp, read_before).state is JobState.RUNNING
    job = xp.job()
    assert job is not None
    assert (job.state, job.source) == (JobState.RUNNING, "process")


def test_a_submission_lost_before_its_job_id_is_unknown(
    store: Store, executor: LocalExecutor
) -> None:
    xp = make_xp(store)
    lost = JobRecord(
        executor="local", job_id=None, state=JobState.SUBMITTING, source="journal",
        updated=time.time() - 60,
    )  # fmt: skip
    xp.write_job(lost)
    assert executor.state(xp).state is JobState.UNKNOWN


def test_state_of_an_xp_without_job_says_so(store: Store, executor: LocalExecutor) -> None:
    with pytest.raises(XPManagerError, match="has no job"):
        executor.state(make_xp(store))


def test_max_parallel_below_one_is_refused(store: Store) -> None:
    with pytest.raises(XPManagerError, match="max_parallel=0"):
        LocalExecutor(store, max_parallel=0)
