"""A whole trace out of the process: JSON, Chrome trace files, and the diff of two traces.

A print shows a few calls; these keep every call that the cap kept. The JSON is strict (no
NaN): one object per call with its summaries' full ``to_json()``. The Chrome trace file holds
one complete event (``"ph": "X"``) per call, times in microseconds, one track per thread; it
opens in https://ui.perfetto.dev and chrome://tracing::

    result.to_json("trace.json")
    result.to_chrome_trace("trace.perfetto.json")
    print(result.diff(other_result))  # the calls whose arguments or results changed
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import TraceCall, TraceResult
    from .values import Summary

__all__ = [
    "CallChange",
    "TraceDiff",
    "call_to_dict",
    "chrome_trace_events",
    "diff_traces",
    "save_files",
    "trace_to_dict",
    "write_chrome_trace",
    "write_json",
]

FORMAT = "overseer-tracing/trace"  # names the JSON layout, with FORMAT_VERSION
FORMAT_VERSION = 1
DIFF_LINES = 100  # a printed diff lists this many changes at most


def trace_to_dict(result: TraceResult) -> dict[str, object]:
    """The whole trace as JSON-safe builtins (strict: NaN and infinities become strings)."""
    stages = [
        {"name": stage.name, "dropped": stage.dropped, "calls": [call_to_dict(c) for c in stage]}
        for stage in result
    ]
    document = {"format": FORMAT, "version": FORMAT_VERSION, "started_at": result.started_at}
    return _strict({**document, "stages": stages})  # type: ignore[return-value]


def call_to_dict(call: TraceCall) -> dict[str, object]:
    """One call as a dict of builtins, its summaries in full."""
    return {
        "index": call.index,
        "stage": call.stage,
        "name": call.name,
        "display_name": call.display_name,
        "status": call.status,
        "exception": None if call.exception is None else list(call.exception),
        "start_ns": call.start_ns,
        "duration_ns": call.duration_ns,
        "thread": call.thread,
        "parent": call.parent,
        "params": {key: _summary_json(value) for key, value in call.params.items()},
        "result": None if call.result is None else _summary_json(call.result),
    }


def write_json(result: TraceResult, path: str | Path | None = None) -> str:
    """The trace as JSON text, written to ``path`` (UTF-8) when one is given."""
    text = json.dumps(trace_to_dict(result), allow_nan=False)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def save_files(
    result: TraceResult, json_path: str | None, chrome_path: str | None
) -> OSError | None:
    """Write the JSON and Chrome trace files asked for; the error that stopped it, if any.

    For commands that report a file they cannot write and go on, rather than raise.
    """
    try:
        if json_path:
            write_json(result, json_path)
        if chrome_path:
            write_chrome_trace(result, chrome_path)
    except OSError as error:
        return error
    return None


def chrome_trace_events(result: TraceResult) -> list[dict[str, object]]:
    """Chrome trace events: one complete event per call, then one name event per thread.

    ``ts`` and ``dur`` are microseconds from the start of the recording.
    """
    pid = os.getpid()
    threads: dict[str, int] = {}  # thread name -> track number, in order of appearance
    events = [
        _complete_event(call, pid, threads.setdefault(call.thread, len(threads) + 1))
        for call in result.calls
    ]
    for name, tid in threads.items():
        events.append(
            {"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}}
        )
    return events


def _complete_event(call: TraceCall, pid: int, tid: int) -> dict[str, object]:
    from .render import short

    args: dict[str, object] = {key: short(value) for key, value in call.params.items()}
    args |= {"result": short(call.result), "status": call.status, "index": call.index}
    if call.parent is not None:
        args["parent"] = call.parent
    if call.exception is not None:
        args["exception"] = ": ".join(call.exception)
    event = {"name": call.display_name, "cat": call.stage, "ph": "X", "pid": pid, "tid": tid}
    return {**event, "ts": call.start_ns / 1000, "dur": call.duration_ns / 1000, "args": args}


def write_chrome_trace(result: TraceResult, path: str | Path) -> Path:
    """Write the Chrome trace event file of ``result`` to ``path``; returns the path."""
    document = {"traceEvents": chrome_trace_events(result), "displayTimeUnit": "ns"}
    target = Path(path)
    target.write_text(json.dumps(_strict(document), allow_nan=False), encoding="utf-8")
    return target


@dataclass(frozen=True)
class CallChange:
    """A call that differs between two traces: where, and what (``fields``)."""

    stage: str
    position: int  # the call's position in its stage, in both traces
    name: str
    fields: tuple[str, ...]  # e.g. "param x", "result", "status", "function", "only before"
    before: TraceCall | None
    after: TraceCall | None


@dataclass(frozen=True)
class TraceDiff:
    """The changed calls of two traces; false when none changed.

    Examples:
        >>> diff = TraceDiff(())
        >>> bool(diff), len(diff)
        (False, 0)
    """

    changes: tuple[CallChange, ...]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[CallChange]:
        return iter(self.changes)

    def __getitem__(self, position: int) -> CallChange:
        return self.changes[position]

    def __str__(self) -> str:
        if not self.changes:
            return "TraceDiff: no call changed"
        lines = [f"TraceDiff: {len(self.changes):,} calls changed"]
        for change in self.changes[:DIFF_LINES]:
            what = ", ".join(change.fields)
            lines.append(f"  {change.stage}[{change.position}] {change.name}: {what}")
        if len(self.changes) > DIFF_LINES:
            lines.append(f"  ... {len(self.changes) - DIFF_LINES:,} more")
        return "\n".join(lines)

    __repr__ = __str__


def diff_traces(before: TraceResult, after: TraceResult) -> TraceDiff:
    """Compare two traces call by call (same stage, same position), by fingerprints.

    Durations, threads and indices are ignored: they change on every run.
    """
    changes: list[CallChange] = []
    for stage in dict.fromkeys([*before.stages, *after.stages]):
        old = before.stages[stage].calls if stage in before else ()
        new = after.stages[stage].calls if stage in after else ()
        for position in range(max(len(old), len(new))):
            old_call = old[position] if position < len(old) else None
            new_call = new[position] if position < len(new) else None
            fields = _differences(old_call, new_call)
            if fields:
                name = (old_call or new_call).name  # type: ignore[union-attr]
                changes.append(CallChange(stage, position, name, fields, old_call, new_call))
    return TraceDiff(tuple(changes))


def _differences(old: TraceCall | None, new: TraceCall | None) -> tuple[str, ...]:
    if old is None or new is None:
        return ("only after",) if old is None else ("only before",)
    fields = [] if old.name == new.name else ["function"]
    for key in dict.fromkeys([*old.params, *new.params]):
        if _fingerprint(old.params.get(key)) != _fingerprint(new.params.get(key)):
            fields.append(f"param {key}")
    if _fingerprint(old.result) != _fingerprint(new.result):
        fields.append("result")
    if (old.status, old.exception) != (new.status, new.exception):
        fields.append("status")
    return tuple(fields)


def _fingerprint(summary: Summary | None) -> str | None:
    if summary is None:
        return None
    try:
        value: object = summary.fingerprint
        return str(value() if callable(value) else value)
    except Exception as error:  # unknown content: never equal to a known one
        return f"unavailable: {type(error).__name__}"


def _summary_json(summary: Summary) -> object:
    try:
        return summary.to_json()
    except Exception as error:
        return {"error": f"summary not exportable: {type(error).__name__}: {error}"}


def _strict(value: object) -> object:
    """JSON-safe builtins: NaN/Infinity as strings, other keys as str, odd values as repr."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, dict):
        return {str(key): _strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(item) for item in value]
    return repr(value)
