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

import contextlib
import functools
import json
import os
import selectors
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, TypedDict, cast

from .errors import UsageError
from .schema import DATA_FD_ENV, SMUGGLE_PREFIX

__all__ = ["LINE_LIMIT", "Entry", "Pipe", "Runner", "read_events", "run_commands"]

Pipe = Literal["stdout", "stderr", "data"]
StrPath = str | os.PathLike[str]
Environment = Mapping[str, str]

#: Longer lines are cut in pieces of this many bytes, so one runaway line cannot eat memory.
LINE_LIMIT = 1 << 20

_READ_SIZE = 1 << 16
#: Without pidfds (macOS, old kernels), how often to look for children that exited.
_POLL_INTERVAL = 0.05
_RESERVED_EVENTS = frozenset({"start", "line", "end"})


class _EntryFields(TypedDict):
    event: str
    data: Any
    pipe: Pipe | None
    t: float
    index: int


class Entry(_EntryFields, total=False):
    """One thing that happened in a run; see the module documentation for each ``event``.

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


class _LineCutter:
    """Cuts a byte stream into text lines, keeping a partial line until its newline."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, chunk: bytes) -> list[str]:
        pending = self._pending
        pending += chunk
        lines = []
        while pending:
            newline = pending.find(b"\n", 0, LINE_LIMIT + 1)
            if newline >= 0:
                lines.append(_decode(pending[:newline]))
                del pending[: newline + 1]
            elif len(pending) > LINE_LIMIT:
                cut = _character_start(pending, LINE_LIMIT)
                lines.append(_decode(pending[:cut]))
                del pending[:cut]
            else:
                break
        return lines

    def finish(self) -> list[str]:
        rest = _decode(self._pending)
        self._pending.clear()
        return [rest] if rest else []


def _decode(raw: bytearray) -> str:
    return raw.decode("utf-8", errors="replace")


def _character_start(raw: bytearray, cut: int) -> int:
    """Move ``cut`` back to the start of a UTF-8 character, so a long line's pieces decode."""
    lowest = cut - 3
    while cut > lowest and raw[cut] & 0xC0 == 0x80:
        cut -= 1
    return cut


@dataclass(eq=False)
class _Stream:
    fd: int
    pipe: Pipe
    cutter: _LineCutter = field(default_factory=_LineCutter)


@dataclass(eq=False)
class _Child:
    index: int
    argv: list[str]
    popen: subprocess.Popen[bytes] | None = None
    streams: list[_Stream] = field(default_factory=list)
    pidfd: int | None = None
    started: float = 0.0
    returncode: int | None = None
    duration: float = 0.0
    drain_until: float = 0.0
    error: str | None = None
    signalled: bool = False
    timed_out: bool = False
    ended: bool = False


class Runner:
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

    def _spawn(self, index: int, argv: list[str], env: dict[str, str]) -> None:
        child = _Child(index, argv)
        self._children.append(child)
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        reads: list[tuple[int, Pipe]] = [(stdout_read, "stdout"), (stderr_read, "stderr")]
        writes = [stdout_write, stderr_write]
        if self._data:
            data_read, data_write = os.pipe()
            reads.append((data_read, "data"))
            writes.append(data_write)
            env[DATA_FD_ENV] = str(data_write)
        try:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=stdout_write,
                stderr=stderr_write,
                pass_fds=writes[2:],
                env=env,
                cwd=self._cwd,
                start_new_session=True,
            )
        except OSError as error:
            for fd, _ in reads:
                os.close(fd)
            child.returncode, child.error = _start_failure(argv, self._cwd, error)
            self._end(child)
            return
        finally:
            # The children hold the write ends now: the parent's copies would keep the
            # pipes from ever reaching EOF.
            for fd in writes:
                os.close(fd)
        self._watch(child, popen, reads)

    def _watch(
        self, child: _Child, popen: subprocess.Popen[bytes], reads: list[tuple[int, Pipe]]
    ) -> None:
        assert self._selector is not None
        child.popen = popen
        child.started = time.monotonic()
        for fd, pipe in reads:
            stream = _Stream(fd, pipe)
            child.streams.append(stream)
            reader = functools.partial(self._read, child, stream)
            self._selector.register(fd, selectors.EVENT_READ, reader)
        child.pidfd = _open_pidfd(popen.pid)
        if child.pidfd is not None:
            reaper = functools.partial(self._poll, child)
            self._selector.register(child.pidfd, selectors.EVENT_READ, reaper)
        data = {"argv": list(child.argv), "pid": popen.pid}
        self._queue.append(_entry("start", data, None, child.index))

    def _read(self, child: _Child, stream: _Stream) -> None:
        try:
            chunk = os.read(stream.fd, _READ_SIZE)
        except BlockingIOError:
            raise
        except OSError:
            chunk = b""  # EIO and the like: nothing more will come.
        if not chunk:
            self._close_stream(child, stream)
            return
        for line in stream.cutter.feed(chunk):
            self._queue.append(_line_entry(child, stream.pipe, line))

    def _read_what_is_left(self, child: _Child) -> None:
        """Read what the pipes hold already, without waiting for more, before closing them."""
        for stream in list(child.streams):
            os.set_blocking(stream.fd, False)
            # Bounded: a grandchild writing without pause must not keep us here.
            for _ in range(16):
                try:
                    self._read(child, stream)
                except BlockingIOError:
                    break
                if stream not in child.streams:
                    break

    def _close_stream(self, child: _Child, stream: _Stream) -> None:
        assert self._selector is not None
        self._selector.unregister(stream.fd)
        os.close(stream.fd)
        child.streams.remove(stream)
        for line in stream.cutter.finish():
            self._queue.append(_line_entry(child, stream.pipe, line))

    def _close_streams(self, child: _Child) -> None:
        for stream in list(child.streams):
            self._close_stream(child, stream)

    def _poll(self, child: _Child, *, block: bool = False) -> int | None:
        """Reap ``child`` if it exited; its pipes then get ``drain`` seconds to reach EOF."""
        if child.returncode is not None or child.popen is None:
            return child.returncode
        with self._lock:
            # Reaping under the lock: a pid is never signalled after it may have been reused.
            returncode = child.popen.wait() if block else child.popen.poll()
            if returncode is None:
                return None
            child.returncode = returncode
        now = time.monotonic()
        child.duration = now - child.started
        child.drain_until = now + self._drain
        self._close_pidfd(child)
        return returncode

    def _close_pidfd(self, child: _Child) -> None:
        if child.pidfd is None:
            return
        if self._selector is not None and child.pidfd in self._selector.get_map():
            self._selector.unregister(child.pidfd)
        os.close(child.pidfd)
        child.pidfd = None

    def _end(self, child: _Child) -> None:
        child.ended = True
        data: dict[str, Any] = {"returncode": child.returncode, "duration": child.duration}
        if child.error is not None:
            data["error"] = child.error
        if child.timed_out:
            data["timed_out"] = True
        self._queue.append(_entry("end", data, None, child.index))

    def _signal_running(self, signum: signal.Signals) -> None:
        """Signal every child not ended yet; call with the lock held."""
        for child in self._children:
            if child.popen is not None and not child.ended:
                child.signalled = True
                _signal_group(child, signum)

    def _wake_up(self) -> None:
        """Make a ``select`` waiting in another thread return; call with the lock held."""
        # A full pipe means a wake-up is pending already.
        if self._wake is not None:
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake[1], b"\0")

    def _empty_wake_pipe(self) -> None:
        assert self._wake is not None
        os.read(self._wake[0], _READ_SIZE)


