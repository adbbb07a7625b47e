"""The entries a run yields: their type, and how a child's lines become entries.

A line of the data pipe, or of stdout behind :data:`~overseer.schema.SMUGGLE_PREFIX`, that
holds a JSON object becomes a data or control entry; any other line stays a line entry.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from .schema import SMUGGLE_PREFIX

if TYPE_CHECKING:
    from ._runner_pipes import _Child

Pipe = Literal["stdout", "stderr", "data"]
_RESERVED_EVENTS = frozenset({"start", "line", "end"})


class _EntryFields(TypedDict):
    event: str
    data: Any
    pipe: Pipe | None
    t: float
    index: int


class Entry(_EntryFields, total=False):
    """One thing that happened in a run; see :mod:`overseer.runner` for each ``event``.

    Example::

        {"event": "line", "data": "epoch 1", "pipe": "stdout", "t": 1795352330.5, "index": 0}
        {
            "event": "data",
            "data": {"loss": 0.5},
            "pipe": None,
            "t": 1795352330.6,
            "index": 0,
            "pid": 4242,
            "rank": 0,
        }
    """

    pid: int
    rank: int


def _entry(event: str, data: Any, pipe: Pipe | None, index: int) -> Entry:
    return {"event": event, "data": data, "pipe": pipe, "t": time.time(), "index": index}


def _line_entry(child: _Child, pipe: Pipe, line: str) -> Entry:
    """The entry for one line: a record when it holds one, else a line entry."""
    if pipe == "data":
        entry = _record_entry(child, line)
    elif pipe == "stdout" and SMUGGLE_PREFIX in line:
        entry = _record_entry(child, line.split(SMUGGLE_PREFIX, 1)[1])
    else:
        entry = None
    return entry or _entry("line", line, pipe, child.index)


def _record_entry(child: _Child, text: str) -> Entry | None:
    """The data or control entry of a JSON record, ``None`` when ``text`` is not one."""
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    t, pid, rank = record.pop("$t", None), record.pop("$pid", None), record.pop("$rank", None)
    entry = _entry("data", record, None, child.index)
    if _is_number(t):
        entry["t"] = float(t)
    child_pid = child.popen.pid if child.popen else 0
    entry["pid"] = pid if _is_integer(pid) else child_pid
    entry["rank"] = rank if _is_integer(rank) else 0
    event = record.get("$event")
    if isinstance(event, str) and event not in _RESERVED_EVENTS:
        entry["event"] = event
        entry["data"] = record.get("$data")
    return entry


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
