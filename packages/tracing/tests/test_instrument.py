"""The ``trace`` instrument, stepped through the phases by a stand-in for the overseer, and
run for real under the ``overseer`` command.

overseer-tracing does not depend on the overseer: most tests here have a small object play
``ov`` (its ``argparser``, ``options``, ``phases`` and ``log``). The last ones run a program
of ``tests/programs/`` under a real overseer process (``run_overseer``, the root
conftest.py), skipped where the overseer is not installed.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Generator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from overseer_tracing import trace_func
from overseer_tracing.instrument import command_line

PROGRAMS = Path(__file__).parent / "programs"


@trace_func(stage_name="collate")
def square(x: int) -> int:
    return x * x


class Overseer:
    """What the instrument uses of the overseer; ``start`` runs it up to parse_args."""

    def __init__(self) -> None:
        self.argparser = argparse.ArgumentParser(prog="overseer", exit_on_error=False)
        self.phases = SimpleNamespace(
            parse_args="parse_args", load_script="load_script", run_script="run_script"
        )
        self.records: list[dict[str, Any]] = []
        self.options: argparse.Namespace | None = None

    def log(self, values: dict[str, Any]) -> None:
        self.records.append(values)

    def start(self, *argv: str) -> Generator[Any, Any, None]:
        instrument = command_line(self)
        assert next(instrument) == "parse_args"
        self.options = self.argparser.parse_args(list(argv))
        return instrument


def traces(ov: Overseer) -> list[Any]:
    return [record["$data"] for record in ov.records if record.get("$event") == "trace"]


def test_without_its_flags_it_does_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    instrument = Overseer().start()
    with pytest.raises(StopIteration):
        next(instrument)
    assert capsys.readouterr().err == ""


def test_it_traces_the_script_s_run_and_logs_the_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ov = Overseer()
    paths = ["--trace-json", str(tmp_path / "t.json"), "--trace-chrome", str(tmp_path / "c.json")]
    instrument = ov.start("--trace", "3", *paths)
    assert next(instrument) == "load_script"
    square(1)  # the imports and definitions: not traced
    assert next(instrument) == "run_script"
    square(2)
    with pytest.raises(StopIteration):
        next(instrument)
    square(3)  # after the script: not traced
    (logged,) = traces(ov)
    assert [len(stage["calls"]) for stage in logged["stages"]] == [1]
    assert logged["stages"][0]["calls"][0]["params"]["x"]["short"] == "int 2"
    assert "collate: 1 call," in capsys.readouterr().err
    assert json.loads((tmp_path / "t.json").read_text()) == logged
    assert json.loads((tmp_path / "c.json").read_text())["traceEvents"][0]["name"] == "square"


def test_the_script_s_exception_goes_on_after_the_trace_is_logged(tmp_path: Path) -> None:
    ov = Overseer()
    instrument = ov.start("--trace-json", str(tmp_path / "t.json"))  # alone, it turns it on
    next(instrument)
    next(instrument)
    square(4)
    with pytest.raises(KeyboardInterrupt):
        instrument.throw(KeyboardInterrupt())
    assert [stage["name"] for stage in traces(ov)[0]["stages"]] == ["collate"]
    assert (tmp_path / "t.json").is_file()


def test_a_file_that_cannot_be_written_is_said_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ov = Overseer()
    instrument = ov.start("--trace", "1", "--trace-json", str(tmp_path / "no" / "t.json"))
    next(instrument)
    next(instrument)
    with pytest.raises(StopIteration):
        next(instrument)
    assert len(traces(ov)) == 1
    assert "cannot save the trace" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_trace_takes_a_positive_number_of_items(value: str) -> None:
    with pytest.raises(argparse.ArgumentError, match="positive whole number"):
        Overseer().start("--trace", value)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The folder ``run_overseer`` runs in, holding copies of the test programs."""
    pytest.importorskip("overseer", reason="the overseer is not installed here")
    shutil.copytree(PROGRAMS, tmp_path, dirs_exist_ok=True)
    return tmp_path


def kept_and_dropped(trace: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {stage["name"]: (len(stage["calls"]), stage["dropped"]) for stage in trace["stages"]}


def test_trace_n_keeps_the_first_n_calls_of_a_pure_python_loop_and_the_run_goes_on(
    run_overseer: Any,
) -> None:
    done = run_overseer("--trace", "3", "trace_pipeline.py", "--items", "10")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "pipeline done"  # all 10 items ran
    assert "TraceResult: 20 calls in 3 stages, 11 dropped" in done.stderr
    (trace,) = done.events("trace")
    assert kept_and_dropped(trace) == {
        "dataset_getter": (3, 7),
        "collate": (3, 2),
        "evaluation": (3, 2),
    }
    loaded = [call["params"]["index"]["short"] for call in trace["stages"][0]["calls"]]
    assert loaded == ["int 0", "int 1", "int 2"]


def test_trace_n_still_keeps_a_call_that_fails_after_the_first_n(run_overseer: Any) -> None:
    done = run_overseer("--trace", "1", "trace_pipeline.py", "--items", "10", "--fail-at", "3")
    assert done.returncode == 1
    assert "ValueError: batch [13, 130] is broken" in done.stderr
    (trace,) = done.events("trace")
    evaluation = trace["stages"][-1]
    assert [call["status"] for call in evaluation["calls"]] == ["ok", "error"]
    assert evaluation["calls"][1]["params"]["batch"]["short"] == "list[2] [13, 130]"
    assert evaluation["dropped"] == 2  # the second and third batches: run, not recorded


def test_overseer_help_says_what_n_does(run_overseer: Any) -> None:
    done = run_overseer("--help")
    assert done.returncode == 0, done.stderr
    assert "each traced stage records its first N calls" in " ".join(done.stdout.split())
