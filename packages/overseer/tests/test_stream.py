"""The data stream's writer: strict JSON lines, batched, safe across threads, signals and forks."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import json
import os
import signal
import subprocess
import sys
import termios
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import overseer
from overseer.errors import UsageError
from overseer.schema import SCHEMA_VERSION, SMUGGLE_PREFIX
from overseer.stream import (
    DataSink,
    encode_record,
    open_sink,
    parse_record,
    read_number,
    read_records,
    summarise,
)

NEVER = 3600.0  # a flush interval that no test waits out: only explicit flushes write


def _strict(constant: str) -> Any:
    message = f"bare {constant} in the stream: not strict JSON"
    raise ValueError(message)


def _parse(text: str) -> list[dict[str, Any]]:
    # Not str.splitlines: it also cuts at \x1e, the first character of the stdout marker.
    return [json.loads(line, parse_constant=_strict) for line in text.split("\n") if line]


def _read_available(fd: int) -> list[dict[str, Any]]:
    """Every record that can be read from ``fd`` now, without waiting."""
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return _parse(b"".join(chunks).decode())


def _read_to_end(fd: int) -> list[dict[str, Any]]:
    os.set_blocking(fd, True)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return _parse(b"".join(chunks).decode())


def _data(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for record in records if "$event" not in record]


def _shrink(pipe: tuple[int, int]) -> int:
    """Make the pipe hold one page (4 KiB), so a batch smaller than a flush fills it."""
    return fcntl.fcntl(pipe[1], fcntl.F_SETPIPE_SZ, 4096)


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):  # a test may have closed it already
            os.close(fd)


def _fork() -> int:
    # Python 3.12+ warns that forking a threaded process may deadlock: the sink's flusher is
    # such a thread, and surviving that fork is what these tests check.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def _in_child(action: Callable[[], object]) -> None:
    """Run ``action`` in this forked child, then leave without running any cleanup."""
    status = 1
    try:
        action()
        status = 0
    finally:
        os._exit(status)


def _wait(pid: int, deadline: float = 30.0) -> int | None:
    """The child's exit status, or ``None`` (and the child killed) if it hangs."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def _python(code: str, **options: Any) -> subprocess.CompletedProcess[str]:
    # Unbuffered output would hide what the smuggling test checks: prints wait in a buffer.
    ignored = ("DATA_FD", "OVERSEER_DATA_STDOUT", "PYTHONUNBUFFERED")
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    env.update(options.pop("env", {}))
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        **options,
    )


# ---------------------------------------------------------------------------- records


def test_the_first_record_states_the_schema_and_data_records_carry_metadata(
    pipe: tuple[int, int],
) -> None:
    with DataSink(pipe[1]) as sink:
        sink.write({"loss": 0.5, "task": "train"})
    schema, data = _read_available(pipe[0])
    assert schema["$event"] == "schema"
    assert schema["$data"] == {
        "version": SCHEMA_VERSION,
        "producer": "overseer-core",
        "producer_version": overseer.__version__,
    }
    assert list(data) == ["loss", "task", "$t", "$pid", "$rank"]
    assert data["loss"] == 0.5
    assert data["$pid"] == os.getpid()
    assert data["$rank"] == 0
    assert abs(data["$t"] - time.time()) < 600


def test_control_records_hold_event_and_data(pipe: tuple[int, int]) -> None:
    with DataSink(pipe[1]) as sink:
        sink.control("phase", {"name": "load_script"})
    phase = _read_available(pipe[0])[1]
    assert phase["$event"] == "phase"
    assert phase["$data"] == {"name": "load_script"}
    assert phase["$pid"] == os.getpid()


def test_dollar_keys_given_by_the_user_pass_through(pipe: tuple[int, int]) -> None:
    with DataSink(pipe[1]) as sink:
        sink.write({"$wrap": "epoch", "value": 1})
        sink.write({})
    wrapped, empty = _data(_read_available(pipe[0]))
    assert wrapped["$wrap"] == "epoch"
    assert set(empty) == {"$t", "$pid", "$rank"}


