"""Following growing files: whole lines only, corrupt records counted, restarts noticed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from overseer_tui.tail import JsonlTail, LineTail


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def test_a_missing_file_reads_as_empty_until_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "output.log"
    tail = LineTail(path)
    assert not tail.changed()
    chunk = tail.read()
    assert chunk.lines == []
    assert not chunk.restarted
    append(path, b"hello\n")
    assert tail.changed()
    chunk = tail.read()
    assert chunk.lines == ["hello"]
    assert not chunk.restarted  # the first content of a new file is not a restart


def test_reads_only_what_was_added(tmp_path: Path) -> None:
    path = tmp_path / "output.log"
    path.write_bytes(b"one\ntwo\n")
    tail = LineTail(path)
    assert tail.read().lines == ["one", "two"]
    assert tail.offset == 8
    assert not tail.changed()
    assert tail.read().lines == []
    append(path, b"three\r\n")
    assert tail.read().lines == ["three"]


def test_a_line_written_in_pieces_waits_for_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "output.log"
    tail = LineTail(path)
    append(path, b"first\nsec")
    assert tail.read().lines == ["first"]
    assert tail.offset == len(b"first\n")
    append(path, b"on")
    assert tail.read().lines == []
    assert not tail.changed()  # the partial line was seen: no re-read until it grows
    append(path, b"d\nthi")
    assert tail.read().lines == ["second"]
    append(path, b"rd\n")
    assert tail.read().lines == ["third"]


def test_a_character_split_between_two_writes_decodes_whole(tmp_path: Path) -> None:
    path = tmp_path / "output.log"
    encoded = "température 64°C ✓\n".encode()
    cut = encoded.index("✓".encode()) + 1  # inside the three bytes of the check mark
    tail = LineTail(path)
    append(path, encoded[:cut])
    assert tail.read().lines == []
    append(path, encoded[cut:])
    assert tail.read().lines == ["température 64°C ✓"]


def test_undecodable_bytes_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "output.log"
    path.write_bytes(b"ok \xff\xfe end\n")
    assert LineTail(path).read().lines == ["ok \ufffd\ufffd end"]


def test_truncation_restarts_from_the_first_byte(tmp_path: Path) -> None:
    path = tmp_path / "output.log"
    path.write_bytes(b"old line one\nold line two\n")
    tail = LineTail(path)
    tail.read()
    with path.open("r+b") as handle:  # same file, shorter content
        handle.truncate(0)
        handle.write(b"new\n")
    assert tail.changed()
    chunk = tail.read()
    assert chunk.restarted
    assert chunk.lines == ["new"]
    assert not tail.read().restarted


def test_rewind_reads_every_line_again_as_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n')
    tail = JsonlTail(path)
    assert [record["a"] for record in tail.read().records] == [1, 2]
    assert not tail.changed()
    tail.rewind()
    assert tail.changed()
    again = tail.read()
    assert again.restarted
    assert [record["a"] for record in again.records] == [1, 2]
    assert not tail.changed()
    assert not tail.read().restarted


def test_replacing_the_file_restarts_even_when_it_is_longer(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"a\n")
    tail = LineTail(path)
    tail.read()
    rotated = tmp_path / "events.jsonl.new"
    rotated.write_bytes(b"x\ny\nz\n")
    os.replace(rotated, path)
    assert tail.changed()
    chunk = tail.read()
    assert chunk.restarted
    assert chunk.lines == ["x", "y", "z"]


def test_max_bytes_pages_through_a_backlog(tmp_path: Path) -> None:
    path = tmp_path / "output.log"
    lines = [f"line {index:04d}" for index in range(100)]  # 9 bytes + newline each
    path.write_text("".join(f"{line}\n" for line in lines))
    tail = LineTail(path, max_bytes=95)
    pages = []
    while True:
        chunk = tail.read()
        pages.append(chunk.lines)
        if not tail.more:
            break
        assert tail.changed()
    assert [line for page in pages for line in page] == lines
    assert all(len(page) == 9 for page in pages[:-1])  # 95 bytes hold 9 whole lines
    assert len(pages) == 12
    assert not tail.changed()


def test_a_line_longer_than_max_bytes_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "output.log"
    path.write_text("x" * 50 + "\nshort\n")
    tail = LineTail(path, max_bytes=16)
    assert tail.read().lines == ["x" * 50]
    assert tail.read().lines == ["short"]


def test_max_bytes_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes=0"):
        LineTail(tmp_path / "x", max_bytes=0)


def test_jsonl_records_skip_and_count_corrupt_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = [{"event": "start", "t": 1.0}, {"event": "data", "data": {"loss": "NaN"}}]
    path.write_text(
        json.dumps(good[0]) + "\n"
        + '{"event": "data", "da\n'  # a write cut short
        + "\n"  # blank: not corrupt
        + "[1, 2]\n"  # JSON, but not an object
        + "Traceback (most recent call last):\n"
        + json.dumps(good[1]) + "\n"
    )  # fmt: skip
    tail = JsonlTail(path)
    chunk = tail.read()
    assert chunk.records == good
    assert chunk.records[1]["data"]["loss"] == "NaN"  # the model converts it, not the tail
    assert tail.corrupt == 3


def test_jsonl_half_written_record_is_read_once_complete(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    line = json.dumps({"event": "data", "data": {"step": 3, "loss": 0.25}}) + "\n"
    tail = JsonlTail(path)
    append(path, line[:20].encode())
    assert tail.read().records == []
    assert tail.corrupt == 0
    append(path, line[20:].encode())
    assert tail.changed()
    assert tail.read().records == [{"event": "data", "data": {"step": 3, "loss": 0.25}}]
    assert tail.corrupt == 0
    assert tail.offset == len(line)
    assert tail.path == path


def test_jsonl_restart_resets_the_corrupt_count(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("garbage\n" * 3)
    tail = JsonlTail(path)
    tail.read()
    assert tail.corrupt == 3
    replacement = tmp_path / "replacement"
    replacement.write_text('{"event": "start"}\n')
    os.replace(replacement, path)
    chunk = tail.read()
    assert chunk.restarted
    assert chunk.records == [{"event": "start"}]
    assert tail.corrupt == 0


def test_jsonl_pages_with_more(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps({"epoch": epoch}) + "\n" for epoch in range(50)))
    tail = JsonlTail(path, max_bytes=64)
    epochs = []
    reads = 0
    while True:
        epochs += [record["epoch"] for record in tail.read().records]
        reads += 1
        if not tail.more:
            break
    assert epochs == list(range(50))
    assert reads > 10