def _signal_group(child: _Child, signum: signal.Signals) -> None:
    """Signal the process group ``child`` leads, or the child alone if it left its group."""
    assert child.popen is not None
    pid = child.popen.pid
    # Gone already, or a member changed user: nothing more we may do.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if child.returncode is None and os.getpgid(pid) != pid:
            os.kill(pid, signum)
        else:
            os.killpg(pid, signum)


def _open_pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when ``pid`` exits, where the system has them."""
    open_pidfd = getattr(os, "pidfd_open", None)
    if open_pidfd is None:
        return None
    try:
        return cast(int, open_pidfd(pid))
    except OSError:
        return None  # Kernel older than 5.3 or a sandbox forbidding it: poll instead.


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


def _start_failure(argv: list[str], cwd: StrPath | None, error: OSError) -> tuple[int, str]:
    """The return code and the one-line message of a command that could not start."""
    start = f"cannot start {argv[0]!r}"
    if cwd is not None and not os.path.isdir(cwd):
        folder = os.fspath(cwd)
        return 127, f"{start} in {folder!r}: no such folder; create it or pass another cwd"
    if isinstance(error, FileNotFoundError):
        where = "no such file" if os.sep in argv[0] else "not found on PATH"
        return 127, f"{start}: {where}; install it, fix the name, or give its full path"
    if isinstance(error, PermissionError):
        fix = "make it executable (chmod +x) or run it through its interpreter"
        return 126, f"{start}: permission denied; {fix}"
    reason = error.strerror or str(error)
    return 126, f"{start}: {reason}; check that it is a program this machine can run"


def _argv_list(commands: Sequence[StrPath] | Sequence[Sequence[StrPath]]) -> list[list[str]]:
    """Every command as a list of strings, whether given one argv or several."""
    if isinstance(commands, (str, bytes)):
        example = commands.split()
        message = f"command {commands!r} is a string: pass an argv list such as {example!r}"
        raise UsageError(message)
    items: list[Any] = list(commands)
    if items and all(isinstance(item, (str, os.PathLike)) for item in items):
        items = [items]
    return [_argv(index, item) for index, item in enumerate(items)]


def _argv(index: int, command: Any) -> list[str]:
    if isinstance(command, (str, bytes)) or not isinstance(command, Sequence):
        example = "['python', 'train.py']"
        message = f"command {index} is {command!r}: pass an argv list such as {example}"
        raise UsageError(message)
    if not command:
        message = f"command {index} is empty: give at least the program, as in ['python', 'x.py']"
        raise UsageError(message)
    for argument in command:
        if not isinstance(argument, (str, os.PathLike)):
            message = f"command {index} holds {argument!r}: every argument must be a str or a path"
            raise UsageError(message)
    return [os.fspath(argument) for argument in command]


def _environments(
    env: Environment | Sequence[Environment] | None, count: int
) -> list[dict[str, str]]:
    """One environment per command, unbuffered, without an inherited ``$DATA_FD``."""
    if env is None or isinstance(env, Mapping):
        base = os.environ if env is None else env
        environments = [dict(base) for _ in range(count)]
    else:
        environments = [dict(each) for each in env]
        if len(environments) != count:
            given = len(environments)
            message = (
                f"env holds {given} mappings for {count} commands:"
                " give one mapping per command, or a single mapping for all"
            )
            raise UsageError(message)
    for environment in environments:
        environment.setdefault("PYTHONUNBUFFERED", "1")
        # Inherited, it would name one of our descriptors that the child does not have.
        environment.pop(DATA_FD_ENV, None)
    return environments


if __name__ == "__main__":
    import sys

    for printed in run_commands(sys.argv[1:]):
        print(json.dumps(printed), flush=True)
