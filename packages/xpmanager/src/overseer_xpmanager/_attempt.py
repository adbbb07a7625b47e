"""What one attempt of an XP writes (events, log, terminal) and the signals it passes on."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType, TracebackType
from typing import Any, TextIO

from .jsonl import append_record
from .store import XP

__all__ = ["FORWARDED_SIGNALS", "STOP_SIGNALS", "AttemptOutput", "forward_signals"]

FORWARDED_SIGNALS: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR2)
STOP_SIGNALS: frozenset[int] = frozenset({signal.SIGTERM, signal.SIGINT})


class AttemptOutput:
    """Where one attempt's entries go: ``events.jsonl``, ``output.log``, the terminal.

    Args:
        xp: the XP whose folder receives them.
        attempt: the attempt's number, for the log's header.
        echo: print rank 0's lines (stdout ones on stdout, the others on stderr).
        rank: added to each entry's ``index``, so that ``index`` is the process's rank.
        log: append lines to ``output.log`` (rank 0's) and ``output.rank<N>.log`` (the
            other ranks', one file each).
    """

    def __init__(self, xp: XP, attempt: int, *, echo: bool, rank: int = 0, log: bool = True):
        self.events_path = xp.events_path
        self.log_path = xp.log_path if log else None
        self.attempt = attempt
        self.echo = echo
        self.rank = rank
        self._log: TextIO | None = None
        self._rank_logs: dict[int, TextIO] = {}

    def __enter__(self) -> AttemptOutput:
        if self.log_path is not None:
            self._log = self.log_path.open("a", encoding="utf-8", errors="replace")
            date = time.strftime("%Y-%m-%d %H:%M:%S")
            self._log.write(f"== attempt {self.attempt}, {date} ==\n")
            self._log.flush()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._log is not None:
            self._log.close()
        for file in self._rank_logs.values():
            file.close()

    def record(self, entry: Any) -> None:
        """Keep one runner entry."""
        if self.rank:
            entry = {**entry, "index": entry["index"] + self.rank}
        append_record(self.events_path, entry)
        if entry["event"] == "line":
            self._line(entry["index"], entry["pipe"], str(entry["data"]))
        elif entry["event"] == "end" and "error" in entry["data"]:
            self._line(entry["index"], "stderr", f"xp: {entry['data']['error']}")

    def _line(self, index: int, pipe: str | None, text: str) -> None:
        log = self._log if index == 0 else self._rank_log(index)
        if log is not None:
            log.write(f"{text}\n")
            log.flush()
        if self.echo and index == 0:
            stream = sys.stdout if pipe == "stdout" else sys.stderr
            stream.write(f"{text}\n")
            stream.flush()

    def _rank_log(self, rank: int) -> TextIO | None:
        if self.log_path is None:
            return None
        if rank not in self._rank_logs:
            path = self.log_path.with_name(f"output.rank{rank}.log")
            file = path.open("a", encoding="utf-8", errors="replace")
            file.write(f"== attempt {self.attempt}, {time.strftime('%Y-%m-%d %H:%M:%S')} ==\n")
            self._rank_logs[rank] = file
        return self._rank_logs[rank]


@contextmanager
def forward_signals(pids: Callable[[], Sequence[int | None]], stopped: list[int]) -> Iterator[None]:
    """Forward the signals the supervisor gets to its children's process groups.

    A handler installed before (submitit's, which checkpoints and requeues on SIGUSR2) is
    called after forwarding; Python's default SIGINT handler is not, so that Ctrl-C lets the
    program end cleanly instead of tearing the supervisor down.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def forward(number: int, frame: FrameType | None) -> None:
        if number in STOP_SIGNALS:
            stopped.append(number)
        for pid in pids():
            if pid is not None:
                _signal_group(pid, number)
        before = previous.get(number)
        if callable(before) and before is not signal.default_int_handler:
            before(number, frame)

    for number in FORWARDED_SIGNALS:
        previous[number] = signal.signal(number, forward)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _signal_group(pid: int, number: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, number)
