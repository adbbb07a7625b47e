"""The supervisor runs one attempt of an XP under the overseer and keeps all it does."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from overseer_xpmanager.errors import ProjectError
from overseer_xpmanager.job import JobRecord, JobState, read_exit_marker
from overseer_xpmanager.jsonl import read_jsonl
from overseer_xpmanager.store import XP, Store, XPDefinition
from overseer_xpmanager.supervise import child_command, import_root, supervise

PROJECTS = Path(__file__).parent / "projects"


def make_xp(store: Store, *argv: str) -> XP:
    main = importlib.import_module("argproj.train").main
    return store.ensure(main.definition(list(argv)))


def events(xp: XP) -> list[dict[str, object]]:
    return read_jsonl(xp.events_path).records


def wait_until(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def start_supervisor(xp: XP, *options: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "overseer_xpmanager.supervise", str(xp.store.root), xp.sig]
    return subprocess.Popen(
        [*command, *options],
        cwd=PROJECTS,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_child_command_runs_the_train_module_under_the_overseer(store: Store) -> None:
    xp = make_xp(store, "--epochs=2")
    command = child_command(xp, overseer_flags=["--log-given"])
    assert command == [
        sys.executable, "-m", "overseer", "--log-given", "-m", "argproj.train", "--epochs=2",
    ]  # fmt: skip
    assert import_root("argproj") == PROJECTS


def test_a_completed_attempt_leaves_events_log_history_job_and_marker(store: Store) -> None:
    xp = make_xp(store, "--epochs=3")
    assert supervise(xp, echo=False) == 0
    kinds = [entry["event"] for entry in events(xp)]
    assert kinds[0] == "start"
    assert kinds[-1] == "end"
    log = xp.log_path.read_text().splitlines()
    assert log[0].startswith("== attempt 1, ")
    epochs = ["epoch 0 loss 0.1000", "epoch 1 loss 0.0500", "epoch 2 loss 0.0333"]
    assert log[1:] == [*epochs, f"done {xp.sig}"]
    assert [entry["epoch"] for entry in xp.link.history] == [0, 1, 2]
    job = xp.job()
    assert job is not None
    assert (job.state, job.returncode, job.attempts) == (JobState.COMPLETED, 0, 1)
    marker = read_exit_marker(xp.folder)
    assert marker is not None
    assert marker["returncode"] == 0
    assert marker["job_id"] == job.job_id


def test_a_failing_program_fails_the_job_and_its_traceback_is_logged(store: Store) -> None:
    xp = make_xp(store, "--crash")
    returncode = supervise(xp, echo=False)
    assert returncode == 3
    job = xp.job()
    assert job is not None
    assert (job.state, job.returncode) == (JobState.FAILED, returncode)
    assert "crashing as asked (--crash)" in xp.log_path.read_text()


def test_a_second_attempt_resumes_and_appends_to_everything(store: Store) -> None:
    xp = make_xp(store, "--epochs=3", "--crash")
    supervise(xp, echo=False)
    supervise(xp, echo=False)
    log = xp.log_path.read_text()
    assert "== attempt 1, " in log
    assert "== attempt 2, " in log
    assert "resuming from epoch 1" in log
    assert [entry["epoch"] for entry in xp.link.history] == [0, 1]
    assert [entry["event"] for entry in events(xp)].count("start") == 2
    job = xp.job()
    assert job is not None
    assert job.attempts == 2


def test_a_run_that_recorded_its_job_first_is_counted_once(store: Store) -> None:
    xp = make_xp(store, "--epochs=1")
    record = JobRecord(
        executor="local", job_id=f"local-{os.getpid()}", state=JobState.RUNNING,
        source="process", attempts=3,
    )  # fmt: skip
    xp.write_job(record)
    supervise(xp, echo=False)
    job = xp.job()
    assert job is not None
    assert (job.attempts, job.state) == (3, JobState.COMPLETED)


def test_the_entry_point_echoes_stdout_and_stderr_lines(store: Store) -> None:
    xp = make_xp(store, "--crash")
    process = start_supervisor(xp, "--echo", "--overseer-flag=--log-given")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 3, err
    assert out.splitlines() == ["epoch 0 loss 0.1000"]
    assert "crashing as asked (--crash)" in err.splitlines()
    given = [entry["data"] for entry in events(xp) if entry["event"] == "data"]
    assert {"epoch": 0, "loss": 0.1} in given


def test_sigterm_reaches_the_program_and_cancels_the_job(store: Store) -> None:
    xp = make_xp(store, "--epochs=100", "--sleep=0.2")
    process = start_supervisor(xp)
    wait_until(lambda: len(xp.link.history) >= 1)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    job = xp.job()
    assert job is not None
    assert job.state is JobState.CANCELLED
    assert job.returncode not in (None, 0)
    marker = read_exit_marker(xp.folder)
    assert marker is not None
    assert marker["returncode"] == job.returncode
    pushed = len(xp.link.history)
    time.sleep(0.5)
    assert len(xp.link.history) == pushed, "the program still runs"


def test_a_killed_supervisor_leaves_no_marker_and_keeps_the_history(store: Store) -> None:
    xp = make_xp(store, "--epochs=100", "--sleep=0.2")
    process = start_supervisor(xp)
    wait_until(lambda: len(xp.link.history) >= 2)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert read_exit_marker(xp.folder) is None
    job = xp.job()
    assert job is not None
    assert job.state is JobState.RUNNING
    assert [entry["epoch"] for entry in xp.link.history][:2] == [0, 1]
    children = [e["data"]["pid"] for e in events(xp) if e["event"] == "start"]  # type: ignore[index]
    for pid in children:
        os.killpg(int(pid), signal.SIGKILL)  # the executors' state readers do this


def test_several_processes_run_at_once_each_with_its_rank(store: Store) -> None:
    xp = make_xp(store, "--epochs=1")
    assert supervise(xp, echo=False, nprocs=2) == 0
    starts = [entry for entry in events(xp) if entry["event"] == "start"]
    assert sorted(entry["index"] for entry in starts) == [0, 1]  # type: ignore[type-var]
    # Rank 0's lines go to output.log, rank 1's to a log of its own in the XP folder.
    # Both ranks share the XP's checkpoint: which one trains epoch 0 varies, both end.
    assert f"done {xp.sig}" in xp.log_path.read_text().splitlines()
    rank_log = xp.folder / "output.rank1.log"
    assert f"done {xp.sig}" in rank_log.read_text().splitlines()


def test_an_xp_without_package_cannot_run(store: Store) -> None:
    xp = store.ensure(XPDefinition(argv=["--lr=1"], delta={"lr": 1}, package=""))
    with pytest.raises(ProjectError, match="names no project package"):
        supervise(xp, echo=False)
