"""Processes of local jobs: who they are (pid and start tick), and the slots they wait for.

A pid alone does not name a process for long: once it ends, the system may give its pid
to another. ``process.json`` therefore records each pid with the tick it started at (from
``/proc/<pid>/stat``), and a process counts as the job's only while both match.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .job import write_json_atomically

__all__ = [
    "PROCESS_FILE",
    "SLOTS_FOLDER",
    "hold_slot",
    "is_running",
    "read_process",
    "record_process",
]

PROCESS_FILE = "process.json"
SLOTS_FOLDER = ".local-slots"
_POLL_S = 0.1


def _process_stat(pid: int) -> tuple[str, int] | None:
    """``(state letter, start tick since boot)`` from ``/proc/<pid>/stat``; None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    return fields[0], int(fields[19])


def _start_tick(pid: int) -> int | None:
    stat = _process_stat(pid)
    return None if stat is None else stat[1]


def is_running(pid: int, start: int | None = None) -> bool:
    """Whether ``pid`` runs (a zombie does not) and, given ``start``, started at that tick."""
    if pid <= 0:
        return False
    if not Path("/proc/self/stat").exists():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    stat = _process_stat(pid)
    return stat is not None and stat[0] not in "ZX" and (start is None or stat[1] == start)


def record_process(folder: Path, job_id: str, pid: int, children: Sequence[int] = ()) -> None:
    """Write ``process.json``: the supervisor's pid, its program's, and their start ticks."""
    document = {
        "job_id": job_id,
        "pid": pid,
        "start": _start_tick(pid),
        "children": [[child, _start_tick(child)] for child in children],
    }
    write_json_atomically(folder / PROCESS_FILE, document)


def read_process(folder: Path) -> dict[str, Any] | None:
    """What ``process.json`` holds; None when it is missing or unreadable."""
    try:
        data = json.loads((folder / PROCESS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextmanager
def hold_slot(root: Path, count: int) -> Iterator[int]:
    """Wait for one of ``count`` slots of the store ``root`` and hold it; its number.

    A slot is an ``fcntl`` lock on ``<root>/.local-slots/<i>.lock``: the system releases it
    when its holder dies, however it dies.
    """
    import fcntl

    folder = root / SLOTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        for number in range(count):
            fd = os.open(folder / f"{number}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield number
            finally:
                os.close(fd)
            return
        time.sleep(_POLL_S)
