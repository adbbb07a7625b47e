"""The overseer as a user meets it: ``python -m overseer [OPTIONS] script ARGS``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Run = Callable[..., Any]


def test_script_runs_as_under_python(run_overseer: Run) -> None:
    done = run_overseer("train.py", "3", "7")
    assert done.returncode == 7
    assert "argv: ['train.py', '3', '7'] name: __main__" in done.stdout


def test_voir_guide_time_flag_and_minimum_loss(run_overseer: Run) -> None:
    done = run_overseer("--time", "train.py", "4")
    assert done.returncode == 0, done.stderr
    assert "Load time: " in done.stdout
    assert "Run time: " in done.stdout
    assert "Minimum loss: 0.25" in done.stdout


def test_voir_guide_probe_gives_the_loss_of_an_unchanged_script(
    run_overseer: Run, workdir: Path
) -> None:
    done = run_overseer("--time", "--log-given", "main.py", "5", cwd=workdir / "guide")
    assert done.returncode == 0, done.stderr
    losses = [10.0 / (epoch + 1) + epoch for epoch in range(5)]
    assert done.data("loss") == losses
    assert f"Minimum loss: {min(losses)}" in done.stdout
    assert "Load time: " in done.stdout


def test_options_before_the_script_are_the_overseer_s(run_overseer: Run) -> None:
    done = run_overseer("train.py", "2", "0", "--time")
    assert done.returncode == 0, done.stderr
    assert "argv: ['train.py', '2', '0', '--time']" in done.stdout
    assert "Load time" not in done.stdout


def test_voirfile_beside_the_script_wins_over_the_current_directory(
    run_overseer: Run, workdir: Path
) -> None:
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "voirfile.py").write_text(
        "def instrument_here(ov):\n    yield ov.phases.run_script\n    print('cwd voirfile')\n"
    )
    done = run_overseer(str(workdir / "train.py"), "1", cwd=elsewhere)
    assert "Minimum loss: 1.0" in done.stdout
    assert "cwd voirfile" not in done.stdout


def test_voirfile_of_the_current_directory_when_the_script_has_none(
    run_overseer: Run, workdir: Path
) -> None:
    scripts, here = workdir / "scripts", workdir / "here"
    scripts.mkdir()
    here.mkdir()
    (scripts / "plain.py").write_text("print('plain')\n")
    (here / "voirfile.py").write_text(
        "def instrument_here(ov):\n    yield ov.phases.run_script\n    print('cwd voirfile')\n"
    )
    done = run_overseer(str(scripts / "plain.py"), cwd=here)
    assert done.stdout.splitlines() == ["plain", "cwd voirfile"]


def test_instruments_dict_and_voirfile_env(run_overseer: Run, workdir: Path) -> None:
    custom = workdir / "custom_voirfile.py"
    custom.write_text(
        "def talk(ov):\n    yield ov.phases.load_script\n    print('loaded by dict')\n"
        "__instruments__ = {'talk': talk}\n"
    )
    done = run_overseer("train.py", "1", env={"VOIRFILE": str(custom)})
    assert "loaded by dict" in done.stdout
    assert "Minimum loss" not in done.stdout


def test_module_and_module_function(run_overseer: Run) -> None:
    done = run_overseer("-m", "pkgdemo", "x", "y")
    assert done.returncode == 0, done.stderr
    assert "pkgdemo main ['x', 'y'] __main__" in done.stdout
    done = run_overseer("-m", "pkgdemo.funcs:hello", "z")
    assert done.returncode == 0, done.stderr
    assert "hello from function ['z']" in done.stdout


def test_phases_are_recorded_in_order(run_overseer: Run) -> None:
    done = run_overseer("train.py", "2")
    names = [event["name"] for event in done.events("phase")]
    assert names == ["init", "parse_args", "load_script", "run_script", "finalize"]
    assert done.records[0]["$event"] == "schema"
    assert done.events("exit") == [{"status": 0}]


def test_log_given_streams_every_give(run_overseer: Run) -> None:
    done = run_overseer("--log-given", "train.py", "3")
    assert done.data("loss") == [1.0, 0.5, 1 / 3]
    record = next(r for r in done.records if "loss" in r)
    assert record["$pid"] > 0
    assert record["$rank"] == 0


def test_gives_from_threads_are_delivered(run_overseer: Run) -> None:
    done = run_overseer("--log-given", "threads.py")
    assert done.data("sampled") == [0, 1, 2, 3, 4]
    assert done.data("main") == [1]


def test_giving_library_give_reaches_the_overseer(run_overseer: Run) -> None:
    done = run_overseer("--log-given", "giving_user.py")
    assert done.returncode == 0, done.stderr
    assert done.data("value") == [0, 1, 2]


def test_a_raising_subscriber_is_detached_and_the_run_goes_on(
    run_overseer: Run, workdir: Path
) -> None:
    voirfile = workdir / "failing_voirfile.py"
    voirfile.write_text(
        "def instrument_bad(ov):\n"
        "    yield ov.phases.init\n"
        "    def explode(values):\n"
        "        raise RuntimeError('subscriber exploded')\n"
        "    ov.given.subscribe(explode)\n"
    )
    done = run_overseer("--log-given", "train.py", "3", env={"VOIRFILE": str(voirfile)})
    assert done.returncode == 0, done.stderr
    assert done.data("loss") == [1.0, 0.5, 1 / 3]
    errors = done.events("instrument_error")
    assert len(errors) == 1
    assert errors[0]["instrument"] == "instrument_bad"
    assert "subscriber exploded" in errors[0]["message"]
    assert "instrument 'instrument_bad' failed and was detached" in done.stderr


def test_an_uncaught_exception_prints_the_script_traceback(run_overseer: Run) -> None:
    done = run_overseer("raises.py")
    assert done.returncode == 1
    assert "ValueError: the script's own failure" in done.stderr
    assert 'raises.py", line 2, in inner' in done.stderr
    assert "overseer/" not in done.stderr
    assert done.events("error") == [{"type": "ValueError", "message": "the script's own failure"}]


def test_early_stop_runs_finally_blocks_and_exits_zero(run_overseer: Run, workdir: Path) -> None:
    voirfile = workdir / "stop_voirfile.py"
    voirfile.write_text(
        "def instrument_stop(ov):\n"
        "    yield ov.phases.init\n"
        "    def check(step):\n"
        "        if step == 4:\n"
        "            ov.stop('enough')\n"
        "    ov.given['?step'].subscribe(check)\n"
        "    yield ov.phases.run_script\n"
        "    print('after run_script')\n"
        "    yield ov.phases.finalize\n"
        "    print('at finalize', ov.stopped)\n"
    )
    done = run_overseer("--log-given", "steps.py", env={"VOIRFILE": str(voirfile)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-3:] == ["finally ran", "after run_script", "at finalize True"]
    assert done.data("step") == [0, 1, 2, 3, 4]
    assert done.events("stop") == [{"value": "enough"}]
    assert [e["name"] for e in done.events("phase")][-2:] == ["run_script", "finalize"]


def _start(workdir: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    data_path = workdir / "data.jsonl"
    data_file = open(data_path, "wb")  # noqa: SIM115 - closed once the child has it
    env = {**os.environ, "DATA_FD": str(data_file.fileno()), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "overseer", *args],
        cwd=workdir,
        env=env,
        pass_fds=(data_file.fileno(),),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    data_file.close()
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process, data_path


def test_sigterm_runs_finalize_and_flushes_the_stream(workdir: Path) -> None:
    process, data_path = _start(workdir, "--log-given", "sleeper.py")
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM
    assert "cleanup ran" in stdout
    text = data_path.read_text()
    assert '"before":1' in text.replace(" ", "")
    assert '"signal":"SIGTERM"' in text.replace(" ", "")
    assert '"name":"finalize"' in text.replace(" ", "")


def test_sigint_runs_finalize_and_exits_130(workdir: Path) -> None:
    process, data_path = _start(workdir, "sleeper.py")
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "cleanup ran" in stdout
    assert '"name":"finalize"' in data_path.read_text().replace(" ", "")


def test_forked_workers_reach_the_stream_without_hanging(run_overseer: Run) -> None:
    started = time.monotonic()
    done = run_overseer("--log-given", "forking.py", timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.data("parent") == [1, 2]
    children = [r for r in done.records if "child" in r]
    assert len(children) == 1
    assert children[0]["$pid"] == children[0]["child"]
    assert time.monotonic() - started < 30


def test_forked_worker_gives_without_log_given_warn_once(run_overseer: Run, workdir: Path) -> None:
    voirfile = workdir / "listen_voirfile.py"
    voirfile.write_text("def instrument_listen(ov):\n    ov.given.subscribe(print)\n")
    done = run_overseer("forking.py", env={"VOIRFILE": str(voirfile)})
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("is not seen by instruments") == 1
    assert "'child'" not in done.stdout


def test_help_lists_instruments_and_their_flags(run_overseer: Run) -> None:
    done = run_overseer("--help")
    assert done.returncode == 0
    assert "instrument instrument_time" in done.stdout
    assert "--time" in done.stdout
    listed = done.stdout.split("instruments found (voirfiles, then installed packages):\n")[1]
    assert re.search(r"^  instrument_minloss +Print the smallest loss given\.", listed, re.M)
    assert "voirfile.py)" in listed