@pytest.mark.parametrize(
    ("environ", "rank"),
    [
        ({"RANK": "3"}, 3),
        ({"SLURM_PROCID": "5"}, 5),
        ({"RANK": "2", "SLURM_PROCID": "5"}, 2),
        ({"RANK": "not a rank", "SLURM_PROCID": "7"}, 7),
        ({}, 0),
    ],
)
def test_the_rank_comes_from_rank_then_slurm_procid(
    pipe: tuple[int, int], environ: dict[str, str], rank: int
) -> None:
    with DataSink(pipe[1], environ=environ) as sink:
        sink.write({"x": 1})
    assert [record["$rank"] for record in _read_available(pipe[0])] == [rank, rank]


def test_non_finite_floats_become_strings_anywhere(pipe: tuple[int, int]) -> None:
    nan, inf = float("nan"), float("inf")
    with DataSink(pipe[1]) as sink:
        sink.write({"loss": nan, "nested": {"a": [inf, -inf, (nan,)]}, "ok": 1.5})
    # _read_available parses strictly: a bare NaN in the text fails the test here.
    record = _data(_read_available(pipe[0]))[0]
    assert record["loss"] == "NaN"
    assert record["nested"] == {"a": ["Infinity", "-Infinity", ["NaN"]]}
    assert record["ok"] == 1.5


def test_text_that_utf8_cannot_hold_reads_back_unchanged(pipe: tuple[int, int]) -> None:
    name = "caf\u00e9 \udc80"  # a lone surrogate, as os.fsdecode makes of an undecodable byte
    with DataSink(pipe[1]) as sink:
        sink.write({"file": name})
    assert _data(_read_available(pipe[0]))[0]["file"] == name


@dataclasses.dataclass
class Point:
    x: int
    y: float


class Opaque:
    def __repr__(self) -> str:
        return "Opaque" + "!" * 500


def test_values_that_are_not_json_are_summarised_key_by_key() -> None:
    values = {
        "ok": 1,
        "point": Point(1, float("nan")),
        "pair": (1, 2),
        "tags": {"a"},
        "opaque": Opaque(),
        "keys": {1: "one", None: "none", (1, 2): "tuple"},
    }
    line = encode_record(values, {"$t": 1.0})
    record = json.loads(line, parse_constant=_strict)
    assert record["ok"] == 1
    assert record["point"] == {"x": 1, "y": "NaN"}
    assert record["pair"] == [1, 2]
    assert record["tags"] == ["a"]
    assert record["opaque"] == {"$repr": ("Opaque" + "!" * 500)[:200]}
    assert record["keys"] == {"1": "one", "null": "none", "(1, 2)": "tuple"}
    assert record["$t"] == 1.0
    assert line.endswith("}\n")
    assert line.count("\n") == 1


def test_numbers_read_back_from_the_stand_ins_written_for_them() -> None:
    written = {
        "int": 3,
        "nan": float("nan"),
        "up": float("inf"),
        "down": float("-inf"),
        "tensor": {"$tensor": {"shape": [], "dtype": "float32", "value": 0.5}},
        "array": {"$ndarray": {"shape": [1], "dtype": "float64", "value": 2.0}},
    }
    record = parse_record(encode_record(written, {"$t": 1.0}))
    assert record is not None
    read = {key: read_number(record[key]) for key in written}
    assert read["int"] == 3.0
    assert str(read["nan"]) == "nan"
    assert (read["up"], read["down"], read["tensor"], read["array"]) == (
        float("inf"), float("-inf"), 0.5, 2.0,
    )  # fmt: skip
    # Not numbers: flags, words, whole tensors, other stand-ins.
    for value in (True, "3", "nan", {"$tensor": {"shape": [2]}}, {"$repr": "x"}, [1.0], None):
        assert read_number(value) is None


def test_a_value_whose_repr_fails_does_not_lose_its_record() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    record = parse_record(encode_record({"a": 1, "b": Broken()}, {"$t": 1.0}))
    assert record is not None
    assert record["a"] == 1
    assert "unrepresentable Broken" in record["b"]["$repr"]


def test_a_structure_that_contains_itself_is_still_written(pipe: tuple[int, int]) -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    with DataSink(pipe[1]) as sink:
        sink.write({"loop": loop, "step": 3})
    record = _data(_read_available(pipe[0]))[0]
    assert record["step"] == 3
    assert record["loop"][0] == 1


