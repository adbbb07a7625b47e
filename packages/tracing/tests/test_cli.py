"""``suite trace``: a real script run with tracing on, its trace printed and saved.

Each test runs ``python -m overseer_tracing.cli`` in a subprocess on a copy of a program of
``tests/programs/`` (one runs ``main()`` in this process, to see what it restores).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from overseer_tracing.cli import main

PROGRAMS = Path(__file__).parent / "programs"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder holding copies of the test programs, where the command runs."""
    shutil.copytree(PROGRAMS, tmp_path, dirs_exist_ok=True)
    return tmp_path


def trace(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "overseer_tracing.cli", *args]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=120)


def stage_lines(stdout: str) -> list[str]:
    """The stages of a printed trace, from their headings: ``  collate: 2 calls, ...``."""
    return re.findall(r"^  (\w+): \d+ calls?, ", stdout, re.MULTILINE)


def test_the_script_runs_as_python_runs_it_then_its_trace_prints(workdir: Path) -> None:
    python = [sys.executable, "trace_pipeline.py", "--items", "4"]
    plain = subprocess.run(python, cwd=workdir, capture_output=True, text=True, timeout=60)
    traced = trace(workdir, "-n", "4", "trace_pipeline.py", "--items", "4")
    assert traced.returncode == 0, traced.stderr
    # Same sys.argv and sys.path[0] as under python, then the script's own output.
    assert traced.stdout.startswith(plain.stdout)
    printed = traced.stdout[len(plain.stdout) :]
    assert printed.startswith("TraceResult: 8 calls in 3 stages")
    assert stage_lines(printed) == ["dataset_getter", "collate", "evaluation"]
    assert "-> list[2] [5, 50]" in printed  # the second batch, collated


def test_a_module_runs_as_python_m_runs_it(workdir: Path) -> None:
    traced = trace(workdir, "-m", "trace_pipeline", "--items", "2")
    assert traced.returncode == 0, traced.stderr
    first = json.loads(traced.stdout.splitlines()[0])
    assert first == {
        "argv": [str(workdir / "trace_pipeline.py"), "--items", "2"],
        "path0": str(workdir),
    }
    assert "TraceResult: 4 calls in 3 stages" in traced.stdout


def test_json_and_chrome_trace_files_hold_every_call(workdir: Path) -> None:
    traced = trace(
        workdir, "-n", "4", "--json", "t.json", "--chrome", "c.json", "trace_pipeline.py"
    )
    assert traced.returncode == 0, traced.stderr
    document = json.loads((workdir / "t.json").read_text())
    calls = {stage["name"]: len(stage["calls"]) for stage in document["stages"]}
    assert calls == {"dataset_getter": 4, "collate": 2, "evaluation": 2}
    events = json.loads((workdir / "c.json").read_text())["traceEvents"]
    names = [event["name"] for event in events if event["ph"] == "X"]
    assert sorted(names) == ["collate"] * 2 + ["evaluate"] * 2 + ["load"] * 4


def test_n_keeps_the_first_n_calls_of_each_stage_and_the_script_runs_on(workdir: Path) -> None:
    traced = trace(workdir, "-n", "3", "--json", "t.json", "trace_pipeline.py", "--items", "10")
    assert traced.returncode == 0, traced.stderr
    assert "pipeline done" in traced.stdout  # all 10 items ran, the last 7 untraced
    assert "TraceResult: 20 calls in 3 stages, 11 dropped" in traced.stdout
    assert "dataset_getter: 10 calls, 3 kept (7 dropped by the cap)" in traced.stdout
    stages = {
        stage["name"]: stage for stage in json.loads((workdir / "t.json").read_text())["stages"]
    }
    assert {name: (len(stage["calls"]), stage["dropped"]) for name, stage in stages.items()} == {
        "dataset_getter": (3, 7),
        "collate": (3, 2),
        "evaluation": (3, 2),
    }
    loaded = [call["params"]["index"]["short"] for call in stages["dataset_getter"]["calls"]]
    assert loaded == ["int 0", "int 1", "int 2"]


