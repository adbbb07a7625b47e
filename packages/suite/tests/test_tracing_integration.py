"""overseer-tracing wired into the suite: ``suite trace`` and ``overseer --trace N``, for real.

Each test writes a small traced pipeline into its folder and runs it in a subprocess: under
the ``suite`` command, or under a real overseer (``run_overseer``, the root conftest.py),
whose data stream must hold the ``trace`` control record.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PIPELINE = """\
import sys

from overseer_tracing import trace_dataset_func, trace_func, trace_model_func


@trace_dataset_func
def load(index):
    return [index, -index]


@trace_func(stage_name="collate")
def collate(items):
    return [item for pair in items for item in pair]


@trace_model_func
def evaluate(batch):
    if "--fail" in sys.argv and batch[0] > 0:
        raise RuntimeError("the model broke")
    return max(batch)


for start in range(0, 6, 2):
    evaluate(collate([load(start), load(start + 1)]))
print("pipeline done")
"""

LOADER = """\
import torch
from torch.utils.data import DataLoader

from overseer_tracing import trace_func, trace_model_func


@trace_func(stage_name="collate")
def stack(items):
    return torch.stack(items)


@trace_model_func
def model(batch):
    return batch.sum()


batches = sum(1 for batch in DataLoader(torch.ones(20, 3), batch_size=2, collate_fn=stack)
              if model(batch) is not None)
print(f"batches: {batches}")
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The test's folder, holding the programs ``pipeline.py`` and ``loader.py``."""
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    (tmp_path / "loader.py").write_text(LOADER)
    return tmp_path


def calls_per_stage(trace: dict[str, Any]) -> dict[str, int]:
    return {stage["name"]: len(stage["calls"]) for stage in trace["stages"]}


def test_suite_trace_prints_and_saves_the_trace(workdir: Path) -> None:
    command = [sys.executable, "-m", "overseer_suite", "trace", "-n", "6", "--json", "t.json"]
    command.append("pipeline.py")
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("pipeline done\nTraceResult: 12 calls in 3 stages")
    saved = json.loads((workdir / "t.json").read_text())
    assert calls_per_stage(saved) == {"dataset_getter": 6, "collate": 3, "evaluation": 3}


def test_suite_help_lists_the_trace_command() -> None:
    command = [sys.executable, "-m", "overseer_suite", "--help"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "  trace  Run a Python script or module with tracing on" in done.stdout


def test_overseer_help_lists_the_trace_flags(run_overseer: Any) -> None:
    done = run_overseer("--help")
    assert done.returncode == 0, done.stderr
    group = done.stdout.split("instrument trace:")[1]
    for flag in ("--trace N", "--trace-json PATH", "--trace-chrome PATH"):
        assert flag in group
    assert "Trace the data pipeline of the script for N items" in done.stdout


def test_overseer_trace_saves_the_trace_beside_the_data_stream(
    run_overseer: Any, workdir: Path
) -> None:
    done = run_overseer("--trace", "2", "--trace-chrome", "c.json", "pipeline.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "pipeline done\n"  # the trace goes to stderr, the script's is stdout
    # Each stage keeps its first 2 calls; the script runs to its end.
    (trace,) = done.events("trace")
    assert calls_per_stage(trace) == {"dataset_getter": 2, "collate": 2, "evaluation": 2}
    # Written before the run's end: the exit record is the stream's last.
    events = [record.get("$event") for record in done.records]
    assert events.index("trace") < events.index("exit") == len(events) - 1
    chrome = json.loads((workdir / "c.json").read_text())["traceEvents"]
    assert sum(event["ph"] == "X" for event in chrome) == 6


def test_a_failing_script_still_saves_its_trace(run_overseer: Any) -> None:
    done = run_overseer("--trace", "1", "pipeline.py", "--fail")
    assert done.returncode == 1
    assert "RuntimeError: the model broke" in done.stderr
    (trace,) = done.events("trace")
    statuses = [call["status"] for call in trace["stages"][-1]["calls"]]
    assert statuses == ["ok", "error"]


def test_no_trace_flag_no_trace(run_overseer: Any) -> None:
    done = run_overseer("pipeline.py")
    assert done.returncode == 0, done.stderr
    assert done.events("trace") == []
    assert "TraceResult" not in done.stderr


@pytest.mark.torch
def test_overseer_trace_n_runs_n_items_of_a_dataloader(run_overseer: Any) -> None:
    pytest.importorskip("torch")
    done = run_overseer("--trace", "4", "loader.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "batches: 2\n"  # 4 items in batches of 2, of the 10 batches
    (trace,) = done.events("trace")
    assert calls_per_stage(trace) == {"collate": 2, "evaluation": 2}
