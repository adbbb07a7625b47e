"""What the study reads back from its runs' event streams, without running a study."""

from __future__ import annotations

import json
from pathlib import Path

from overseer_rlbench.scaling import median_train_rate


def _entry(data: dict[str, object]) -> str:
    return json.dumps({"event": "data", "data": data, "pipe": None, "t": 0.0}) + "\n"


def test_the_median_train_rate_skips_other_records_and_torn_lines(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(
        _entry({"task": "train", "rate": 30.0, "units": "items/s"})
        + _entry({"task": "loading", "rate": 1e6, "units": "items/s"})
        + '{"event": "data", "data": {"task": "train", "rate": 9'  # torn by a kill
        + "\n"
        + _entry({"task": "train", "rate": 10.0, "units": "items/s"})
        + _entry({"loss": 0.5})
        + _entry({"task": "train", "rate": 20.0, "units": "items/s"})
    )
    assert median_train_rate(events) == 20.0


def test_no_rate_or_no_file_is_none(tmp_path: Path) -> None:
    assert median_train_rate(tmp_path / "missing.jsonl") is None
    events = tmp_path / "events.jsonl"
    events.write_text(_entry({"loss": 0.5}))
    assert median_train_rate(events) is None