def test_a_failing_script_shows_its_traceback_and_the_trace_so_far(workdir: Path) -> None:
    traced = trace(
        workdir, "--json", "t.json", "trace_pipeline.py", "--items", "8", "--fail-at", "1"
    )
    assert traced.returncode == 1
    assert traced.stderr.strip().splitlines()[-1] == "ValueError: batch [5, 50] is broken"
    files = [line for line in traced.stderr.splitlines() if line.strip().startswith("File ")]
    assert len(files) == 3
    assert all("trace_pipeline.py" in line for line in files)  # no frame of the tool's own
    assert "ERROR ValueError: batch [5, 50] is broken" in traced.stdout
    assert "pipeline done" not in traced.stdout
    saved = json.loads((workdir / "t.json").read_text())["stages"]
    statuses = [call["status"] for call in saved[-1]["calls"]]
    # -n 1 keeps the first call of each stage, and a later one that fails, with its arguments.
    assert statuses == ["ok", "error"]  # the batches after the failure never ran
    assert saved[-1]["calls"][1]["params"]["batch"]["short"] == "list[2] [5, 50]"


def test_the_script_s_exit_status_is_the_command_s(workdir: Path) -> None:
    traced = trace(workdir, "trace_pipeline.py", "--exit", "3")
    assert traced.returncode == 3
    assert "TraceResult: 8 calls" in traced.stdout


def test_other_threads_are_recorded_only_with_all_threads(workdir: Path) -> None:
    alone = trace(workdir, "trace_pipeline.py", "--in-thread")
    every = trace(workdir, "--all-threads", "trace_pipeline.py", "--in-thread")
    assert alone.returncode == every.returncode == 0, alone.stderr + every.stderr
    assert "pipeline done" in alone.stdout
    assert stage_lines(alone.stdout) == []
    assert stage_lines(every.stdout) == ["dataset_getter", "collate", "evaluation"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["missing.py"], "'missing.py': no such file"),
        (["-n", "0", "trace_pipeline.py"], "-n '0'"),
        (["-n", "two", "trace_pipeline.py"], "-n 'two'"),
        (["-m", "no_such_module_xyz"], "no module named 'no_such_module_xyz'"),
        (["--json", "no/such/folder/t.json", "trace_pipeline.py"], "'no/such/folder/t.json'"),
        ([], "nothing to run"),
    ],
)
def test_bad_input_is_one_line_and_status_2(workdir: Path, args: list[str], named: str) -> None:
    traced = trace(workdir, *args)
    assert traced.returncode == 2
    assert traced.stdout == ""  # the script did not run
    assert len(traced.stderr.splitlines()) == 1
    assert traced.stderr.startswith("suite trace: error: ")
    assert named in traced.stderr


def test_help_lists_the_options(workdir: Path) -> None:
    traced = trace(workdir, "--help")
    assert traced.returncode == 0
    for option in ("-n N", "--json PATH", "--chrome PATH", "--all-threads", "-m MODULE"):
        assert option in traced.stdout


def test_main_puts_back_sys_argv_and_sys_path(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, path = list(sys.argv), list(sys.path)
    status = main([str(workdir / "trace_pipeline.py"), "--items", "2", "--exit", "4"])
    assert status == 4
    assert (sys.argv, sys.path) == (argv, path)
    assert "TraceResult: 4 calls in 3 stages" in capsys.readouterr().out


@pytest.mark.torch
def test_n_limits_the_items_of_a_torch_dataloader(workdir: Path) -> None:
    pytest.importorskip("torch")
    four = trace(workdir, "-n", "4", "trace_loader.py")
    default = trace(workdir, "trace_loader.py")
    assert four.returncode == default.returncode == 0, four.stderr + default.stderr
    assert "batches: 2" in four.stdout  # 4 items in batches of 2, of the 8 batches
    assert "TraceResult: 8 calls" in four.stdout
    assert "batches: 1" in default.stdout  # -n 1: one whole batch
    # The workers are set aside (with a warning) so that the dataset's calls are recorded.
    assert "num_workers=0 while traced" in four.stderr
    assert stage_lines(four.stdout) == ["dataset_getter", "collate", "evaluation"]
