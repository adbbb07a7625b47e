"""Runs as the monitor sees them: built from runner entries, history lines and job.json.

A :class:`Run` takes the entries of ``events.jsonl`` one at a time and keeps what a view
shows: status, step, progress, one :class:`~overseer_tui.series.Series` per metric, log
lines and the latest GPU readings::

    run = Run("1dcfb3d6ca05", "modest-badger", args={"size": 3})
    run.apply({"event": "start", "data": {"argv": [], "pid": 2528}, "t": 10.0})
    run.apply({"event": "data", "data": {"step": 2, "loss": 3.2}, "t": 11.0})
    run.apply({"event": "data", "data": {"task": "train", "rate": 3004.9}, "t": 11.5})
    run.status, run.step, sorted(run.metrics)  # RUNNING, 2.0, ['loss', 'train.rate']

A :class:`RunSet` holds every run a source produced and remembers which changed, so a view
repaints only those. Metric values are read by :func:`metric_value`: numbers (not bools),
the strings ``"NaN"``/``"Infinity"``/``"-Infinity"``, and one-element ``$tensor`` summaries.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Mapping
from typing import Any, Protocol

from .entries import (
    LOG_LEVELS,
    NOT_METRICS,
    STOP_CODES,
    LogLine,
    RunStatus,
    log_level,
    metric_value,
    status_of_job_state,
)
from .series import Series

LOG_LIMIT = 10_000

__all__ = [
    "LOG_LEVELS",
    "LogLine",
    "Run",
    "RunSet",
    "RunStatus",
    "Source",
    "log_level",
    "metric_value",
    "status_of_job_state",
]


def _seconds(value: Any, default: float) -> float:
    number = metric_value(value)
    return number if number is not None and math.isfinite(number) else default


class Run:
    """One run: an XP of the store, or a live script. See the module docstring.

    Args:
        sig: the XP signature, or a made-up id for a live script.
        name: the alias (or the script name).
        args: the arguments that differ from the defaults (argv.json's ``delta``).
        config: the whole configuration.
        created: seconds since the epoch.
    """

    def __init__(
        self,
        sig: str,
        name: str,
        *,
        args: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        created: float = 0.0,
    ) -> None:
        self.sig = sig
        self.name = name
        self.args: dict[str, Any] = dict(args or {})
        self.config: dict[str, Any] = dict(config or {})
        self.created = created
        self.updated = created
        self.status = RunStatus.PENDING
        self.metrics: dict[str, Series] = {}
        self.log: deque[LogLine] = deque(maxlen=LOG_LIMIT)
        self._job_status: tuple[float, RunStatus] | None = None
        self._history_metrics: set[str] = set()
        self._event_metrics: set[str] = set()
        self.reset_events()

    def __repr__(self) -> str:
        return f"Run({self.sig!r}, {self.name!r}, status={self.status.value})"

    def reset_events(self) -> None:
        """Forget what came from the events file (it was truncated or replaced)."""
        for name in self._event_metrics:
            self.metrics.pop(name, None)
        self._event_metrics = set()
        self.log.clear()
        self.started: float | None = None
        self.ended: float | None = None
        self.pids: set[int] = set()
        self.step: float | None = None
        self.progress: tuple[float, float] | None = None
        self.gpus: dict[str, dict[str, Any]] = {}
        self.gpu_records = 0  # gpudata records applied: a change of it is a new reading
        self.error: str | None = None
        self._records = 0
        self._signalled = False
        self._event_status: tuple[float, RunStatus] | None = None
        self._progress_origin: tuple[float, float] = (0.0, 0.0)
        self._progress_t = 0.0
        self._settle_status()

    def reset_history(self) -> None:
        """Forget the metrics that came from history.jsonl (it was truncated or replaced)."""
        for name in self._history_metrics:
            self.metrics.pop(name, None)
        self._history_metrics = set()

    def apply(self, entry: Mapping[str, Any]) -> None:
        """Take one runner entry (a line of events.jsonl); unknown events are ignored."""
        t = _seconds(entry.get("t"), self.updated)
        data = entry.get("data")
        event = entry.get("event")
        if event == "data" and isinstance(data, dict):
            self._add_pid(entry.get("pid"))
            self._apply_record(data, t)
        elif event == "line" and isinstance(data, str):
            self.log.append(LogLine.from_text(t, str(entry.get("pipe") or "stdout"), data))
        elif event == "start":
            self._apply_start(data if isinstance(data, dict) else {}, t)
        elif event == "end":
            self._apply_end(data if isinstance(data, dict) else {}, t)
        elif event == "error" and isinstance(data, dict):
            self.error = f"{data.get('type', 'Error')}: {data.get('message', '')}"
        elif event == "signal":
            self._signalled = True
        self.updated = max(self.updated, t)

    def apply_job(self, job: Mapping[str, Any]) -> None:
        """Take a job.json document; its state wins over the events' when it is newer."""
        updated = _seconds(job.get("updated"), self.updated)
        self._job_status = (updated, status_of_job_state(job.get("state")))
        self._settle_status()

    def apply_history(self, record: Mapping[str, Any], index: int) -> None:
        """Take one history.jsonl line (index: its line number, from 0).

        Numeric keys become metrics, but those the events give too (a value both given and
        pushed is plotted once, from the events). x is the record's ``step``, else its
        ``epoch``, else ``index``; t is its ``$t`` or ``t``, else the time of the latest entry.
        """
        x_key, x = None, float(index)
        for key in ("step", "epoch"):
            number = metric_value(record.get(key))
            if number is not None and math.isfinite(number):
                x_key, x = key, number
                break
        t = _seconds(record.get("$t", record.get("t")), self.updated)
        for key, value in record.items():
            number = metric_value(value)
            if number is None or key.startswith("$") or key in (x_key, "t"):
                continue
            if key in self._event_metrics:
                continue  # given through the events as well: plotted from there
            self._history_metrics.add(key)
            self._series(key).append(x, t, number)

    def eta(self, now: float) -> float | None:
        """Seconds left, from the progress rate; ``None`` unless running with progress."""
        if self.progress is None or self.status is not RunStatus.RUNNING:
            return None
        done, total = self.progress
        if done >= total:
            return 0.0
        origin_t, origin_done = self._progress_origin
        if done <= origin_done or self._progress_t <= origin_t:
            if self.started is None or done <= 0 or self._progress_t <= self.started:
                return None
            origin_t, origin_done = self.started, 0.0
        rate = (done - origin_done) / (self._progress_t - origin_t)
        return max(0.0, (total - done) / rate - (now - self._progress_t))

    def _series(self, name: str) -> Series:
        series = self.metrics.get(name)
        if series is None:
            series = self.metrics[name] = Series(name)
        return series

    def _add_pid(self, pid: Any) -> None:
        if isinstance(pid, int) and not isinstance(pid, bool):
            self.pids.add(pid)

    def _apply_record(self, record: Mapping[str, Any], t: float) -> None:
        step = metric_value(record.get("step"))
        if step is not None and math.isfinite(step):
            self.step = step
        self._apply_progress(record.get("progress"), t)
        gpudata = record.get("gpudata")
        if isinstance(gpudata, dict):
            self.gpu_records += 1
            for key, device in gpudata.items():
                if isinstance(device, dict):
                    self.gpus[str(key)] = device
        task = record.get("task")
        prefix = f"{task}." if isinstance(task, str) and task != "main" else ""
        x = self.step if self.step is not None else float(self._records)
        self._records += 1
        self._apply_cpudata(record.get("cpudata"), x, t)
        for key, value in record.items():
            if key.startswith("$") or key in NOT_METRICS:
                continue
            number = metric_value(value)
            if number is not None:
                self._add_event_point(prefix + key, x, t, number)

    def _apply_cpudata(self, cpudata: Any, x: float, t: float) -> None:
        # cpu_monitor's record: the load, and the memory as [used, total] bytes.
        if not isinstance(cpudata, dict):
            return
        load = metric_value(cpudata.get("load"))
        if load is not None:
            self._add_event_point("cpu.load", x, t, load)
        memory = cpudata.get("memory")
        if isinstance(memory, (list, tuple)) and len(memory) == 2:
            used, total = (metric_value(part) for part in memory)
            if used is not None and total:
                self._add_event_point("cpu.memory", x, t, used / total)

    def _add_event_point(self, name: str, x: float, t: float, value: float) -> None:
        if name not in self._event_metrics:
            self._event_metrics.add(name)
            if name in self._history_metrics:
                # The same values came through history.jsonl too: the events' copy wins.
                self._history_metrics.discard(name)
                del self.metrics[name]
        self._series(name).append(x, t, value)

    def _apply_progress(self, progress: Any, t: float) -> None:
        if not isinstance(progress, (list, tuple)) or len(progress) != 2:
            return
        done, total = (metric_value(part) for part in progress)
        if done is None or total is None:
            return
        if self.progress is None or total != self.progress[1] or done < self.progress[0]:
            self._progress_origin = (t, done)
        self.progress = (done, total)
        self._progress_t = t

    def _apply_start(self, data: Mapping[str, Any], t: float) -> None:
        self.started = t if self.started is None else self.started
        self.ended = None
        self._signalled = False
        self._add_pid(data.get("pid"))
        self._event_status = (t, RunStatus.RUNNING)
        self._settle_status()

    def _apply_end(self, data: Mapping[str, Any], t: float) -> None:
        self.ended = t
        code = data.get("returncode")
        if isinstance(data.get("error"), str):
            self.error = data["error"]
        if code == 0:
            status = RunStatus.COMPLETED
        elif self._signalled or code in STOP_CODES:
            status = RunStatus.CANCELLED
        else:
            status = RunStatus.FAILED
        self._event_status = (t, status)
        self._settle_status()

    def _settle_status(self) -> None:
        known = [each for each in (self._event_status, self._job_status) if each is not None]
        if known:
            # job.json wins ties: it is written after the end entry it reports.
            self.status = max(known, key=lambda each: (each[0], each is self._job_status))[1]


class RunSet:
    """Every run the monitor knows, by sig, with what changed since the view last looked.

    Example::

        runs = RunSet()
        runs.add(Run("a1b2c3d4e5f6", "calm-river"))
        runs.take_changes()  # {"a1b2c3d4e5f6"}, and the next call gives set()
    """

    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        self.version = 0
        #: Changes with every run added anew or removed: the table's rows must be rebuilt.
        self.membership = 0
        self._changed: set[str] = set()

    def __len__(self) -> int:
        return len(self.runs)

    def add(self, run: Run) -> None:
        """Add (or replace) ``run``; it counts as changed."""
        if run.sig not in self.runs:
            self.membership += 1
        self.runs[run.sig] = run
        self.touch(run.sig)

    def remove(self, sig: str) -> None:
        """Forget the run ``sig`` (its folder is gone), if it is known."""
        if self.runs.pop(sig, None) is not None:
            self.membership += 1
            self.version += 1
            self._changed.discard(sig)

    def touch(self, sig: str) -> None:
        """Mark the run ``sig`` changed."""
        self.version += 1
        self._changed.add(sig)

    def take_changes(self) -> set[str]:
        """The sigs changed since the last call (then forgotten)."""
        changed, self._changed = self._changed, set()
        return changed

    def metric_names(self) -> list[str]:
        """Every metric name of every run, sorted."""
        return sorted({name for run in self.runs.values() for name in run.metrics})

    def differing_args(self) -> list[str]:
        """The argument names whose values differ between runs (or lack in some), sorted.

        Two values are the same when their JSON texts are; a name seen with two values is
        not looked at again.
        """
        first: dict[str, str] = {}
        holders: dict[str, int] = {}
        differing: set[str] = set()
        for run in self.runs.values():
            for name, value in run.args.items():
                holders[name] = holders.get(name, 0) + 1
                if name in differing:
                    continue
                text = _json_text(value)
                if first.setdefault(name, text) != text:
                    differing.add(name)
        count = len(self.runs)
        return sorted(name for name in holders if name in differing or holders[name] < count)


_JSON_ENCODER = json.JSONEncoder(sort_keys=True, default=str)


def _json_text(value: Any) -> str:
    """``json.dumps(value, sort_keys=True, default=str)``, with the numbers most arguments
    are written directly (the encoder takes microseconds a number)."""
    kind = type(value)
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    return _JSON_ENCODER.encode(value)


class Source(Protocol):
    """What produces runs: the store, a live script, or synthetic runs for tests."""

    runs: RunSet
    title: str

    def poll(self) -> bool:
        """Do pending work; ``True`` when anything changed. Cheap when nothing did."""
        ...

    def close(self) -> None:
        """Stop what the source started (a live script); idempotent."""
        ...
