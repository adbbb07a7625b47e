"""``overseer --help`` with the package installed: every instrument's flags, as a snapshot.

The expected text is ``tests/snapshots/help.txt`` (``snapshot`` in conftest.py says how to
rewrite it after a deliberate change).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Run = Callable[..., Any]

GROUPS = (
    "argparse",
    "cpu_monitor",
    "dash_panel",
    "early_stop",
    "gpu_monitor",
    "io_monitor",
    "log",
    "monitor_all",
    "net_monitor",
    "process_monitor",
    "progress",
    "rate",
    "verify",
)


def instrument_groups(help_text: str) -> str:
    """The help groups of this package's instruments, in order; other packages' left out."""
    flags = help_text[
        help_text.index("instrument argparse:") : help_text.index("instruments found")
    ]
    groups = re.split(r"(?m)^(?=instrument \w+:$)", flags)
    return "".join(group for group in groups if group[11:].split(":", 1)[0] in GROUPS)


def test_every_instrument_lists_its_flags_in_its_own_group(run_overseer: Run) -> None:
    done = run_overseer("--help", env={"COLUMNS": "100"})
    assert done.returncode == 0, done.stderr
    headings = [
        line[len("instrument ") : -1]
        for line in done.stdout.splitlines()
        if line.startswith("instrument ")
    ]
    # Other installed packages (overseer-tracing's trace) may add groups of their own.
    assert [name for name in headings if name in GROUPS] == list(GROUPS)
    for name in GROUPS:
        assert f"\n  {name} " in done.stdout.split("instruments found")[1]


def test_help_snapshot(run_overseer: Run, snapshot: Callable[[str, str], None]) -> None:
    done = run_overseer("--help", env={"COLUMNS": "100"})
    snapshot(instrument_groups(done.stdout), "help.txt")
