"""The sink that writes a process's records: batched, flushed in time, safe across forks.

Sinks flush from a background thread, at exit, and drop their parent's waiting records in a
forked child: this module registers those handlers once, for every live sink.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from ._stream_encoding import _ENCODE_ERRORS, _encode_object, _encoder
from .schema import SCHEMA_VERSION

_MAX_RECORDS = 512
_MAX_CHARS = 64 * 1024
# A write of up to this size to a pipe is atomic: it never interleaves with a forked worker's
# lines, and a signal that interrupts it while the pipe is full finds nothing written, so the
# next flush resumes exactly where it stopped. Batches are cut at line ends to this size.
_PIPE_BUF = getattr(select, "PIPE_BUF", 512)


# ---------------------------------------------------------------------------- the sink


def _rank(environ: Mapping[str, str]) -> int:
    for name in ("RANK", "SLURM_PROCID"):
        try:
            return int(environ[name])
        except (KeyError, ValueError):
            continue
    return 0


def _producer_version() -> str:
    try:
        from . import __version__
    except ImportError:
        from importlib import metadata

        try:
            return metadata.version("overseer-core")
        except metadata.PackageNotFoundError:
            return "0+unknown"
    return str(__version__)


class DataSink:
    """Writes records to a descriptor, batched, from any thread.

    The descriptor stays open after :meth:`close`: it belongs to whoever passed it. A sink
    built on ``None`` discards everything (the stream was asked for but cannot be written).
    A failed write (the reader went away) warns once and turns the sink into one that
    discards: the user's code never sees the error.

    Args:
        fd: the descriptor to write to, or ``None`` to discard.
        prefix: put before every line (the stdout marker when smuggling records).
        flush_interval: the longest a record waits in memory, in seconds.
        environ: where ``$RANK`` and ``$SLURM_PROCID`` are read (default: ``os.environ``).

    Example:
        >>> read_end, write_end = os.pipe()
        >>> with DataSink(write_end) as sink:
        ...     sink.control("phase", {"name": "init"})
        ...     sink.write({"loss": 0.5})
        >>> lines = os.read(read_end, 9999).splitlines()
        >>> [record.get("$event", record.get("loss")) for record in map(parse_record, lines)]
        ['schema', 'phase', 0.5]
    """

    def __init__(
        self,
        fd: int | None,
        *,
        prefix: str = "",
        flush_interval: float = 0.2,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._fd = fd
        self._prefix = prefix
        self._flush_interval = flush_interval
        self._rank = _rank(os.environ if environ is None else environ)
        # Reentrant: a signal handler may flush while the same thread is inside write().
        self._lock = threading.RLock()
        self._pending: list[str] = []
        self._chars = 0
        self._unsent = b""  # what a write interrupted by an exception left
        self._sending = False
        self._deadline = time.time() + flush_interval
        self._max_records = _MAX_RECORDS
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        self._stamp()
        if fd is not None:
            _SINKS.add(self)
            self.control("schema", _schema())

    def _stamp(self) -> None:
        self._suffix = f',"$pid":{os.getpid()},"$rank":{self._rank}}}\n'

    @property
    def active(self) -> bool:
        """Whether records still reach a descriptor (false once closed or after a failure)."""
        return self._fd is not None

    def write(self, values: Mapping[str, Any]) -> None:
        """Queue a data record: ``values`` with ``$t``, ``$pid`` and ``$rank`` added.

        Args:
            values: the record; keys are strings, values anything (see :func:`summarise`).
        """
        fd = self._fd  # checked again under the lock: close() may come from another thread
        if fd is None:
            return
        now = time.time()
        # The body of _encode_object and _splice, inlined: this runs for every record.
        try:
            body = "".join(_encoder(values, 0))
        except _ENCODE_ERRORS:
            body = _encode_object(values)
        if len(body) > 2:
            line = f'{self._prefix}{body[:-1]},"$t":{now!r}{self._suffix}'
        else:
            line = f'{self._prefix}{{"$t":{now!r}{self._suffix}'
        with self._lock:
            if self._fd is None:
                return
            pending = self._pending
            pending.append(line)
            self._chars += len(line)
            due = (
                len(pending) >= self._max_records
                or self._chars >= _MAX_CHARS
                or now >= self._deadline
            )
            if not due and self._flusher is None:
                self._start_flusher()
        if due:
            self.flush()

    def control(self, event: str, data: Mapping[str, Any]) -> None:
        """Queue a control record ``{"$event": event, "$data": data}`` with its metadata.

        Args:
            event: the record's name (``"phase"``, ``"error"``, ``"stop"``...).
            data: what it says.
        """
        self.write({"$event": event, "$data": data})

    def flush(self) -> None:
        """Write every waiting record now."""
        if self._prefix and self._pending:
            # Smuggled lines share stdout with the script's prints: those given before go first.
            _flush_python_stdout()
        with self._lock:
            if self._sending or self._fd is None:
                # Reentered from a signal handler while this thread writes: it goes on after.
                return
            self._deadline = time.time() + self._flush_interval
            if not self._pending and not self._unsent:
                return
            self._sending = True
            try:
                # backslashreplace writes a lone surrogate as the JSON escape that reads back.
                text = "".join(self._pending).encode("utf-8", "backslashreplace")
                data = self._unsent + text
                self._unsent, self._pending, self._chars = data, [], 0
                self._send(self._fd, data)
            finally:
                self._sending = False

    def close(self) -> None:
        """Write what waits, stop the background thread; later records are discarded."""
        self.flush()
        with self._lock:
            self._fd = None
        self._stop.set()
        _SINKS.discard(self)

    def __enter__(self) -> DataSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DataSink fd={self._fd} pending={len(self._pending)}>"

    def _send(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        position = 0
        try:
            while position < len(data):
                end = _chunk_end(data, position)
                try:
                    position += os.write(fd, view[position:end])
                except BlockingIOError:  # the reader made the descriptor non-blocking
                    select.select([], [fd], [], 1.0)
        except OSError as error:
            self._fail(fd, error)
        except BaseException:
            # KeyboardInterrupt or an exception raised by a signal handler: the rest of the
            # batch goes first at the next flush, so no line is torn or lost.
            self._unsent = data[position:]
            raise
        else:
            self._unsent = b""

    def _fail(self, fd: int, error: OSError) -> None:
        self._fd = None
        self._pending, self._unsent = [], b""
        self._stop.set()
        if isinstance(error, BrokenPipeError):
            cause = "its reader is gone"
        else:
            cause = f"{type(error).__name__}: {error}"
        message = (
            f"overseer: writing the data stream to descriptor {fd} failed ({cause}); later"
            " records are discarded: keep the reading end open until the run ends"
        )
        warnings.warn(message, RuntimeWarning, stacklevel=4)

    def _start_flusher(self) -> None:
        self._flusher = threading.Thread(
            target=_flush_periodically,
            args=(weakref.ref(self), self._stop, self._flush_interval),
            name=f"overseer-stream-fd{self._fd}",
            daemon=True,
        )
        self._flusher.start()

    def _finish_at_exit(self) -> None:
        # The flusher stops before the interpreter tears down: a daemon thread caught inside
        # sys.stdout.flush() then is a fatal error. Records given later (by other exit
        # handlers) leave at once.
        self._stop.set()
        flusher = self._flusher
        if flusher is not None and flusher is not threading.current_thread():
            flusher.join(timeout=1.0)
        self._max_records = 1
        with contextlib.suppress(Exception):  # the interpreter is exiting: nothing left to tell
            self.flush()

    def _after_fork_in_child(self) -> None:
        # The parent's lock may have been held by a thread that does not exist here, and its
        # waiting records are the parent's to write. A worker may end in os._exit: no batching.
        self._lock = threading.RLock()
        self._pending = []
        self._chars = 0
        self._unsent = b""
        self._sending = False
        self._max_records = 1
        self._stop = threading.Event()
        self._flusher = None
        self._stamp()


def _schema() -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "producer": "overseer-core",
        "producer_version": _producer_version(),
    }


def _chunk_end(data: bytes, start: int) -> int:
    """Where the next write ends: after the last line end within ``PIPE_BUF`` bytes."""
    if len(data) - start <= _PIPE_BUF:
        return len(data)
    cut = data.rfind(b"\n", start, start + _PIPE_BUF)
    return cut + 1 if cut >= 0 else start + _PIPE_BUF


def _flush_periodically(
    reference: weakref.ReferenceType[DataSink], stop: threading.Event, interval: float
) -> None:
    # Holds the sink weakly: a sink dropped without close() lets its thread end.
    while not stop.wait(interval):
        sink = reference()
        if sink is None:
            return
        # A failure warns and disables the sink; a warning made an error must not end the loop.
        with contextlib.suppress(Exception):
            sink.flush()
        del sink


def _flush_python_stdout() -> None:
    for stream in {id(s): s for s in (sys.stdout, sys.__stdout__) if s is not None}.values():
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()


_SINKS: weakref.WeakSet[DataSink] = weakref.WeakSet()


def _each_sink(method: Callable[[DataSink], None]) -> Callable[[], None]:
    def call() -> None:
        for sink in list(_SINKS):
            method(sink)

    return call


os.register_at_fork(after_in_child=_each_sink(DataSink._after_fork_in_child))
atexit.register(_each_sink(DataSink._finish_at_exit))
