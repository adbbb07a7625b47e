"""Append-only JSON Lines: strict JSON out, torn and corrupt lines counted on the way in."""

from __future__ import annotations

import json
from pathlib import Path

from overseer_xpmanager.jsonl import JsonlTail, append_record, encode_line, read_jsonl


def test_records_round_trip_in_order(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    for step in range(3):
        append_record(path, {"step": step, "loss": 1 / (step + 1)})
    read = read_jsonl(path)
    assert [r["step"] for r in read.records] == [0, 1, 2]
    assert (read.torn, read.corrupt) == (0, 0)


def test_non_finite_and_numpy_values_are_strict_json() -> None:
    line = encode_line({"loss": float("nan"), "best": float("inf")})
    assert json.loads(line, parse_constant=lambda name: 1 / 0) == {
        "loss": "NaN",
        "best": "Infinity",
    }


def test_numpy_scalars_are_written_as_numbers(tmp_path: Path) -> None:
    import numpy

    path = tmp_path / "h.jsonl"
    append_record(path, {"acc": numpy.float32(0.5), "n": numpy.int64(7)})
    assert read_jsonl(path).records == [{"acc": 0.5, "n": 7}]


def test_a_torn_last_line_is_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    append_record(path, {"a": 1})
    with path.open("a") as file:
        file.write('{"a": 2, "b"')
    read = read_jsonl(path)
    assert read.records == [{"a": 1}]
    assert read.torn == 1


def test_corrupt_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text('{"a": 1}\nnot json\n[1, 2]\n\n{"a": 2}\n')
    read = read_jsonl(path)
    assert read.records == [{"a": 1}, {"a": 2}]
    assert read.corrupt == 2
    assert read.torn == 0


def test_a_missing_file_reads_as_empty(tmp_path: Path) -> None:
    read = read_jsonl(tmp_path / "absent.jsonl")
    assert (read.records, read.torn, read.corrupt) == ([], 0, 0)


def test_a_tail_reads_only_what_was_appended_and_waits_for_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    tail = JsonlTail(path)
    assert tail.read().records == []  # no file yet
    append_record(path, {"a": 1})
    append_record(path, {"a": 2})
    assert [r["a"] for r in tail.read().records] == [1, 2]
    assert tail.read().records == []
    with path.open("a") as file:
        file.write('{"a": 3, "b"')
    torn = tail.read()
    assert (torn.records, torn.torn) == ([], 1)
    with path.open("a") as file:
        file.write(': 4}\nnot json\n{"a": 5}\n')
    ended = tail.read()
    assert ended.records == [{"a": 3, "b": 4}, {"a": 5}]
    assert (ended.torn, ended.corrupt, tail.restarted) == (0, 1, False)


def test_a_tail_reads_a_rewritten_file_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    tail = JsonlTail(path)
    for value in range(3):
        append_record(path, {"a": value})
    assert len(tail.read().records) == 3
    path.write_text('{"a": 9}\n')  # shorter than what was read: a new file
    again = tail.read()
    assert (again.records, tail.restarted) == ([{"a": 9}], True)
    path.unlink()
    assert (tail.read().records, tail.restarted) == ([], True)
    append_record(path, {"a": 10})
    assert (tail.read().records, tail.restarted) == ([{"a": 10}], False)