def test_numpy_values_are_summarised(pipe: tuple[int, int]) -> None:
    numpy = pytest.importorskip("numpy")
    assert summarise(numpy.float32(1.5)) == 1.5
    assert summarise(numpy.int64(7)) == 7
    assert summarise(numpy.zeros((2, 3))) == {"$ndarray": {"shape": [2, 3], "dtype": "float64"}}
    one = summarise(numpy.array([float("nan")], dtype=numpy.float32))
    assert one == {"$ndarray": {"shape": [1], "dtype": "float32", "value": "NaN"}}
    with DataSink(pipe[1]) as sink:
        sink.write({"accuracy": numpy.float64(0.25), "batch": numpy.arange(4), "step": 1})
    record = _data(_read_available(pipe[0]))[0]
    assert record["accuracy"] == 0.25
    assert record["batch"]["$ndarray"]["shape"] == [4]
    assert record["step"] == 1


@pytest.mark.torch
def test_tensors_are_summarised(pipe: tuple[int, int]) -> None:
    torch = pytest.importorskip("torch")
    summary = summarise(torch.zeros(2, 3))
    assert summary == {"$tensor": {"shape": [2, 3], "dtype": "float32", "device": "cpu"}}
    assert summarise(torch.tensor(0.5))["$tensor"]["value"] == 0.5
    with DataSink(pipe[1]) as sink:
        sink.write({"loss": torch.tensor(float("nan")), "step": 1, "shape": torch.Size([2])})
    record = _data(_read_available(pipe[0]))[0]
    assert record["loss"] == {
        "$tensor": {"shape": [], "dtype": "float32", "device": "cpu", "value": "NaN"}
    }
    assert record["step"] == 1
    assert record["shape"] == [2]


def test_parse_record_returns_none_for_torn_lines() -> None:
    assert parse_record('{"a": 1') is None
    assert parse_record("[1, 2]") is None
    assert parse_record("") is None
    assert parse_record(b'{"a": 1}\n') == {"a": 1}


def test_read_records_skips_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    with path.open("wb") as file:
        with DataSink(file.fileno()) as sink:
            sink.write({"step": 1})
            sink.write({"step": 2})
        file.write(b'{"step": 3, "$t": 1')
    assert [r["step"] for r in read_records(path) if "step" in r] == [1, 2]


# ---------------------------------------------------------------------------- batching


def test_records_wait_in_memory_until_a_flush(pipe: tuple[int, int]) -> None:
    sink = DataSink(pipe[1], flush_interval=NEVER)
    for step in range(5):
        sink.write({"step": step})
    assert _read_available(pipe[0]) == []
    sink.flush()
    records = _read_available(pipe[0])
    assert records[0]["$event"] == "schema"
    assert [record["step"] for record in records[1:]] == [0, 1, 2, 3, 4]
    sink.close()


