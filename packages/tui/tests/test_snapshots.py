"""What the monitor draws, as SVG snapshots (pytest-textual-snapshot), on fake runs.

Update after a deliberate change of the drawing with ``pytest --snapshot-update`` and look
at the new snapshots in ``__snapshots__/`` (SVG text) before committing them.
"""

from __future__ import annotations

from typing import Any

import pytest

from overseer_tui.app import MonitorApp
from overseer_tui.clock import FakeClock
from overseer_tui.fake_source import FakeSource

SIZES = [(80, 24), (160, 50)]


def monitor(**fake: Any) -> MonitorApp:
    clock = FakeClock()
    return MonitorApp(FakeSource(clock=clock, **fake), clock=clock, interval=3600, local_gpus=False)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x50"])
def test_runs_plot_and_log(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(monitor(), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x50"])
def test_gpus_of_live_runs(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(monitor(gpus=2), terminal_size=size)


def test_two_runs_compared_smoothed_on_log_y(snap_compare: Any) -> None:
    keys = ["space", "down", "space", "e", "l"]
    assert snap_compare(monitor(), terminal_size=(160, 50), press=keys)


def test_grouped_by_an_argument_and_filtered(snap_compare: Any) -> None:
    keys = ["g", "slash", *"status!=failed", "enter"]
    assert snap_compare(monitor(n_runs=12), terminal_size=(160, 50), press=keys)


def test_the_log_in_turn_with_the_plot_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(monitor(), terminal_size=(80, 24), press=["o"])


def test_the_help_window(snap_compare: Any) -> None:
    assert snap_compare(monitor(), terminal_size=(80, 24), press=["question_mark"])
