"""Follow a growing text or JSON-lines file, reading only what was added since last time.

A tail keeps the byte offset of the last complete line it returned. A line still being
written (no newline yet) waits for the next read, so a record is never cut in half and a
UTF-8 character split between two writes decodes whole. When the file shrinks below that
offset (truncated) or the path now names another file (rotated, ``os.replace``), the tail
starts over from byte 0 and says so with ``restarted=True``::

    tail = JsonlTail(xp / "events.jsonl")
    while True:
        if tail.changed():  # one os.stat: cheap enough to call on every poll
            chunk = tail.read()
            if chunk.restarted:
                run.reset_events()  # the records are the whole new content
            for record in chunk.records:
                run.apply(record)

A missing file reads as empty. One read returns at most about ``max_bytes``; ``more`` then
says that the file holds more, so the caller can spread a large backlog over several polls.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

# What a missing file raises: the file itself, or a path component that is not a folder.
_MISSING = (FileNotFoundError, NotADirectoryError)

_DEFAULT_MAX_BYTES = 4 << 20


@dataclass(frozen=True)
class TailChunk:
    """The lines a :meth:`LineTail.read` found.

    Attributes:
        lines: Complete new lines, without their newline (nor a ``\\r`` before it), decoded
            as UTF-8 with undecodable bytes replaced.
        restarted: The file was truncated or replaced: drop what was built from its earlier
            content; ``lines`` start at its first byte.
    """

    lines: list[str]
    restarted: bool


@dataclass(frozen=True)
class RecordChunk:
    """The JSON objects a :meth:`JsonlTail.read` found; ``restarted`` as in :class:`TailChunk`."""

    records: list[dict[str, Any]]
    restarted: bool


class LineTail:
    """Reads the complete lines added to a file since the previous read.

    Args:
        path: The file; it need not exist yet.
        max_bytes: About the most one read takes in (a single longer line is still read
            whole, since nothing can be returned before its end).

    Attributes:
        path: The file followed.
        offset: Bytes consumed so far: the end of the last complete line returned.
        more: The last read stopped at ``max_bytes`` with bytes left: call again.
    """

    def __init__(self, path: Path, *, max_bytes: int = _DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 1:
            message = f"max_bytes={max_bytes} cannot read anything: give a positive size"
            raise ValueError(message)
        self.path = path
        self.max_bytes = max_bytes
        self.offset = 0
        self.more = False
        self._identity: tuple[int, int] | None = None
        self._seen: tuple[int, int, int, int] | None = None
        self._rewound = False

    def rewind(self) -> None:
        """Read the file again from its start: the next read returns every line, with
        ``restarted=True``, as after a truncation."""
        self.offset, self._seen, self._rewound = 0, None, True

    def changed(self) -> bool:
        """Whether :meth:`read` could return something new; costs one ``os.stat``."""
        if self.more:
            return True
        try:
            status = os.stat(self.path)
        except _MISSING:
            return False
        return _signature(status) != self._seen

    def read(self) -> TailChunk:
        """The complete lines added since the previous read (see :class:`TailChunk`)."""
        try:
            with open(self.path, "rb") as handle:
                status = os.fstat(handle.fileno())
                restarted = self._follow(status) or self._rewound
                self._rewound = False
                complete = self._read_complete_lines(handle, status.st_size)
        except _MISSING:
            self.more = False
            return TailChunk(lines=[], restarted=False)
        self._seen = _signature(status)
        return TailChunk(lines=_split_lines(complete), restarted=restarted)

    def _follow(self, status: os.stat_result) -> bool:
        """Start over from byte 0 when the file was replaced or truncated; say whether."""
        identity = (status.st_dev, status.st_ino)
        replaced = self._identity is not None and identity != self._identity
        truncated = status.st_size < self.offset
        self._identity = identity
        if replaced or truncated:
            self.offset = 0
        return replaced or truncated

    def _read_complete_lines(self, handle: BinaryIO, size: int) -> bytes:
        """Read from ``offset`` up to the last newline within the budget; advance past it."""
        available = size - self.offset
        budget = min(available, self.max_bytes)
        handle.seek(self.offset)
        data = handle.read(budget)
        end = data.rfind(b"\n")
        if end < 0 and budget < available:
            data += _rest_of_line(handle, available - budget, self.max_bytes)
            end = data.rfind(b"\n")
        complete = data[: end + 1]
        self.offset += len(complete)
        self.more = budget < available and self.offset < size
        return complete


class JsonlTail:
    """Reads the JSON objects added to a JSON-lines file since the previous read.

    Lines that are not a JSON object (a broken write, a stray print) are skipped and counted
    in ``corrupt``; blank lines are skipped silently. Values are what :func:`json.loads`
    gives: the strings ``"NaN"`` or ``"Infinity"`` stay strings.

    Args:
        path: The file; it need not exist yet.
        max_bytes: About the most one read takes in.

    Attributes:
        corrupt: Lines of the current content that were not a JSON object.
    """

    def __init__(self, path: Path, *, max_bytes: int = _DEFAULT_MAX_BYTES) -> None:
        self._lines = LineTail(path, max_bytes=max_bytes)
        self.corrupt = 0

    @property
    def path(self) -> Path:
        """The file followed."""
        return self._lines.path

    @property
    def offset(self) -> int:
        """Bytes consumed so far."""
        return self._lines.offset

    def rewind(self) -> None:
        """Read the file again from its start (see :meth:`LineTail.rewind`)."""
        self._lines.rewind()

    @property
    def more(self) -> bool:
        """The last read stopped at ``max_bytes`` with bytes left: call again."""
        return self._lines.more

    def changed(self) -> bool:
        """Whether :meth:`read` could return something new; costs one ``os.stat``."""
        return self._lines.changed()

    def read(self) -> RecordChunk:
        """The JSON objects added since the previous read (see :class:`RecordChunk`)."""
        chunk = self._lines.read()
        if chunk.restarted:
            self.corrupt = 0  # the count describes the current content
        records = []
        for line in chunk.lines:
            record = _parse_object(line)
            if record is not None:
                records.append(record)
            elif line.strip():
                self.corrupt += 1
        return RecordChunk(records=records, restarted=chunk.restarted)


def _signature(status: os.stat_result) -> tuple[int, int, int, int]:
    """What changes when a file is appended to, truncated or replaced."""
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def _rest_of_line(handle: BinaryIO, available: int, chunk_size: int) -> bytes:
    """Keep reading a line longer than one budget until its newline (or the known end)."""
    pieces = []
    while available > 0:
        piece = handle.read(min(chunk_size, available))
        if not piece:
            break
        newline = piece.find(b"\n")
        if newline >= 0:
            pieces.append(piece[: newline + 1])  # the lines after it wait for the next read
            break
        pieces.append(piece)
        available -= len(piece)
    return b"".join(pieces)


def _split_lines(complete: bytes) -> list[str]:
    """Complete lines (each ended by a newline) as text, without the line endings."""
    if not complete:
        return []
    lines = complete.decode("utf-8", errors="replace").split("\n")[:-1]
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _parse_object(line: str) -> dict[str, Any] | None:
    """The JSON object on ``line``, or None when it holds anything else."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        return None
    return value if isinstance(value, dict) else None
