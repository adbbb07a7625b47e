"""Run commands and read their event streams: the parent side of overseer-core's stream.

Each child gets three pipes: stdout, stderr and a data pipe whose number it finds in
``$DATA_FD``. One loop in the calling thread watches every pipe of every child (through
:mod:`selectors`, so thousands of descriptors are fine) and yields an :class:`Entry` for each
thing that happens::

    import sys
    from overseer.runner import run_commands

    for entry in run_commands([sys.executable, "-c", "print('hi')"]):
        print(entry["index"], entry["event"], entry["data"])
    # 0 start {'argv': ['/usr/bin/python3', '-c', "print('hi')"], 'pid': 4242}
    # 0 line hi
    # 0 end {'returncode': 0, 'duration': 0.031}

The entries, by ``event``:

- ``"start"``: ``data`` is ``{"argv": [...], "pid": child pid}``.
- ``"line"``: ``data`` is one line of text without its ``"\\n"``, ``pipe`` says where it came
  from: ``"stdout"``, ``"stderr"``, or ``"data"`` for a line of the data pipe that is not a JSON
  object (a torn last line, stray text).
- ``"data"``: ``data`` is a data record with ``$t``/``$pid``/``$rank`` moved out to the entry's
  ``t``/``pid``/``rank`` (other ``$`` keys, such as ``$wrap``, stay).
- a control record's ``$event`` name (``"schema"``, ``"phase"``, ``"error"``...): ``data`` is its
  ``$data``. The names ``start``, ``line`` and ``end`` belong to the runner: a record claiming one
  arrives as a ``"data"`` entry holding the record whole.
- ``"end"``: ``data`` is ``{"returncode": int, "duration": seconds}``, negative for a signal as
  :mod:`subprocess` reports it, plus ``"timed_out": True`` when the runner's timeout stopped it,
  or ``"error"`` (one line) for a command that could not start (126 or 127, no start entry).

Every entry also has ``t`` (seconds since the epoch), ``index`` (which command, from 0) and
``pipe`` (``None`` but on line entries); data and control entries have ``pid`` and ``rank``.
Per pipe, entries come in the order written; a child's end entry comes after all its others.
Records printed on stdout behind :data:`~overseer.schema.SMUGGLE_PREFIX` (anywhere in the line,
after a launcher's ``0: `` for instance) become data and control entries too.

The runner is POSIX-only: each child leads a new session, so that stopping it reaches the
processes it started as well.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from types import TracebackType
from typing import cast

from ._runner_commands import Environment, StrPath, _argv_list, _environments
from ._runner_events import Entry, Pipe
from ._runner_pipes import LINE_LIMIT, _Child, _Multiplexer, _signal_group
from .errors import UsageError

__all__ = ["LINE_LIMIT", "Entry", "Pipe", "Runner", "read_events", "run_commands"]

#: Without pidfds (macOS, old kernels), how often to look for children that exited.
_POLL_INTERVAL = 0.05


def run_commands(
    commands: Sequence[StrPath] | Sequence[Sequence[StrPath]],
    *,
    env: Environment | Sequence[Environment] | None = None,
    cwd: StrPath | None = None,
    timeout: float | None = None,
    data: bool = True,
    grace: float = 5.0,
    drain: float = 1.0,
) -> Generator[Entry, None, None]:
    """Run one or several commands at once and yield their entries as they happen.

    The children start at the first ``next()``. Leaving the loop early (``break``, an
    exception, closing the generator) stops them as :meth:`Runner.close` does. Use
    :class:`Runner` to stop them from inside the loop or to read their return codes.

    Args:
        commands: one argv (``["python", "train.py"]``) or a list of them.
        env: the whole environment of the children, as :mod:`subprocess` takes it, or one
            such mapping per command; ``None`` inherits ``os.environ``.
            ``PYTHONUNBUFFERED=1`` is added unless set.
        cwd: the folder the children start in.
        timeout: seconds after which every child still running is terminated.
        data: give each child a data pipe named by ``$DATA_FD``.
        grace: seconds between SIGTERM and SIGKILL when stopping children.
        drain: seconds to keep reading the pipes of a child that exited while something it
            started still holds them open.

    Returns:
        A generator of :class:`Entry`; its ``close()`` stops the children.

    Raises:
        UsageError: a command is not an argv list, or the arguments are out of range.

    Example::

        commands = [[sys.executable, "train.py", f"--seed={seed}"] for seed in range(4)]
        for entry in run_commands(commands, timeout=3600):
            if entry["event"] == "data":
                print(entry["index"], entry["data"])
    """
    with Runner(
        commands, env=env, cwd=cwd, timeout=timeout, data=data, grace=grace, drain=drain
    ) as runner:
        yield from runner


def read_events(path: StrPath) -> Iterator[Entry]:
    """Read entries back from an append-only ``events.jsonl`` file, one JSON object a line.

    A line that does not parse (a torn last line of a run that crashed while writing, even if
    a later run appended after it) is skipped, never fatal.

    Example::

        with open("events.jsonl", "a") as file:
            for entry in run_commands([sys.executable, "train.py"]):
                file.write(json.dumps(entry) + "\\n")
        ends = [e for e in read_events("events.jsonl") if e["event"] == "end"]
    """
    with open(path, encoding="utf-8", errors="replace", newline="\n") as file:
        for line in file:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and "event" in entry:
                yield cast(Entry, entry)


class Runner(_Multiplexer):
    """Several children run at once, read as one stream of :class:`Entry`.

    Use it as a context manager: entering starts the children, leaving stops those still
    running (SIGTERM to each child's process group, SIGKILL after ``grace``) and reaps them.
    Iterate it once to get the entries; leaving that loop early stops the children too.
    :meth:`terminate` and :meth:`kill` may be called from any thread, or from the loop body;
    the loop then goes on until every child's end entry.

    Once the runner signals a child (terminate, kill, timeout, closing early), it owns that
    child's whole process group: what is left of the group when the runner closes gets
    SIGKILL. A child that ends on its own is never signalled, and neither is what it left.

    A command that cannot start (missing executable) ends at once with return code 127 (126
    when it is not executable) and an ``"error"`` line in its end entry; the others still run.

    The arguments are those of :func:`run_commands`.

    Example::

        with Runner([[sys.executable, "train.py"], [sys.executable, "eval.py"]]) as runner:
            for entry in runner:
                if entry["event"] == "error":
                    runner.terminate()
        print(runner.returncodes)  # [1, -15] when eval.py was stopped that way
    """

    def __init__(
        self,
        commands: Sequence[StrPath] | Sequence[Sequence[StrPath]],
        *,
        env: Environment | Sequence[Environment] | None = None,
        cwd: StrPath | None = None,
        timeout: float | None = None,
        data: bool = True,
        grace: float = 5.0,
        drain: float = 1.0,
    ) -> None:
        self._argvs = _argv_list(commands)
        self._environments = _environments(env, len(self._argvs))
        for name, value in (("timeout", timeout), ("grace", grace), ("drain", drain)):
            if value is not None and value < 0:
                message = f"{name}={value!r} is negative: give a number of seconds >= 0"
                raise UsageError(message)
        self._cwd = cwd
        self._timeout = timeout
        self._data = data
        self._grace = grace
        self._drain = drain
        self._children: list[_Child] = []
        self._queue: deque[Entry] = deque()
        self._selector: selectors.BaseSelector | None = None
        self._wake: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._deadline: float | None = None
        self._kill_at: float | None = None
        self._started = False
        self._closed = False
        self._iterated = False

    @property
    def commands(self) -> list[list[str]]:
        """The argv of each command, by index."""
        return [list(argv) for argv in self._argvs]

    @property
    def returncodes(self) -> list[int | None]:
        """Each command's return code, ``None`` while it runs or before it starts."""
        if not self._children:
            return [None] * len(self._argvs)
        return [child.returncode for child in self._children]

    @property
    def pids(self) -> list[int | None]:
        """Each child's pid, ``None`` before the start or when it could not start."""
        if not self._children:
            return [None] * len(self._argvs)
        return [child.popen.pid if child.popen else None for child in self._children]

    def __enter__(self) -> Runner:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Entry]:
        if self._iterated:
            message = "this Runner is already being read: iterate a Runner once"
            raise UsageError(message)
        self._iterated = True
        return self._entries()

    def start(self) -> None:
        """Start every child (done by ``with`` or the first ``next()``; idempotent)."""
        if self._started:
            return
        if self._closed:
            message = "this Runner is closed: make a new Runner to run the commands again"
            raise UsageError(message)
        self._started = True
        self._selector = selectors.DefaultSelector()
        self._wake = os.pipe()
        os.set_blocking(self._wake[1], False)
        self._selector.register(self._wake[0], selectors.EVENT_READ, self._empty_wake_pipe)
        if self._timeout is not None:
            self._deadline = time.monotonic() + self._timeout
        try:
            for index, argv in enumerate(self._argvs):
                self._spawn(index, argv, dict(self._environments[index]))
        except BaseException:
            self.close()
            raise

    def terminate(self) -> None:
        """Send SIGTERM to every child still running, and SIGKILL ``grace`` seconds later."""
        with self._lock:
            self._signal_running(signal.SIGTERM)
            if self._kill_at is None:
                self._kill_at = time.monotonic() + self._grace
            self._wake_up()

    def kill(self) -> None:
        """Send SIGKILL to every child still running, now."""
        with self._lock:
            self._signal_running(signal.SIGKILL)
            self._kill_at = None
            self._wake_up()

    def close(self) -> None:
        """Stop the children still running, reap every child, close every pipe.

        Children get SIGTERM, then SIGKILL after ``grace``; each gets its end entry (read by
        a loop still iterating). Call it from the thread that iterates; idempotent.
        """
        if self._closed:
            return
        self._closed = True
        if not self._started:
            return
        running = [child for child in self._children if not child.ended and child.popen]
        if running:
            self._stop(running)
        with self._lock:
            for child in self._children:
                if child.signalled:
                    _signal_group(child, signal.SIGKILL)
        for child in self._children:
            self._close_pidfd(child)
        if self._selector is not None:
            self._selector.close()
        with self._lock:
            for fd in self._wake or ():
                os.close(fd)
            self._wake = None

    def _stop(self, running: list[_Child]) -> None:
        """Terminate, wait up to ``grace``, kill, and reap ``running``; queue their ends."""
        with self._lock:
            self._signal_running(signal.SIGTERM)
        deadline = time.monotonic() + self._grace
        if self._kill_at is not None:
            deadline = min(deadline, self._kill_at)
        while any(self._poll(child) is None for child in running):
            if time.monotonic() >= deadline:
                with self._lock:
                    self._signal_running(signal.SIGKILL)
                break
            time.sleep(0.01)
        for child in running:
            self._poll(child, block=True)
            self._close_streams(child)
            self._end(child)

    def _entries(self) -> Iterator[Entry]:
        try:
            self.start()
            while True:
                while self._queue:
                    yield self._queue.popleft()
                if self._closed or all(child.ended for child in self._children):
                    return
                self._step()
        finally:
            self.close()

    def _step(self) -> None:
        """Wait for something to happen, and queue the entries it makes."""
        self._housekeep()
        if self._queue or all(child.ended for child in self._children):
            return
        assert self._selector is not None
        for key, _ in self._selector.select(self._wait_time()):
            key.data()
        self._housekeep()

    def _housekeep(self) -> None:
        """Act on the deadlines, reap exited children, and end those fully read."""
        now = time.monotonic()
        if self._deadline is not None and now >= self._deadline:
            self._deadline = None
            for child in self._children:
                child.timed_out = not child.ended and child.returncode is None
            self.terminate()
        if self._kill_at is not None and now >= self._kill_at:
            self.kill()
        for child in self._children:
            if child.ended:
                continue
            if child.returncode is None and child.pidfd is None:
                self._poll(child)
            if child.returncode is not None:
                if child.streams and now >= child.drain_until:
                    self._read_what_is_left(child)
                    self._close_streams(child)
                if not child.streams:
                    self._end(child)

    def _wait_time(self) -> float | None:
        now = time.monotonic()
        times = [t for t in (self._deadline, self._kill_at) if t is not None]
        for child in self._children:
            if child.ended:
                continue
            if child.returncode is not None:
                times.append(child.drain_until)
            elif child.pidfd is None:
                times.append(now + _POLL_INTERVAL)
        return max(0.0, min(times) - now) if times else None


if __name__ == "__main__":
    import sys

    for printed in run_commands(sys.argv[1:]):
        print(json.dumps(printed), flush=True)
