"""The ``suite`` command, run as a real process against real installed entry points.

Beside the suite's own commands, each test installs a throwaway distribution ``fakecmds``
by putting its folder (a ``.dist-info`` and its modules) on ``PYTHONPATH``: a command that
works, one whose module does not exist, one whose module needs a missing optional
dependency, one that imports it only when run, and one interrupted by Ctrl-C.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

METADATA = """\
Metadata-Version: 2.1
Name: fakecmds
Version: 0.1
Requires-Dist: missing-dep-xyz>=1; extra == "fancy"
"""

ENTRY_POINTS = """\
[overseer.commands]
hello = fakecmds_mod:main
broken = missing_module_xyz:main
fancy = fakecmds_fancy:main
lazy = fakecmds_mod:lazy
interrupted = fakecmds_mod:interrupted
"""

FAKECMDS_MOD = '''\
"""Commands of the throwaway distribution."""

import json


def main(argv):
    """Print the arguments as JSON and exit with their count.

    The rest of this docstring is not part of the description.
    """
    print(json.dumps(argv))
    return len(argv)


def lazy(argv):
    import missing_dep_xyz  # noqa: F401

    return 0


def interrupted(argv):
    raise KeyboardInterrupt
'''

FAKECMDS_FANCY = '''\
"""A command needing the optional dependency of the extra "fancy"."""

import missing_dep_xyz  # noqa: F401


def main(argv):
    return 0
'''


@pytest.fixture
def fake_site(tmp_path: Path) -> Path:
    """A folder holding the installed distribution ``fakecmds``."""
    site = tmp_path / "site"
    info = site / "fakecmds-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(METADATA)
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    (site / "fakecmds_mod.py").write_text(FAKECMDS_MOD)
    (site / "fakecmds_fancy.py").write_text(FAKECMDS_FANCY)
    return site


def suite(
    *args: str, site: Path | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m overseer_suite ARGS``, with ``site`` on the path when given."""
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "overseer_suite", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def listed_commands(help_text: str) -> dict[str, str]:
    """The commands of a help text and their descriptions."""
    rows = [line.split(None, 1) for line in help_text.splitlines() if line.startswith("  ")]
    return {row[0]: row[1] for row in rows}


def test_a_command_gets_the_arguments_and_gives_the_exit_status(fake_site: Path) -> None:
    done = suite("hello", "a", "b", "--flag", site=fake_site)

    assert done.stdout == '["a", "b", "--flag"]\n'
    assert done.returncode == 3
    assert done.stderr == ""


def test_help_lists_each_command_with_its_description_or_its_fix(fake_site: Path) -> None:
    done = suite("--help", site=fake_site)

    assert done.returncode == 0
    assert done.stdout.startswith("usage: suite COMMAND")
    listed = listed_commands(done.stdout)
    assert listed["hello"] == "Print the arguments as JSON and exit with their count."
    assert listed["broken"] == (
        "cannot load: No module named 'missing_module_xyz'; fix it with: pip install 'fakecmds'"
    )
    assert listed["fancy"].endswith("fix it with: pip install 'fakecmds[fancy]'")
    # A command that loads but has no docstring of its own is described by its module's.
    assert listed["lazy"] == "Commands of the throwaway distribution."
    assert done.stderr == ""


def test_help_lists_the_installed_suite_commands() -> None:
    done = suite("-h")

    assert done.returncode == 0
    listed = listed_commands(done.stdout)
    assert listed["run"] == "Run a Python script or module under the overseer's instruments."


def test_no_command_prints_the_help_on_stderr_and_exits_2(fake_site: Path) -> None:
    done = suite(site=fake_site)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("usage: suite COMMAND")
    assert listed_commands(done.stderr)["hello"].startswith("Print the arguments")


def test_a_command_that_cannot_load_gets_one_line_with_the_fix(fake_site: Path) -> None:
    done = suite("broken", "x", site=fake_site)

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "suite: command 'broken' cannot load: No module named 'missing_module_xyz';"
        " fix it with: pip install 'fakecmds'\n"
    )


def test_a_missing_optional_dependency_names_the_extra(fake_site: Path) -> None:
    loading = suite("fancy", site=fake_site)
    running = suite("lazy", site=fake_site)

    assert loading.returncode == 1
    assert loading.stderr == (
        "suite: command 'fancy' cannot load: No module named 'missing_dep_xyz';"
        " fix it with: pip install 'fakecmds[fancy]'\n"
    )
    # Imported only once the command runs, a declared dependency gets the same one line.
    assert running.returncode == 1
    assert running.stderr == (
        "suite: command 'lazy' cannot run: No module named 'missing_dep_xyz';"
        " fix it with: pip install 'fakecmds[fancy]'\n"
    )


def test_an_unknown_command_names_the_known_ones_and_exits_2(fake_site: Path) -> None:
    done = suite("foo", site=fake_site)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    prefix = "suite: unknown command 'foo'; known commands: "
    assert done.stderr.startswith(prefix)
    known = done.stderr[len(prefix) :].strip().split(", ")
    assert known == sorted(known)
    assert {"broken", "fancy", "hello", "interrupted", "lazy", "run"} <= set(known)


def test_an_unknown_option_exits_2_with_the_usage() -> None:
    done = suite("--frobnicate")

    assert done.returncode == 2
    assert done.stderr.startswith("suite: unknown option '--frobnicate'; usage: suite COMMAND")


def test_ctrl_c_in_a_command_exits_130_quietly(fake_site: Path) -> None:
    done = suite("interrupted", site=fake_site)

    assert done.returncode == 130
    assert done.stdout == ""
    assert done.stderr == ""


def test_version_lists_the_installed_suite_distributions(fake_site: Path) -> None:
    done = suite("--version", site=fake_site)

    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines == sorted(lines)
    assert f"overseer-core {version('overseer-core')}" in lines
    assert f"overseer-suite {version('overseer-suite')}" in lines
    assert all(line.startswith("overseer-") for line in lines)


def test_run_dispatches_to_the_overseer(tmp_path: Path) -> None:
    script = tmp_path / "prog.py"
    script.write_text(
        textwrap.dedent(
            """\
            import sys

            print("arguments:", sys.argv[1:])
            sys.exit(4)
            """
        )
    )

    done = suite("run", "prog.py", "a", "b", cwd=tmp_path)

    assert "arguments: ['a', 'b']" in done.stdout
    assert done.returncode == 4
