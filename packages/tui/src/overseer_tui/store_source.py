"""Runs read from an XP store, followed while they run.

::

    source = StoreSource(Path("rl-study"), grid="scaling", selectors=["status!=failed"])
    while source.loading:  # the first load comes in chunks of ~50 ms
        source.poll()
    for run in source.runs.runs.values():
        print(run.name, run.status.value, sorted(run.metrics))
    source.poll()  # later: True when anything changed; a few stats when nothing did

The store holds one folder per XP under ``xps/`` (``argv.json``, ``meta.json``, ``job.json``,
``events.jsonl``, ``history.jsonl``) and, for each grid, ``grids/<grid>/<sig>`` links to its
XPs. The folder listing is read again when its mtime changes; argv.json and meta.json once
per XP; job.json when it changes; events.jsonl and history.jsonl are tailed. A run that is
done and whose files have been still for 30 s (by their mtime at the first load) is looked
at about every 10 s only.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .clock import Clock, SystemClock
from .errors import StoreNotFound
from .model import Run, RunSet
from .selector import parse_selectors, select
from .tail import JsonlTail

__all__ = ["QUIET_SECONDS", "SLOW_CHECK_SECONDS", "StoreSource"]

#: A done run whose files have been still this long is looked at less often...
QUIET_SECONDS = 30.0
#: ...about every this many seconds (from 0.75 to 1.25 times, so that they spread out).
SLOW_CHECK_SECONDS = 10.0
#: A listing changed this recently may change again within the same mtime tick: list again.
_RACY_SECONDS = 2.0
#: Bytes read from a file at a time, so that one poll stays within its work budget.
_CHUNK_BYTES = 256 << 10

StatKey = tuple[int, int, int]


@dataclass
class _Watch:
    """The files of one XP being followed."""

    folder: Path
    run: Run
    events: JsonlTail
    history: JsonlTail
    job_key: StatKey | None
    history_lines: int = 0
    last_change: float = 0.0
    next_check: float = 0.0
    slow_every: float = SLOW_CHECK_SECONDS
    more: bool = True


def _stat_key(path: Path) -> StatKey | None:
    """What tells a rewritten file apart (inode, mtime, size); ``None`` when missing."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _newest_change(folder: Path) -> float:
    """When the files of an XP last changed (their newest mtime), 0 when none exists."""
    keys = (_stat_key(folder / name) for name in ("job.json", "events.jsonl", "history.jsonl"))
    return max((key[1] / 1e9 for key in keys if key is not None), default=0.0)


