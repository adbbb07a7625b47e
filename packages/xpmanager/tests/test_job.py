"""Job records and exit markers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from overseer_xpmanager.errors import StoreError
from overseer_xpmanager.job import (
    JobRecord,
    JobState,
    read_exit_marker,
    read_job,
    write_exit_marker,
    write_job,
)


def test_states_are_live_or_done_never_both() -> None:
    for state in JobState:
        assert not (state.live and state.done)
    assert JobState.RUNNING.live
    assert JobState.CANCELLED.done
    assert not JobState.UNKNOWN.live


def test_a_record_round_trips_through_job_json(tmp_path: Path) -> None:
    record = JobRecord(
        executor="slurm",
        job_id="12_3",
        state=JobState.PENDING,
        source="squeue",
        attempts=2,
        settings={"gpus": 2},
        job_name="xp-abc",
    )
    write_job(tmp_path, record)
    assert read_job(tmp_path) == record
    assert json.loads((tmp_path / "job.json").read_text())["state"] == "PENDING"


def test_unknown_states_and_keys_are_tolerated(tmp_path: Path) -> None:
    (tmp_path / "job.json").write_text('{"state": "BOOT_FAIL", "extra": 1, "job_id": "7"}')
    record = read_job(tmp_path)
    assert record is not None
    assert record.state is JobState.UNKNOWN
    assert record.job_id == "7"


def test_a_broken_job_file_is_a_one_line_store_error(tmp_path: Path) -> None:
    (tmp_path / "job.json").write_text('{"state": ')
    with pytest.raises(StoreError, match=r"job\.json is not valid JSON"):
        read_job(tmp_path)


def test_exit_markers(tmp_path: Path) -> None:
    assert read_exit_marker(tmp_path) is None
    assert read_job(tmp_path) is None
    write_exit_marker(tmp_path, 3, job_id="local-1")
    marker = read_exit_marker(tmp_path)
    assert marker is not None
    assert marker["returncode"] == 3
    assert marker["job_id"] == "local-1"
    assert not list(tmp_path.glob(".*.tmp"))
