"""The runner: real children of this Python, read through their pipes and data descriptor."""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from overseer.errors import UsageError
from overseer.runner import LINE_LIMIT, Entry, Runner, read_events, run_commands

PROGRAMS = Path(__file__).parent / "programs"
PYTHON = sys.executable


def program(name: str, *args: str) -> list[str]:
    return [PYTHON, str(PROGRAMS / f"runner_{name}.py"), *args]


def code(source: str) -> list[str]:
    return [PYTHON, "-c", source]


def of(entries: list[Entry], event: str, index: int = 0) -> list[Entry]:
    return [e for e in entries if e["event"] == event and e["index"] == index]


def lines(entries: list[Entry], pipe: str, index: int = 0) -> list[str]:
    return [e["data"] for e in of(entries, "line", index) if e["pipe"] == pipe]


def end(entries: list[Entry], index: int = 0) -> dict[str, object]:
    [entry] = of(entries, "end", index)
    data: dict[str, object] = entry["data"]
    return data


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_lines_keep_their_pipe_and_order() -> None:
    entries = list(run_commands(program("talk", "3")))
    assert entries[0]["event"] == "start"
    assert entries[-1]["event"] == "end"
    assert lines(entries, "stdout") == ["out 0", "out 1", "out 2"]
    assert lines(entries, "stderr") == ["err 0", "err 1", "err 2"]
    start = entries[0]
    assert start["data"]["argv"] == program("talk", "3")
    assert start["pipe"] is None
    assert end(entries)["returncode"] == 0


def test_records_on_the_data_descriptor_become_data_and_control_entries() -> None:
    environments = [{**os.environ, "RANK": str(rank)} for rank in (0, 1)]
    commands = [program("records", "fd"), program("records", "fd")]
    entries = list(run_commands(commands, env=environments))
    for index in (0, 1):
        pid = of(entries, "start", index)[0]["data"]["pid"]
        [schema] = of(entries, "schema", index)
        assert schema["data"] == {"version": 1}
        assert of(entries, "phase", index)[0]["data"] == {"name": "run_script"}
        data = [e["data"] for e in of(entries, "data", index)]
        assert data[:2] == [
            {"loss": 0.5, "step": 1},
            {"$wrap": {"name": "epoch", "step": "begin", "id": 0}},
        ]
        for entry in [schema, *of(entries, "data", index)]:
            assert (entry["pid"], entry["rank"], entry["pipe"]) == (pid, index, None)
            assert isinstance(entry["t"], float)
        assert lines(entries, "data", index) == []


def test_smuggled_records_on_stdout_with_or_without_a_launcher_prefix() -> None:
    entries = list(run_commands(program("records", "smuggle")))
    assert of(entries, "schema")[0]["data"] == {"version": 1}
    assert [e["data"] for e in of(entries, "data")] == [{"loss": 0.5, "step": 1}]
    stdout = lines(entries, "stdout")
    assert stdout[0] == "plain text"
    assert stdout[1].endswith("{not json")
    assert len(stdout) == 2


def test_a_line_of_the_data_pipe_that_is_not_json_becomes_a_line_entry() -> None:
    entries = list(run_commands(program("records", "torn")))
    assert [e["data"] for e in of(entries, "data")] == [{"loss": 0.5, "step": 1}]
    assert lines(entries, "data") == ["not json at all", '{"loss": 0.']
    assert end(entries)["returncode"] == 0


def test_return_codes_and_signals() -> None:
    suicide = "import os, signal; print('unflushed'); os.kill(os.getpid(), signal.SIGKILL)"
    commands = [code("pass"), code("raise SystemExit(3)"), code(suicide)]
    with Runner(commands) as runner:
        entries = list(runner)
    assert [end(entries, index)["returncode"] for index in range(3)] == [0, 3, -9]
    assert runner.returncodes == [0, 3, -9]
    # PYTHONUNBUFFERED=1 is set for the children: the line got out before the kill.
    assert lines(entries, "stdout", 2) == ["unflushed"]


def test_several_commands_interleave_with_one_start_and_one_end_each() -> None:
    entries = list(run_commands([program("talk", "20") for _ in range(4)]))
    for index in range(4):
        mine = [e for e in entries if e["index"] == index]
        assert [e["event"] for e in mine].count("start") == 1
        assert mine[0]["event"] == "start"
        assert [e["event"] for e in mine].count("end") == 1
        assert mine[-1]["event"] == "end"
        assert lines(entries, "stdout", index) == [f"out {n}" for n in range(20)]
        assert lines(entries, "stderr", index) == [f"err {n}" for n in range(20)]


