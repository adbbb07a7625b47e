"""The ``trace`` instrument, stepped through the phases by a stand-in for the overseer.

overseer-tracing does not depend on the overseer: here a small object plays ``ov`` (its
``argparser``, ``options``, ``phases`` and ``log``). packages/suite's
test_tracing_integration.py runs the instrument under a real overseer.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Generator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from overseer_tracing import trace_func
from overseer_tracing.instrument import command_line


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
