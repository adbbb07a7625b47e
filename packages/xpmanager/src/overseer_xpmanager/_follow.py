"""Follow an XP's log and metrics as its job writes them, until the job ends."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from .jsonl import read_jsonl
from .store import XP

__all__ = ["follow", "print_log"]


def print_log(xp: XP, *, last: int | None = None) -> None:
    """Print the XP's log (its ``last`` lines only when given)."""
    try:
        text = xp.log_path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        print(f"xp: XP {xp.sig} has no log yet ({xp.log_path})")
        return
    lines = text.splitlines(keepends=True)
    sys.stdout.writelines(lines if last is None else lines[-last:])
    sys.stdout.flush()


def follow(
    xp: XP,
    read_job: Callable[[], Any],
    *,
    poll: float = 0.5,
    metrics: bool = True,
    backlog: int = 20,
) -> Any:
    """Print new log lines and pushed metrics until ``read_job()`` says the job is done.

    Args:
        xp: the XP to follow.
        read_job: returns the job's current record (a fresh reading each call).
        poll: seconds between two looks at the files.
        metrics: print each pushed metrics entry as ``[metrics] {...}``.
        backlog: log lines already written that are shown first.

    Returns:
        The job's last record.
    """
    offset = _start_offset(xp, backlog)
    seen = len(read_jsonl(xp.history_path).records) if metrics else 0
    while True:
        job = read_job()
        offset = _print_new_lines(xp, offset)
        if metrics:
            seen = _print_new_metrics(xp, seen)
        if job is None or not job.state.live:
            return job
        time.sleep(poll)


def _start_offset(xp: XP, backlog: int) -> int:
    try:
        data = xp.log_path.read_bytes()
    except FileNotFoundError:
        return 0
    lines = data.splitlines(keepends=True)
    shown = b"".join(lines[-backlog:]) if backlog else b""
    sys.stdout.write(shown.decode("utf-8", errors="replace"))
    return len(data)


def _print_new_lines(xp: XP, offset: int) -> int:
    try:
        with xp.log_path.open("rb") as file:
            file.seek(offset)
            chunk = file.read()
    except FileNotFoundError:
        return offset
    end = chunk.rfind(b"\n") + 1
    if end:
        sys.stdout.write(chunk[:end].decode("utf-8", errors="replace"))
        sys.stdout.flush()
    return offset + end


def _print_new_metrics(xp: XP, seen: int) -> int:
    records = read_jsonl(xp.history_path).records
    for record in records[seen:]:
        print(f"[metrics] {json.dumps(record, default=str)}", flush=True)
    return max(seen, len(records))