def _read_object(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _listing_folder(root: Path, grid: str | None) -> Path:
    if not (root / "xps").is_dir():
        message = f"no XP store at {root}: give the folder holding xps/, or set OVERSEER_XP_DIR"
        raise StoreNotFound(message)
    if grid is None:
        return root / "xps"
    grids = root / "grids"
    if not (grids / grid).is_dir():
        names = sorted(path.name for path in grids.iterdir()) if grids.is_dir() else []
        there = ", ".join(names) if names else "none"
        message = f"no grid {grid!r} in {grids}: give one of the grids there ({there})"
        raise StoreNotFound(message)
    return grids / grid


class StoreSource:
    """The runs of an XP store (or of one grid in it); see the module docstring.

    Args:
        root: the folder holding ``xps/``.
        grid: show only the XPs of this grid.
        selectors: keep only the runs these select (see :mod:`overseer_tui.selector`);
            they apply when a run is found, with the status its job.json gives.
        clock: when "30 s still" and "every 10 s" are measured.
        work_budget: seconds of work one :meth:`poll` does before it returns (``loading``
            then stays True until the backlog is read).

    Raises:
        StoreNotFound: ``root`` holds no ``xps/`` folder, or has no such grid.
        SelectorError: a selector does not parse.
    """

    def __init__(
        self,
        root: Path,
        *,
        grid: str | None = None,
        selectors: Sequence[str] = (),
        clock: Clock | None = None,
        work_budget: float = 0.05,
    ) -> None:
        self.root = Path(root)
        self._folder = _listing_folder(self.root, grid)
        self.title = str(self.root) if grid is None else f"{self.root} · grid {grid}"
        self.runs = RunSet()
        self.loading = True
        #: How many times a file's content was read: an idle poll leaves it alone.
        self.file_reads = 0
        self._selectors = parse_selectors(selectors)
        self._by_rank = any(each.kind == "latest" for each in self._selectors)
        self._rank_stale = False
        self._clock: Clock = clock or SystemClock()
        self._budget = work_budget
        self._listing_key: StatKey | None = None
        self._known: set[str] = set()
        self._waiting: dict[str, StatKey | None] = {}
        self._to_define: deque[str] = deque()
        self._defined: dict[str, tuple[Run, StatKey | None]] = {}
        self._watches: dict[str, _Watch] = {}
        self._backlog: dict[str, None] = {}

    @property
    def corrupt(self) -> int:
        """Lines of events.jsonl and history.jsonl that were not JSON objects (skipped)."""
        return sum(w.events.corrupt + w.history.corrupt for w in self._watches.values())

    def poll(self) -> bool:
        """Do pending work, for about ``work_budget`` seconds at most.

        Returns:
            Whether any run was added or changed (always True while ``loading``).
        """
        deadline = time.perf_counter() + self._budget
        removed = self._discover()
        changed = self._define(deadline) or removed
        if not self._backlog and not self._to_define:
            self._check_watches()
        changed = self._read_backlog(deadline) or changed
        self.loading = bool(self._backlog or self._to_define)
        return changed or self.loading

    def close(self) -> None:
        """Nothing to stop: the store is only read."""

    def _discover(self) -> bool:
        """Queue the XP folders that appeared (or got their argv.json) since the last look,
        and forget those that went away; tell whether a run was removed."""
        key = _stat_key(self._folder)
        recent = key is not None and time.time() - key[1] / 1e9 < _RACY_SECONDS
        removed = False
        if key != self._listing_key or recent:
            self._listing_key = key
            try:
                names = set(os.listdir(self._folder))
            except OSError:
                names = set()
            for name in sorted(names - self._known):
                if not name.startswith("."):
                    self._known.add(name)
                    self._waiting[name] = None
            for name in self._known - names:
                removed = removed or name in self.runs.runs
                self._forget(name)
        for name, seen in list(self._waiting.items()):
            argv_key = _stat_key(self._folder / name / "argv.json")
            if argv_key is not None and argv_key != seen:
                self._waiting[name] = argv_key
                self._to_define.append(name)
        return removed

    def _forget(self, name: str) -> None:
        """Drop everything known of the XP folder ``name``, which was deleted."""
        self._known.discard(name)
        self._waiting.pop(name, None)
        self._defined.pop(name, None)
        self._watches.pop(name, None)
        self._backlog.pop(name, None)
        if name in self._to_define:
            self._to_define = deque(queued for queued in self._to_define if queued != name)
        self.runs.remove(name)

    def _define(self, deadline: float) -> bool:
        """Read argv.json, meta.json and job.json of the queued XPs; keep those selected."""
        found: list[Run] = []
        while self._to_define and (not found or time.perf_counter() < deadline):
            name = self._to_define.popleft()
            defined = self._definition(name) if name in self._waiting else None
            if defined is not None:
                del self._waiting[name]
                self._defined[name] = defined
                found.append(defined[0])
        if self._by_rank:
            # "-1" can only be told once every XP's creation time is known.
            self._rank_stale = self._rank_stale or bool(found)
            if self._to_define or not self._rank_stale:
                return False
            self._rank_stale = False
            found = [defined[0] for defined in self._defined.values()]
        kept = [run for run in select(found, self._selectors) if run.sig not in self._watches]
        for run in kept:
            self._follow(run)
        return bool(kept)

    def _definition(self, name: str) -> tuple[Run, StatKey | None] | None:
        folder = self._folder / name
        argv = _read_object(folder / "argv.json")
        self.file_reads += 1
        if argv is None:
            return None
        meta = _read_object(folder / "meta.json") or {}
        created = meta.get("created")
        run = Run(
            name,
            str(meta.get("alias") or name),
            args=argv.get("delta") if isinstance(argv.get("delta"), dict) else None,
            config=argv.get("config") if isinstance(argv.get("config"), dict) else None,
            created=float(created) if isinstance(created, (int, float)) else 0.0,
        )
        job_key = _stat_key(folder / "job.json")
        job = _read_object(folder / "job.json") if job_key else None
        self.file_reads += 2 if job_key else 1
        if job is not None:
            run.apply_job(job)
        return run, job_key

    def _follow(self, run: Run) -> None:
        folder = self._folder / run.sig
        self._watches[run.sig] = _Watch(
            folder,
            run,
            JsonlTail(folder / "events.jsonl", max_bytes=_CHUNK_BYTES),
            JsonlTail(folder / "history.jsonl", max_bytes=_CHUNK_BYTES),
            self._defined[run.sig][1],
            last_change=min(self._clock.now(), _newest_change(folder)),
            slow_every=SLOW_CHECK_SECONDS * (0.75 + (zlib.crc32(run.sig.encode()) % 512) / 1024),
        )
        self.runs.add(run)
        self._backlog[run.sig] = None

    def _check_watches(self) -> None:
        """Queue the runs whose files changed; a few stats per run that is due."""
        now = self._clock.now()
        for sig, watch in self._watches.items():
            if watch.next_check > now:
                continue
            changed = _stat_key(watch.folder / "job.json") != watch.job_key
            if changed or watch.events.changed() or watch.history.changed():
                watch.last_change = now
                self._backlog[sig] = None
            quiet = now - watch.last_change >= QUIET_SECONDS
            watch.next_check = now + watch.slow_every if watch.run.status.done and quiet else 0

    def _read_backlog(self, deadline: float) -> bool:
        """Read the queued runs' files until the budget is spent (at least one chunk)."""
        changed = False
        while self._backlog:
            sig = next(iter(self._backlog))
            watch = self._watches[sig]
            if self._read_files(watch):
                changed = True
                self.runs.touch(sig)
            if not watch.more:
                del self._backlog[sig]
            if time.perf_counter() >= deadline:
                break
        return changed

    def _read_files(self, watch: _Watch) -> bool:
        """Read what is new in the files of one XP; whether the run changed."""
        changed = self._read_job(watch)
        run = watch.run
        if watch.events.changed():
            self.file_reads += 1
            chunk = watch.events.read()
            if chunk.restarted:
                # The metrics built from the events go, those the history fed with them too:
                # the history is read again below.
                run.reset_events()
                watch.history.rewind()
            for record in chunk.records:
                run.apply(record)
            changed = changed or chunk.restarted or bool(chunk.records)
        if watch.history.changed():
            self.file_reads += 1
            lines = watch.history.read()
            if lines.restarted:
                run.reset_history()
                watch.history_lines = 0
            for record in lines.records:
                run.apply_history(record, watch.history_lines)
                watch.history_lines += 1
            changed = changed or lines.restarted or bool(lines.records)
        watch.more = watch.events.more or watch.history.more
        return changed

    def _read_job(self, watch: _Watch) -> bool:
        key = _stat_key(watch.folder / "job.json")
        if key == watch.job_key:
            return False
        watch.job_key = key
        job = _read_object(watch.folder / "job.json") if key else None
        self.file_reads += 1
        if job is None:
            return False
        watch.run.apply_job(job)
        return True