def test_a_full_batch_is_written_without_a_flush(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    with path.open("wb") as file:
        sink = DataSink(file.fileno(), flush_interval=NEVER)
        for step in range(600):
            sink.write({"step": step})
        written = [record["step"] for record in _data(list(read_records(path)))]
        sink.close()
    # 512 records leave together: the schema record and steps 0 to 510.
    assert written == list(range(511))


def test_a_large_record_is_written_without_a_flush(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    with path.open("wb") as file:
        sink = DataSink(file.fileno(), flush_interval=NEVER)
        sink.write({"text": "x" * 70_000})
        written = _data(list(read_records(path)))
        sink.close()
    assert len(written[0]["text"]) == 70_000


def test_a_record_from_a_sampler_thread_arrives_with_nothing_else_written(
    pipe: tuple[int, int],
) -> None:
    sink = DataSink(pipe[1], flush_interval=0.05)
    sink.flush()
    _read_available(pipe[0])
    sampler = threading.Thread(target=sink.write, args=({"gpu.load": 0.5},))
    sampler.start()
    sampler.join()
    deadline, records = time.monotonic() + 30, list[dict[str, Any]]()
    while not records and time.monotonic() < deadline:
        time.sleep(0.02)
        records = _read_available(pipe[0])
    assert [record["gpu.load"] for record in records] == [0.5]
    sink.close()


def test_many_threads_lose_nothing_and_never_interleave(pipe: tuple[int, int]) -> None:
    sink = DataSink(pipe[1])
    received: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: received.extend(_read_to_end(pipe[0])))
    reader.start()

    def give_many(thread: int) -> None:
        for index in range(300):
            sink.write({"thread": thread, "index": index, "text": "y" * (index % 50)})

    threads = [threading.Thread(target=give_many, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sink.close()
    os.close(pipe[1])
    reader.join()
    for number in range(4):
        indices = [r["index"] for r in received if r.get("thread") == number]
        assert indices == list(range(300))


def test_close_writes_what_waits_and_discards_what_follows(pipe: tuple[int, int]) -> None:
    sink = DataSink(pipe[1], flush_interval=NEVER)
    sink.write({"step": 1})
    sink.close()
    sink.write({"step": 2})
    sink.flush()
    assert [record["step"] for record in _data(_read_available(pipe[0]))] == [1]
    assert not sink.active
    os.fstat(pipe[1])  # the descriptor belongs to the caller: still open


def test_records_of_a_sink_never_closed_are_written_at_exit(pipe: tuple[int, int]) -> None:
    code = """if True:
        from overseer.stream import open_sink
        sink = open_sink(flush_interval=3600)
        sink.write({"step": 1})
    """
    _python(code, env={"DATA_FD": str(pipe[1])}, pass_fds=(pipe[1],))
    assert [record["step"] for record in _data(_read_available(pipe[0]))] == [1]


def test_a_write_interrupted_by_a_signal_loses_and_tears_nothing(
    pipe: tuple[int, int],
) -> None:
    class Interrupted(Exception):
        pass

    def interrupt(signal_number: int, frame: object) -> None:
        raise Interrupted

    _shrink(pipe)
    sink = DataSink(pipe[1], flush_interval=NEVER)
    for step in range(100):
        sink.write({"step": step, "text": "z" * 500})  # 50 KB: more than the pipe holds
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(Interrupted):
            sink.flush()  # blocks on the full pipe until the signal comes
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    received: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: received.extend(_read_to_end(pipe[0])))
    reader.start()
    sink.close()
    os.close(pipe[1])
    reader.join()
    assert [record["step"] for record in _data(received)] == list(range(100))


# ---------------------------------------------------------------------------- forks


def test_a_forked_child_writes_its_own_records_once(pipe: tuple[int, int]) -> None:
    sink = DataSink(pipe[1], flush_interval=NEVER)
    sink.write({"parent": "waiting at the fork"})
    pid = _fork()
    if pid == 0:
        _in_child(lambda: sink.write({"child": 1}))  # no flush: a worker may die any time
    assert _wait(pid) == 0
    sink.close()
    records = _read_available(pipe[0])
    assert [r["parent"] for r in records if "parent" in r] == ["waiting at the fork"]
    assert [r["$pid"] for r in records if "child" in r] == [pid]
    assert [r["$event"] for r in records if "$event" in r] == ["schema"]


def test_a_fork_while_another_thread_is_writing_does_not_hang_the_child(
    pipe: tuple[int, int],
) -> None:
    _shrink(pipe)
    sink = DataSink(pipe[1], flush_interval=NEVER)
    for step in range(100):
        sink.write({"step": step, "text": "w" * 500})
    writer = threading.Thread(target=sink.flush)  # 50 KB: blocks on the pipe, inside the sink
    writer.start()
    waiting = bytearray(4)
    deadline = time.monotonic() + 30
    while not any(waiting) and time.monotonic() < deadline:  # the flush has begun
        time.sleep(0.01)
        fcntl.ioctl(pipe[0], termios.FIONREAD, waiting)
    pid = _fork()
    if pid == 0:
        _in_child(lambda: sink.write({"child": 1}))
    received: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: received.extend(_read_to_end(pipe[0])))
    reader.start()
    status = _wait(pid)
    writer.join()
    sink.close()
    os.close(pipe[1])
    reader.join()
    assert status == 0, "the forked child hung on the lock its parent's thread held"
    assert [r["$pid"] for r in received if "child" in r] == [pid]
    assert [r["step"] for r in received if "step" in r] == list(range(100))


def test_lines_of_a_parent_and_its_forked_children_never_tear(pipe: tuple[int, int]) -> None:
    sink = DataSink(pipe[1])
    received: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: received.extend(_read_to_end(pipe[0])))
    reader.start()

    def give(who: str) -> None:
        for index in range(1000):
            sink.write({"who": who, "index": index, "text": "v" * 60})

    children = []
    for name in ("a", "b"):
        pid = _fork()
        if pid == 0:
            _in_child(functools.partial(give, name))
        children.append(pid)
    give("parent")
    statuses = [_wait(pid) for pid in children]
    sink.close()
    os.close(pipe[1])
    reader.join()  # every line parsed (_read_to_end): none was torn
    assert statuses == [0, 0]
    for who in ("a", "b", "parent"):
        assert [r["index"] for r in received if r.get("who") == who] == list(range(1000))


