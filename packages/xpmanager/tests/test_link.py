"""Pushing metrics: append-only history, readable while written, given to the overseer."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from overseer_xpmanager.link import Link


def test_each_push_is_one_history_entry(tmp_path: Path) -> None:
    link = Link(tmp_path)
    for epoch in range(5):
        link.push_metrics({"epoch": epoch, "train": {"loss": 1.0 / (epoch + 1)}})
    assert [entry["epoch"] for entry in link.history] == list(range(5))
    assert link.history[-1]["train"]["loss"] == pytest.approx(0.2)
    assert len(link.path.read_text().splitlines()) == 5


def test_a_push_costs_the_same_however_long_the_history(tmp_path: Path) -> None:
    link = Link(tmp_path)
    link.push_metrics({"x": 0})
    size_after_one = link.path.stat().st_size
    for _ in range(500):
        link.push_metrics({"x": 0})
    # Appending writes one line: the file grows by one entry per push, never rewritten.
    assert link.path.stat().st_size == size_after_one * 501


def test_bad_metrics_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    link = Link(tmp_path)
    with pytest.raises(TypeError, match="push_metrics takes a dict"):
        link.push_metrics([("loss", 1)])  # type: ignore[arg-type]
    assert not link.path.exists()


def test_pushed_metrics_reach_the_overseer_stream(tmp_path: Path) -> None:
    from overseer.runner import run_commands

    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from pathlib import Path
            from overseer_xpmanager.link import Link
            Link(Path({str(tmp_path)!r})).push_metrics({{"acc": 0.75}})
            """
        )
    )
    entries = list(run_commands([sys.executable, "-m", "overseer", "--log-given", str(script)]))
    given = [entry["data"] for entry in entries if entry["event"] == "data"]
    assert {"acc": 0.75} in given, entries
    assert entries[-1]["data"]["returncode"] == 0
    assert Link(tmp_path).history == [{"acc": 0.75}]
