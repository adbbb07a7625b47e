"""Append-only JSON Lines files: one record per line, crash-safe, readable while written.

Every file of the XP store that grows (``events.jsonl``, ``history.jsonl``) is written here:
a record is encoded whole, then written with one ``write`` to a file opened for appending,
so a reader sees either all of a line or a torn last line, which it skips and counts::

    append_record(folder / "history.jsonl", {"loss": 0.5, "epoch": 1})
    read = read_jsonl(folder / "history.jsonl")
    read.records  # [{'loss': 0.5, 'epoch': 1}]
    read.torn, read.corrupt  # 0 0

Values follow overseer's stream rules (:func:`overseer.stream.encode_record`): strict JSON,
``NaN`` and infinities as the strings ``"NaN"``, ``"Infinity"``, numpy scalars as numbers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["JsonlRead", "JsonlTail", "append_record", "encode_line", "read_jsonl"]


@dataclass
class JsonlRead:
    """What :func:`read_jsonl` found.

    Attributes:
        records: the JSON objects, in file order.
        torn: 1 when the last line has no end yet (a writer is busy or died mid-line).
        corrupt: complete lines that are not JSON objects; skipped.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    torn: int = 0
    corrupt: int = 0


def encode_line(record: Mapping[str, Any]) -> str:
    """``record`` as one line of strict JSON ending in ``"\\n"``.

    Example:
        >>> encode_line({"loss": float("nan"), "step": 2})
        '{"loss":"NaN","step":2}\\n'
    """
    from overseer.stream import encode_record

    return encode_record(record, {})


def append_record(path: Path, record: Mapping[str, Any]) -> None:
    """Append ``record`` to the JSON Lines file ``path`` (created if missing) in one write."""
    data = encode_line(record).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_jsonl(path: Path) -> JsonlRead:
    """Every record of ``path``; a missing file reads as empty, a torn last line is counted."""
    result = JsonlRead()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return result
    lines = raw.split(b"\n")
    if lines[-1]:
        result.torn = 1
    _parse(lines[:-1], result)
    return result


class JsonlTail:
    """A JSON Lines file read as it grows: each :meth:`read` parses only the lines completed
    since the one before.

    A torn last line waits for its end; a file that shrank (rewritten from the start) is
    read again from its beginning, and :attr:`restarted` says so::

        tail = JsonlTail(xp.events_path)
        new = tail.read().records  # everything so far
        new = tail.read().records  # only what was appended since
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        #: Whether the last :meth:`read` began again from the start of a shrunk file.
        self.restarted = False

    def read(self) -> JsonlRead:
        """The records completed since the last read (``torn``: a last line not ended yet)."""
        result = JsonlRead()
        try:
            with self.path.open("rb") as file:
                size = os.fstat(file.fileno()).st_size
                self.restarted = size < self.offset
                if self.restarted:
                    self.offset = 0
                file.seek(self.offset)
                raw = file.read()
        except FileNotFoundError:
            self.restarted = self.offset > 0
            self.offset = 0
            return result
        end = raw.rfind(b"\n") + 1
        result.torn = int(end < len(raw))
        self.offset += end
        _parse(raw[:end].split(b"\n")[:-1], result)
        return result


def _parse(lines: list[bytes], result: JsonlRead) -> None:
    """Add the JSON objects of complete ``lines`` to ``result``, counting the corrupt ones."""
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            result.records.append(record)
        else:
            result.corrupt += 1
