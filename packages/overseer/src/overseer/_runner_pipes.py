"""The pipes of a runner's children, watched by one selector loop.

Each child gets its stdout, stderr and (unless turned off) data pipe registered in one
:mod:`selectors` selector, with a pidfd that says when it exits where the system has them.
The loop cuts what the pipes hold into lines, and the lines into entries.
"""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, cast

from ._runner_commands import StrPath, _start_failure
from ._runner_events import Entry, Pipe, _entry, _line_entry
from .schema import DATA_FD_ENV

#: Longer lines are cut in pieces of this many bytes, so one runaway line cannot eat memory.
LINE_LIMIT = 1 << 20

_READ_SIZE = 1 << 16


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


class _Multiplexer:
    """Starts the children of a :class:`~overseer.runner.Runner` and reads all their pipes.

    The base of the runner: what comes out of the pipes lands as entries on ``_queue``.
    The runner's ``__init__`` sets the attributes below.
    """

    _children: list[_Child]
    _queue: deque[Entry]
    _selector: selectors.BaseSelector | None
    _wake: tuple[int, int] | None
    _lock: threading.Lock
    _cwd: StrPath | None
    _data: bool
    _drain: float

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
