"""How the parts of runner entries read: statuses, log levels and metric values.

The rules a :class:`~overseer_tui.model.Run` applies to each entry, kept apart so that the
sources and views can use them alone::

    metric_value(3)  # 3.0
    metric_value("NaN")  # nan: the stream writes non-finite floats as strings
    metric_value({"$tensor": {"shape": [], "value": 0.5}})  # 0.5
    metric_value(True)  # None: flags are not metrics
    log_level("ValueError: bad lr")  # "error"
    status_of_job_state("TIMEOUT")  # RunStatus.FAILED
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from overseer.stream import read_number

__all__ = [
    "LOG_LEVELS",
    "NOT_METRICS",
    "STOP_CODES",
    "LogLine",
    "RunStatus",
    "log_level",
    "metric_value",
    "status_of_job_state",
]

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_LIMIT = 10_000
#: Keys of a data record that describe it rather than measure something.
NOT_METRICS = frozenset({"step", "task", "units", "progress", "gpudata", "batch"})
# No leading word boundary: "ValueError:" and "UserWarning:" count.
_ERROR_WORDS = re.compile(r"(ERROR|Error|Traceback|Exception|CRITICAL|FATAL)\b")
_WARNING_WORDS = re.compile(r"(WARNING|Warning|WARN)\b")
_DEBUG_WORDS = re.compile(r"\bDEBUG\b")
# SIGINT and SIGTERM as subprocess reports them, and as the overseer exits on them.
STOP_CODES = frozenset({-2, -15, 130, 143})


class RunStatus(str, Enum):
    """Where a run stands; the value is job.json's word for it (``"RUNNING"``)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"

    @property
    def done(self) -> bool:
        """Whether the run ended (and will not change unless requeued)."""
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)


_JOB_STATES = {
    "PENDING": RunStatus.PENDING,
    "SUBMITTING": RunStatus.PENDING,
    "REQUEUED": RunStatus.PENDING,
    "PREEMPTED": RunStatus.PENDING,
    "RUNNING": RunStatus.RUNNING,
    "COMPLETED": RunStatus.COMPLETED,
    "FAILED": RunStatus.FAILED,
    "TIMEOUT": RunStatus.FAILED,
    "CANCELLED": RunStatus.CANCELLED,
}


def status_of_job_state(state: object) -> RunStatus:
    """The status a job.json ``state`` stands for (``"TIMEOUT"`` -> FAILED...)."""
    return _JOB_STATES.get(str(state).upper(), RunStatus.UNKNOWN)


def log_level(text: str) -> str:
    """The level of a log line, found from its words.

    Example::

        log_level("ValueError: bad lr")  # "error"
        log_level("epoch 3 done")  # "info"
    """
    if _ERROR_WORDS.search(text):
        return "error"
    if _WARNING_WORDS.search(text):
        return "warning"
    if _DEBUG_WORDS.search(text):
        return "debug"
    return "info"


@dataclass(frozen=True)
class LogLine:
    """One line a run printed: when, on which pipe, the text, and its level."""

    t: float
    pipe: str
    text: str
    level: str

    @classmethod
    def from_text(cls, t: float, pipe: str, text: str) -> LogLine:
        """The line with its level found from ``text``."""
        return cls(t, pipe, text, log_level(text))


def metric_value(value: Any) -> float | None:
    """``value`` as a metric point, or ``None`` when it is not one.

    Example::

        metric_value(3)  # 3.0
        metric_value("NaN")  # nan
        metric_value({"$tensor": {"shape": [], "value": 0.5}})  # 0.5
        metric_value(True)  # None: flags are not metrics
    """
    return read_number(value)
