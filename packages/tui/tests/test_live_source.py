"""A script run under the real overseer and watched live; stopped by close()."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from overseer_tui.errors import ScriptError, TuiError
from overseer_tui.live_source import LiveSource, script_name
from overseer_tui.model import RunStatus


def poll_until(source: LiveSource, done: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        source.poll()
        if done():
            return
        time.sleep(0.02)
    raise AssertionError(f"gave up after {timeout} s: {source.run!r}")


def test_a_script_gives_metrics_and_prints_lines_until_it_completes(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "import sys\n"
        "from overseer import give\n"
        "for step in range(4):\n"
        "    give(step=step, loss=1.0 / (step + 1))\n"
        "    print(f'step {step}')\n"
        "print('WARNING: almost done', file=sys.stderr)\n",
        encoding="utf-8",
    )
    source = LiveSource([str(script)])
    try:
        assert source.title == f"live: {script}"
        run = source.run
        assert (run.sig, run.name) == ("live", "train.py")
        assert list(source.runs.runs) == ["live"]
        poll_until(source, lambda: run.status is RunStatus.COMPLETED)
        assert run.metrics["loss"].y_values().tolist() == [1.0, 0.5, 1.0 / 3, 0.25]
        assert run.step == 3.0
        assert [line.text for line in run.log if line.pipe == "stdout"] == [
            f"step {step}" for step in range(4)
        ]
        warning = [line for line in run.log if line.pipe == "stderr"]
        assert [line.level for line in warning] == ["warning"]
        assert source.runs.take_changes() == {"live"}
    finally:
        source.close()


def test_close_stops_a_script_that_runs_on(tmp_path: Path) -> None:
    script = tmp_path / "forever.py"
    script.write_text(
        "import time\nprint('started', flush=True)\nwhile True:\n    time.sleep(0.05)\n",
        encoding="utf-8",
    )
    source = LiveSource([str(script)], grace=2.0)
    run = source.run
    try:
        poll_until(source, lambda: any(line.text == "started" for line in run.log))
        running = run.status
        (pid,) = run.pids
    finally:
        source.close()
    assert running is RunStatus.RUNNING
    assert not source.running
    assert run.status is RunStatus.CANCELLED
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    source.close()  # again: nothing left to do


def test_a_missing_script_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    missing = tmp_path / "nope.py"
    with pytest.raises(ScriptError) as caught:
        LiveSource([str(missing), "--lr=0.1"])
    message = str(caught.value)
    assert isinstance(caught.value, TuiError)
    assert repr(str(missing)) in message
    assert "\n" not in message


def test_the_script_is_found_after_overseer_flags_or_as_a_module(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("", encoding="utf-8")
    assert script_name(["--gpu-monitor", str(script), "--lr=0.1"]) == "train.py"
    assert script_name(["-m", "mypackage.train", "--lr=0.1"]) == "mypackage.train"
    for argv in (["--gpu-monitor"], ["-m"], []):
        with pytest.raises(ScriptError):
            script_name(argv)