# ---------------------------------------------------------------------------- choosing


def test_data_fd_that_is_not_a_number_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"\$DATA_FD is 'abc', not a file descriptor number"):
        open_sink({"DATA_FD": "abc"})


def test_data_fd_naming_a_closed_descriptor_warns_once_and_discards() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    os.close(write_end)
    with pytest.warns(RuntimeWarning, match=f"descriptor {write_end} is not open") as caught:
        sink = open_sink({"DATA_FD": str(write_end)})
    assert len(caught) == 1
    assert sink is not None
    assert not sink.active
    sink.write({"loss": 1.0})
    sink.control("phase", {"name": "init"})
    sink.flush()
    sink.close()


def test_data_fd_naming_an_open_pipe_is_used(pipe: tuple[int, int]) -> None:
    sink = open_sink({"DATA_FD": str(pipe[1])})
    assert sink is not None
    sink.write({"loss": 1.0})
    sink.close()
    assert [record["loss"] for record in _data(_read_available(pipe[0]))] == [1.0]


def test_descriptor_3_is_used_only_when_open_for_writing_to_a_pipe_file_or_socket() -> None:
    code = """if True:
        import fcntl, json, os
        from overseer.stream import open_sink
        def attempt(label, fd):
            if fd is not None:
                os.dup2(fd, 3)
            sink = open_sink()
            print(json.dumps([label, sink is not None]))
            if sink is not None:
                sink.close()
            if fd is not None:
                os.close(3)
        try:
            os.fstat(3)
        except OSError:
            pass
        else:
            raise SystemExit("descriptor 3 is open in a fresh process")
        # Moved to 10 and up, so that the pipe itself does not hold descriptor 3.
        pipe = os.pipe()
        read_end, write_end = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in pipe]
        for fd in pipe:
            os.close(fd)
        attempt("closed", None)
        attempt("pipe for writing", write_end)
        attempt("pipe for reading", read_end)
        attempt("terminal-like device", os.open(os.devnull, os.O_WRONLY))
    """
    done = _python(code)
    assert dict(json.loads(line) for line in done.stdout.splitlines()) == {
        "closed": False,
        "pipe for writing": True,
        "pipe for reading": False,
        "terminal-like device": False,
    }


def test_smuggled_records_go_to_stdout_behind_the_marker_after_earlier_prints() -> None:
    code = """if True:
        import io, sys
        from overseer.stream import open_sink
        print("before")  # buffered: stdout is a pipe
        sink = open_sink()
        sink.write({"loss": 1.0})
        sink.flush()
        sys.stdout = io.StringIO()  # the script captures its own prints
        sink.write({"loss": 2.0})
        sink.close()
        captured, sys.stdout = sys.stdout.getvalue(), sys.__stdout__
        print("captured:", repr(captured))
    """
    done = _python(code, env={"OVERSEER_DATA_STDOUT": "1"})
    lines = done.stdout.split("\n")[:-1]
    assert lines[0] == "before"
    assert lines[-1] == "captured: ''"
    smuggled = [line for line in lines if line.startswith(SMUGGLE_PREFIX)]
    assert len(smuggled) == len(lines) - 2
    records = [parse_record(line[len(SMUGGLE_PREFIX) :]) for line in smuggled]
    assert [record and record.get("loss") for record in records] == [None, 1.0, 2.0]


def test_a_reader_that_goes_away_gives_one_warning_and_no_exception(
    pipe: tuple[int, int],
) -> None:
    sink = DataSink(pipe[1], flush_interval=NEVER)
    os.close(pipe[0])
    sink.write({"x": 1})
    with pytest.warns(RuntimeWarning, match="its reader is gone") as caught:
        sink.flush()
    assert len(caught) == 1
    # Warnings are errors in this test run: a second warning would fail here.
    sink.write({"x": 2})
    sink.flush()
    assert not sink.active
    sink.close()
