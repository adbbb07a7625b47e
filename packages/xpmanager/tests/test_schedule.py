"""The scheduling rules: one job per XP, retry, replace, rerun, settings changes."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
from pathlib import Path

from overseer_xpmanager.executor_local import LocalExecutor
from overseer_xpmanager.job import JobState
from overseer_xpmanager.jsonl import read_jsonl
from overseer_xpmanager.schedule import Action, schedule, settings_difference
from overseer_xpmanager.store import XP, Store

PROJECTS = Path(__file__).parent / "projects"
SETTINGS = {"cwd": str(PROJECTS)}

# Two of these start at once: each schedules the same XP and prints its action.
LAUNCH = """\
import json, sys, time
from overseer_xpmanager.executor_local import LocalExecutor
from overseer_xpmanager.schedule import schedule
from overseer_xpmanager.store import Store
root, sig, cwd, start = sys.argv[1:]
store = Store(root)
xp = store.load(sig)
time.sleep(max(0.0, float(start) - time.time()))
action, job = schedule(xp, LocalExecutor(store), {"cwd": cwd})
print(json.dumps([action, job.job_id]))
"""


def make_xp(store: Store, *argv: str) -> XP:
    main = importlib.import_module("argproj.train").main
    return store.ensure(main.definition(list(argv)))


def starts(xp: XP) -> int:
    return sum(entry["event"] == "start" for entry in read_jsonl(xp.events_path).records)


def test_two_launches_at_once_make_one_job(store: Store) -> None:
    xp = make_xp(store, "--epochs=4", "--sleep=1")
    at = str(time.time() + 2.0)
    command = [sys.executable, "-c", LAUNCH, str(store.root), xp.sig, str(PROJECTS), at]
    launches = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    results = [json.loads(launch.communicate(timeout=60)[0]) for launch in launches]
    assert sorted(action for action, _ in results) == ["kept", "submitted"]
    assert results[0][1] == results[1][1]
    assert LocalExecutor(store).wait(xp, timeout=60).state is JobState.COMPLETED
    assert starts(xp) == 1


def test_a_live_job_is_kept_and_replace_submits_a_new_one(store: Store) -> None:
    executor = LocalExecutor(store)
    xp = make_xp(store, "--epochs=100", "--sleep=0.2")
    action, first = schedule(xp, executor, SETTINGS)
    assert action == "submitted"
    action, kept = schedule(xp, executor, SETTINGS)
    assert (action, kept.job_id) == ("kept", first.job_id)
    action, second = schedule(xp, executor, SETTINGS, replace=True)
    assert action == "replaced"
    assert str(first.job_id) in action.detail
    assert second.job_id != first.job_id
    assert second.state.live


def test_a_failed_job_waits_for_retry(store: Store) -> None:
    executor = LocalExecutor(store)
    xp = make_xp(store, "--crash")
    schedule(xp, executor, SETTINGS)
    failed = executor.wait(xp, timeout=60)
    assert failed.state is JobState.FAILED
    action, record = schedule(xp, executor, SETTINGS)
    assert (action, record.job_id) == ("skipped-failed", failed.job_id)
    action, record = schedule(xp, executor, SETTINGS, rerun=True, replace=True)
    assert action == "skipped-failed"
    action, record = schedule(xp, executor, SETTINGS, retry=True)
    assert action == "submitted"
    assert "retry after FAILED" in action.detail
    assert record.job_id != failed.job_id
    assert executor.wait(xp, timeout=60).attempts == 2


def test_a_completed_job_waits_for_rerun(store: Store) -> None:
    executor = LocalExecutor(store)
    xp = make_xp(store, "--epochs=1")
    schedule(xp, executor, SETTINGS)
    assert executor.wait(xp, timeout=60).state is JobState.COMPLETED
    assert schedule(xp, executor, SETTINGS, retry=True)[0] == "skipped-completed"
    action, record = schedule(xp, executor, SETTINGS, rerun=True)
    assert action == "submitted"
    assert record.state.live
    assert executor.wait(xp, timeout=60).state is JobState.COMPLETED
    assert starts(xp) == 2


def test_a_pending_job_whose_settings_changed_is_resubmitted(store: Store) -> None:
    executor = LocalExecutor(store, max_parallel=1)
    busy = make_xp(store, "--lr=0.9", "--epochs=100", "--sleep=0.2")
    schedule(busy, executor, SETTINGS)
    xp = make_xp(store, "--lr=0.7")
    action, first = schedule(xp, executor, SETTINGS | {"gpus": 1})
    assert action == "submitted"
    assert executor.state(xp).state is JobState.PENDING
    assert schedule(xp, executor, SETTINGS | {"gpus": 1})[0] == "kept"
    action, second = schedule(xp, executor, SETTINGS | {"gpus": 2})
    assert action == "resubmitted-settings-changed"
    assert action.detail == "gpus: 1 -> 2"
    assert second.job_id != first.job_id
    assert second.settings["gpus"] == 2
    executor.cancel(busy)
    assert executor.wait(xp, timeout=60).state is JobState.COMPLETED


def test_settings_difference_names_each_changed_setting() -> None:
    assert settings_difference({"gpus": 1}, {"gpus": 1}) == ""
    assert settings_difference({}, {"partition": "debug"}) == "partition: <unset> -> debug"


def test_an_action_compares_as_its_plain_name() -> None:
    action = Action("kept", "RUNNING job local-12 on local")
    assert action == "kept"
    assert action.describe() == "kept (RUNNING job local-12 on local)"
    assert Action("submitted").describe() == "submitted"
