"""Bad input on the command line: one clear line, a non-zero exit, nothing run."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Run = Callable[..., Any]


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("overseer: error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_missing_script(run_overseer: Run) -> None:
    done = run_overseer("nope.py", stream=False)
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert "'nope.py'" in line
    assert "no such file" in line
    assert "Traceback" not in done.stderr


def test_missing_module(run_overseer: Run) -> None:
    done = run_overseer("-m", "no_such_module_here", stream=False)
    assert done.returncode == 2
    assert "'no_such_module_here'" in _one_error_line(done.stderr)


def test_missing_function_of_a_module(run_overseer: Run) -> None:
    done = run_overseer("-m", "pkgdemo.funcs:nothing", stream=False)
    assert done.returncode == 2
    assert "no function 'nothing'" in _one_error_line(done.stderr)


def test_nothing_to_run(run_overseer: Run) -> None:
    done = run_overseer("--time", stream=False)
    assert done.returncode == 2
    assert "nothing to run" in done.stderr


def test_voirfile_that_fails_to_import_shows_its_own_traceback(
    run_overseer: Run, workdir: Path
) -> None:
    (workdir / "voirfile.py").write_text("import math\n\nmath.no_such_function()\n")
    done = run_overseer("train.py", stream=False)
    assert done.returncode == 2
    assert "voirfile" in done.stderr
    assert "failed to import" in done.stderr
    assert 'voirfile.py", line 3' in done.stderr
    assert "argv:" not in done.stdout


def test_instrument_that_is_not_callable(run_overseer: Run, workdir: Path) -> None:
    (workdir / "voirfile.py").write_text("instrument_broken = 42\n")
    done = run_overseer("train.py", stream=False)
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert "'instrument_broken'" in line
    assert "not a callable" in line


def test_data_fd_that_is_not_a_number(run_overseer: Run) -> None:
    done = run_overseer("train.py", stream=False, env={"DATA_FD": "abc"})
    assert done.returncode == 2
    line = _one_error_line(done.stderr)
    assert "'abc'" in line
    assert "argv:" not in done.stdout


def test_a_broken_installed_instrument_is_named_with_its_fix(
    run_overseer: Run, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    info = site / "brokenplugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[overseer.instruments]\nbroken = no_such_plugin_module:instrument\n"
    )
    done = run_overseer("train.py", "1", stream=False, env={"PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stderr
    warning = [line for line in done.stderr.splitlines() if "broken" in line]
    assert len(warning) == 1
    assert "pip install 'brokenplugin'" in warning[0]
    assert "Traceback" not in done.stderr


def test_dash_without_the_monitor_says_what_to_install(tmp_path: Path) -> None:
    from importlib.metadata import entry_points

    if any(point.name == "tui" for point in entry_points(group="overseer.commands")):
        pytest.skip("overseer-tui is installed: its tests drive `overseer --dash` in tmux")
    if any(point.name == "dash_panel" for point in entry_points(group="overseer.instruments")):
        pytest.skip("overseer-instruments is installed: its tests show its panel for --dash")
    script = tmp_path / "train.py"
    script.write_text("print('ran')\n")
    command = [sys.executable, "-m", "overseer", "--dash", str(script)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "overseer: error: --dash shows the run in overseer-tui (pip install overseer-tui),"
        " or in a plain panel with overseer-instruments (pip install overseer-instruments)"
    )
    assert "ran" not in done.stdout  # the script did not run without its view