@pytest.fixture
def descriptors_above_1024() -> Iterator[None]:
    """Open dummy descriptors so that the runner's pipes get numbers above 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1200
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is below {wanted}")
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    dummies = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        yield
    finally:
        for fd in dummies:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("descriptors_above_1024")
def test_descriptors_numbered_above_1024() -> None:
    entries = list(run_commands([program("records", "fd") for _ in range(3)]))
    for index in range(3):
        [fd] = [e["data"]["fd"] for e in of(entries, "data", index) if "fd" in e["data"]]
        assert fd > 1024
        assert of(entries, "schema", index)
        assert end(entries, index)["returncode"] == 0


def test_closing_the_iterator_early_stops_and_reaps_the_child() -> None:
    entries = run_commands(program("sleeper"))
    pid = next(entries)["data"]["pid"]
    assert next(entries)["data"] == "ready"
    entries.close()
    assert gone(pid)


def fail_at_the_first_line(runner: Runner) -> None:
    with runner:
        for entry in runner:
            if entry["event"] == "line":
                raise RuntimeError("consumer failed")


def test_an_exception_in_the_consumer_stops_the_children() -> None:
    runner = Runner(program("sleeper"))
    with pytest.raises(RuntimeError, match="consumer failed"):
        fail_at_the_first_line(runner)
    assert runner.returncodes == [-signal.SIGTERM]
    [pid] = runner.pids
    assert pid is not None
    assert gone(pid)


def test_terminate_escalates_to_kill_after_the_grace_period() -> None:
    with Runner(program("sleeper", "ignore-term"), grace=0.2) as runner:
        entries = []
        for entry in runner:
            entries.append(entry)
            if entry["event"] == "line":
                runner.terminate()
    assert end(entries)["returncode"] == -signal.SIGKILL


def test_terminate_from_another_thread_wakes_the_loop() -> None:
    ready = threading.Event()
    with Runner(program("sleeper", "ignore-term"), grace=0.2) as runner:

        def stop() -> None:
            if ready.wait(30):
                runner.terminate()

        stopper = threading.Thread(target=stop)
        stopper.start()
        entries = []
        for entry in runner:
            entries.append(entry)
            if entry["event"] == "line":
                ready.set()
        stopper.join()
    # The loop was waiting with no deadline: it had to wake up to send SIGKILL in time.
    assert end(entries)["returncode"] == -signal.SIGKILL


def test_timeout_terminates_every_child() -> None:
    entries = list(run_commands([program("sleeper"), program("sleeper")], timeout=0.5))
    for index in (0, 1):
        assert end(entries, index) == {
            "returncode": -signal.SIGTERM,
            "duration": end(entries, index)["duration"],
            "timed_out": True,
        }


def test_a_missing_executable_ends_with_an_error_and_the_others_run() -> None:
    missing = "/nonexistent/overseer-test-tool"
    entries = list(run_commands([[missing, "--flag"], code("print('still here')")]))
    assert of(entries, "start", 0) == []
    error = end(entries, 0)
    assert error["returncode"] == 127
    assert missing in str(error["error"])
    assert "full path" in str(error["error"])
    assert lines(entries, "stdout", 1) == ["still here"]
    assert end(entries, 1)["returncode"] == 0


def test_a_missing_working_directory_is_named() -> None:
    entries = list(run_commands(code("pass"), cwd="/nonexistent/folder"))
    assert "'/nonexistent/folder': no such folder" in str(end(entries)["error"])


@pytest.mark.parametrize("drain", [0.0, 0.2])
def test_a_grandchild_holding_stdout_does_not_hold_the_runner(drain: float) -> None:
    # The timeout only guards against a hang: the end entry must come from the drain.
    # With no drain time at all, what the child wrote before exiting still arrives.
    entries = list(run_commands(program("grandchild"), drain=drain, timeout=30))
    [grandchild] = [int(line) for line in lines(entries, "stdout")]
    try:
        assert end(entries)["returncode"] == 0
        assert "timed_out" not in end(entries)
        assert not gone(grandchild)  # the runner did not wait for it, nor signal it
    finally:
        os.kill(grandchild, signal.SIGKILL)


def test_long_lines_are_cut_on_character_boundaries() -> None:
    text = "a" + "é" * LINE_LIMIT  # about 2 MiB once encoded, the first cut mid-character
    source = "import sys; sys.stdout.write('a' + '\\u00e9' * int(sys.argv[1]))"
    entries = list(run_commands([*code(source), str(LINE_LIMIT)]))
    pieces = lines(entries, "stdout")
    assert len(pieces) == 3
    assert "".join(pieces) == text
    assert all(len(piece.encode()) <= LINE_LIMIT for piece in pieces)


def test_the_environment_is_inherited_unbuffered_and_data_fd_is_ours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATA_FD", "99")
    monkeypatch.setenv("OVERSEER_TEST_MARK", "inherited")
    show = "import os; print(os.environ.get('OVERSEER_TEST_MARK'), os.environ.get('DATA_FD'))"
    with_data = list(run_commands(code(show)))
    [shown] = lines(with_data, "stdout")
    mark, fd = shown.split()
    assert mark == "inherited"
    assert fd != "99"
    without_data = list(run_commands(code(show), data=False))
    assert lines(without_data, "stdout") == ["inherited None"]


def test_commands_given_as_a_string_are_refused() -> None:
    with pytest.raises(UsageError, match=r"is a string: pass an argv list such as \['python'"):
        Runner("python train.py")


def test_entries_read_back_from_a_file_skip_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    entries = list(run_commands(program("talk", "2")))
    with path.open("w") as file:
        file.writelines(json.dumps(entry) + "\n" for entry in entries)
        file.write('{"event": "li')
    assert list(read_events(path)) == entries
