"""The ``log`` instrument: --log patterns, context keys, and its factory in a voirfile."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from overseer_instruments import ConfigurationError, log

Run = Callable[..., Any]


def data_records(done: Any) -> list[dict[str, Any]]:
    """The data records of a run, without the stream's ``$`` metadata."""
    return [
        {key: value for key, value in record.items() if not key.startswith("$")}
        for record in done.records
        if "$event" not in record
    ]


def test_matching_keys_and_the_task_reach_the_stream(run_overseer: Run) -> None:
    done = run_overseer("--log", "loss", "--log", "acc*", "log_train.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "trained\n"
    assert data_records(done) == [
        {"loss": 1.0, "acc_top1": 0.5, "task": "train"},
        {"loss": 0.5, "acc_top1": 0.6, "task": "train"},
        {"loss": 1.0 / 3, "acc_top1": 0.7, "task": "train"},
    ]


def test_comma_separated_patterns_and_context_keys(run_overseer: Run) -> None:
    done = run_overseer("--log", "loss,note", "--log-context", "epoch", "log_train.py")
    assert data_records(done) == [
        {"loss": 1.0, "epoch": 0},
        {"loss": 0.5, "epoch": 1},
        {"loss": 1.0 / 3, "epoch": 2},
        {"note": "done"},
    ]


def test_without_the_flag_nothing_is_written(run_overseer: Run) -> None:
    done = run_overseer("log_train.py")
    assert done.returncode == 0, done.stderr
    assert data_records(done) == []


def test_log_given_writes_each_record_once(run_overseer: Run) -> None:
    done = run_overseer("--log-given", "--log", "loss", "log_train.py")
    records = data_records(done)
    assert len(records) == 4
    assert records[0]["batch"] == [1, 2, 3]


def test_the_factory_in_a_voirfile(run_overseer: Run, workdir: Path) -> None:
    (workdir / "voirfile.py").write_text(
        "from overseer_instruments import log\n\n"
        "def instrument_main(ov):\n"
        "    ov.require(log('acc_*', context=('epoch', 'task')))\n"
    )
    done = run_overseer("log_train.py")
    assert data_records(done)[-1] == {"acc_top1": 0.7, "epoch": 2, "task": "train"}


def test_an_empty_pattern_is_refused_in_one_line(run_overseer: Run) -> None:
    done = run_overseer("--log", ",", "log_train.py")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "overseer: error: argument --log: expected names separated by commas,"
        " e.g. 'loss,acc*', not ','"
    )


@pytest.mark.parametrize("patterns", [(), ("",), (3,)])
def test_the_factory_refuses_bad_patterns(patterns: tuple[Any, ...]) -> None:
    with pytest.raises(ConfigurationError, match=r"log\(\)"):
        log(*patterns)
