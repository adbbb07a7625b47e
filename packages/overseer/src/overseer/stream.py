"""The child side of the event stream: how a process run by the overseer writes its records.

A run writes JSON Lines: one strict JSON object a line, UTF-8, each line ending in ``\\n``.
:func:`open_sink` picks where they go, from the environment:

1. ``$OVERSEER_DATA_STDOUT=1``: stdout, each line behind the marker ``"\\x1e@overseer "``
   (for launchers such as ``srun`` or ``torchrun`` that pass no extra descriptor);
2. ``$DATA_FD=N``: descriptor ``N``, as voir does (not a number: :class:`~overseer.UsageError`;
   not open for writing: one warning, and the records are discarded);
3. descriptor 3, when it is a pipe, file or socket open for writing;
4. nowhere: a script run in a plain terminal has no stream, silently.

Every record carries three metadata keys:

=========  ==============================================================================
``$t``     when the record was written: seconds since the epoch (``time.time()``)
``$pid``   the process that wrote it (a forked DataLoader worker stamps its own)
``$rank``  ``$RANK``, else ``$SLURM_PROCID``, else ``0``
=========  ==============================================================================

The first record of every stream states its schema:

.. code-block:: json

    {"$event": "schema",
     "$data": {"version": 1, "producer": "overseer-core", "producer_version": "0.1.0"},
     "$t": 1795352330.52, "$pid": 4242, "$rank": 0}

Control records hold an ``$event`` name and its ``$data`` (``phase``, ``error``,
``overseer_error``, ``instrument_error``, ``stop``, ``signal``, ``exit``):

.. code-block:: json

    {"$event": "phase", "$data": {"name": "load_script"}, "$t": 1795352330.57, "$pid": 4242,
     "$rank": 0}

Data records are the dicts given, the metadata added; user keys never start with ``$``:

.. code-block:: json

    {"loss": 0.53, "task": "train", "$t": 1795352331.02, "$pid": 4242, "$rank": 0}

Values that JSON cannot hold are written key by key as stand-ins, never dropped with their
record (:func:`summarise`):

==================================  =============================================================
``float("nan")``, ``±inf``          ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (strings, anywhere)
a torch tensor                      ``{"$tensor": {"shape": [2, 3], "dtype": "float32",``
                                    ``"device": "cpu"}}``, plus ``"value"`` when it holds one number
a numpy array                       ``{"$ndarray": {"shape": [2, 3], "dtype": "float64"}}``,
                                    plus ``"value"`` when it holds one number
a numpy or torch scalar             the number
a tuple or a set                    a list
a dict with keys that are not str   a dict with str keys
a dataclass                         a dict of its fields
anything else                       ``{"$repr": repr(value)[:200]}``
==================================  =============================================================

Records wait in memory and leave together when 512 records or 64 KiB are waiting, when a
record comes ``flush_interval`` (0.2 s) after the last write, on
:meth:`DataSink.flush` (the overseer calls it at every phase's end, at exit and on signals),
and from a background thread every ``flush_interval``, so what a sampler thread gives arrives
within one interval even when nothing else is written. A forked child (a DataLoader worker)
drops its parent's waiting records, stamps its own pid and writes each record at once.
Writes are cut at line ends into pieces of at most ``PIPE_BUF`` (4 KiB), which a pipe takes
whole, so the lines of a process and of its forked workers never tear each other. A reader
that goes away costs one warning; the run goes on without its stream.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import math
import os
import select
import stat
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from .errors import UsageError
from .schema import DATA_FD_ENV, DEFAULT_DATA_FD, SCHEMA_VERSION, SMUGGLE_ENV, SMUGGLE_PREFIX

__all__ = [
    "DataSink",
    "encode_record",
    "open_sink",
    "parse_record",
    "read_records",
    "summarise",
]

_MAX_RECORDS = 512
_MAX_CHARS = 64 * 1024
_REPR_LIMIT = 200
_MAX_DEPTH = 64
# A write of up to this size to a pipe is atomic: it never interleaves with a forked worker's
# lines, and a signal that interrupts it while the pipe is full finds nothing written, so the
# next flush resumes exactly where it stopped. Batches are cut at line ends to this size.
_PIPE_BUF = getattr(select, "PIPE_BUF", 512)
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}
_KEY_CONSTANTS: dict[Any, str] = {True: "true", False: "false", None: "null"}
_ENCODE_ERRORS = (TypeError, ValueError, RecursionError)


# ---------------------------------------------------------------------------- summaries


def summarise(value: Any) -> Any:
    """A stand-in for ``value`` that strict JSON can hold (see the module's table).

    Args:
        value: anything.

    Returns:
        ``value`` itself when it is already strict JSON, else its stand-in.

    Example:
        >>> summarise({"loss": float("nan"), "pair": (1, 2), 3: {"deep": [float("inf")]}})
        {'loss': 'NaN', 'pair': [1, 2], '3': {'deep': ['Infinity']}}
        >>> summarise(object())["$repr"].startswith("<object object")
        True
    """
    return _summarise(value, 0)


def _summarise(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _NON_FINITE.get(value, "NaN")
    if depth > _MAX_DEPTH:  # a structure that contains itself
        return _repr(value)
    if isinstance(value, Mapping):
        return {_key(key): _summarise(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_summarise(item, depth + 1) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return {field.name: _summarise(getattr(value, field.name), depth + 1) for field in fields}
    return _summarise_object(value, depth)


def _summarise_object(value: Any, depth: int) -> Any:
    # Found in sys.modules, never imported: a tensor exists only if its library is loaded.
    torch = sys.modules.get("torch")
    numpy = sys.modules.get("numpy")
    try:
        if torch is not None and isinstance(value, torch.Tensor):
            summary = {
                "shape": list(value.shape),
                "dtype": str(value.dtype).removeprefix("torch."),
                "device": str(value.device),
            }
            if value.numel() == 1:
                summary["value"] = _summarise(value.item(), depth + 1)
            return {"$tensor": summary}
        if numpy is not None and isinstance(value, numpy.ndarray):
            summary = {"shape": list(value.shape), "dtype": str(value.dtype)}
            if value.size == 1:
                summary["value"] = _summarise(value.item(), depth + 1)
            return {"$ndarray": summary}
        if _holds_one_number(value):
            return _summarise(value.item(), depth + 1)
    except Exception:  # a value that fails to describe itself is shown by its repr
        pass
    return _repr(value)


def _holds_one_number(value: Any) -> bool:
    """Whether ``value`` is a scalar of an array library (numpy, jax...): ``.item()``, size 1."""
    if not callable(getattr(value, "item", None)):
        return False
    size = getattr(value, "size", None)
    if callable(size):  # torch's spelling
        size = size()
    return size == 1 or getattr(value, "shape", None) == ()


def _repr(value: Any) -> dict[str, str]:
    try:
        text = repr(value)
    except Exception as error:  # the record is written all the same
        text = f"<unrepresentable {type(value).__name__}: {error!r}>"
    return {"$repr": text[:_REPR_LIMIT]}


def _key(key: Any) -> str:
    """A dict key as JSON writes it: ``1`` -> ``"1"``, ``True`` -> ``"true"``."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return _KEY_CONSTANTS[key]
    if isinstance(key, float):
        return str(_summarise(key, 0))
    return str(key)


# ---------------------------------------------------------------------------- encoding


def _default(value: Any) -> Any:
    # What the encoder cannot write is summarised on the spot, so a record with a tensor in
    # it is still encoded in one pass.
    return _summarise(value, 0)


def _make_encoder() -> Callable[[Any, int], Any]:
    """The C encoder of :mod:`json`, configured once: ``encoder(obj, 0)`` gives the chunks.

    ``JSONEncoder.encode`` builds a new one for every call, which costs as much as the
    encoding of a small record. Where it is missing (PyPy), the same configuration in Python.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        encoder = json.JSONEncoder(
            allow_nan=False, separators=(",", ":"), ensure_ascii=False, default=_default
        )
        return lambda value, _level: (encoder.encode(value),)
    # check_circular off: a cycle ends in RecursionError, which sends it to the slow path.
    return make(  # type: ignore[no-any-return]
        None, _default, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )


_encoder = _make_encoder()


def _encode_object(values: Mapping[str, Any]) -> str:
    """``values`` as a JSON object; non-finite floats and odd keys go through :func:`summarise`."""
    try:
        return "".join(_encoder(values, 0))
    except _ENCODE_ERRORS:
        summary = _summarise(values, 0)
        if not isinstance(summary, dict):
            summary = {"$value": summary}
        return "".join(_encoder(summary, 0))


def _splice(body: str, metadata: str) -> str:
    """Put ``metadata`` (``'"$t":1.0,...'``) inside the object ``body`` as its last keys."""
    separator = "," if len(body) > 2 else ""
    return f"{body[:-1]}{separator}{metadata}}}\n"


def encode_record(values: Mapping[str, Any], metadata: Mapping[str, Any]) -> str:
    """One line of the stream: ``values`` with ``metadata`` (the ``$`` keys) added.

    Args:
        values: the record's keys, user data or ``{"$event": ..., "$data": ...}``.
        metadata: the keys added last, usually ``$t``, ``$pid`` and ``$rank``.

    Returns:
        Strict JSON text ending in ``\\n``.

    Example:
        >>> encode_record({"loss": float("nan"), "step": 1}, {"$t": 1.5, "$pid": 7, "$rank": 0})
        '{"loss":"NaN","step":1,"$t":1.5,"$pid":7,"$rank":0}\\n'
    """
    return _splice(_encode_object(values), _encode_object(metadata)[1:-1])


def parse_record(line: str | bytes) -> dict[str, Any] | None:
    """The record one line holds, or ``None`` when it is torn or not a JSON object.

    Readers use it on streams still being written, where the last line may be incomplete.
    Bare ``NaN`` is accepted, as older writers (voir's) produce it.

    Example:
        >>> parse_record('{"loss": 0.5, "$t": 1.0}')
        {'loss': 0.5, '$t': 1.0}
        >>> parse_record('{"loss": 0.') is None
        True
    """
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def read_records(source: str | os.PathLike[str] | IO[str] | IO[bytes]) -> Iterator[dict[str, Any]]:
    """The records of a saved stream, in order, skipping torn and invalid lines.

    Args:
        source: a path, or a file open for reading (text or binary).

    Example:
        >>> import io
        >>> list(read_records(io.StringIO('{"a": 1}\\n{"a": 2}\\n{"a"')))
        [{'a': 1}, {'a': 2}]
    """
    if isinstance(source, (str, os.PathLike)):
        with Path(source).open("rb") as file:
            yield from read_records(file)
        return
    for line in source:
        record = parse_record(line)
        if record is not None:
            yield record


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


# ---------------------------------------------------------------------------- choosing


def _is_writable(fd: int, *, any_kind: bool) -> bool:
    """Whether ``fd`` is open for writing (and, unless ``any_kind``, a pipe, file or socket)."""
    import fcntl

    try:
        mode = os.fstat(fd).st_mode
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except (OSError, OverflowError, ValueError):
        return False
    if flags & os.O_ACCMODE not in (os.O_WRONLY, os.O_RDWR):
        return False
    return any_kind or stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


def open_sink(
    environ: Mapping[str, str] | None = None, *, flush_interval: float = 0.2
) -> DataSink | None:
    """The sink the environment asks for, or ``None`` when the run has no stream.

    The choice, in order: ``$OVERSEER_DATA_STDOUT=1`` (stdout, behind the marker),
    ``$DATA_FD`` (that descriptor), descriptor 3 when it is a pipe, file or socket open for
    writing, else none.

    Args:
        environ: the environment to read (default: ``os.environ``).
        flush_interval: the longest a record waits in memory, in seconds.

    Returns:
        A sink; one that discards (after one warning) when ``$DATA_FD`` names a descriptor
        that is not open for writing; ``None`` when nothing asks for a stream.

    Raises:
        UsageError: ``$DATA_FD`` is not a number.

    Example:
        >>> open_sink({"DATA_FD": "three"})
        Traceback (most recent call last):
        ...
        overseer.errors.UsageError: $DATA_FD is 'three', not a file descriptor number: ...
    """
    environ = os.environ if environ is None else environ
    options: dict[str, Any] = {"flush_interval": flush_interval, "environ": environ}
    if environ.get(SMUGGLE_ENV) == "1":
        return DataSink(1, prefix=SMUGGLE_PREFIX, **options)
    raw = environ.get(DATA_FD_ENV)
    if raw is None:
        if _is_writable(DEFAULT_DATA_FD, any_kind=False):
            return DataSink(DEFAULT_DATA_FD, **options)
        return None
    try:
        fd = int(raw)
    except ValueError:
        message = (
            f"${DATA_FD_ENV} is {raw!r}, not a file descriptor number:"
            " set it to an open descriptor such as 3, or unset it"
        )
        raise UsageError(message) from None
    if not _is_writable(fd, any_kind=True):
        message = (
            f"overseer: ${DATA_FD_ENV} is {raw!r} but descriptor {fd} is not open for writing,"
            f" so this run's records are discarded: open it in the launcher (3>events.jsonl"
            f" with {DATA_FD_ENV}=3) or unset {DATA_FD_ENV}"
        )
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return DataSink(None, **options)
    return DataSink(fd, **options)
