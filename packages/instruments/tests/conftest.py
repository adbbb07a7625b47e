"""Fixtures for overseer-instruments' tests: the test programs, copied for each test.

``run_overseer`` (the root conftest.py) runs them under a real overseer process, with this
package's instruments installed as entry points.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "programs"
SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder holding copies of the test programs."""
    shutil.copytree(PROGRAMS, tmp_path, dirs_exist_ok=True)
    return tmp_path


@pytest.fixture
def snapshot() -> Callable[[str, str], None]:
    """Compare a text with ``tests/snapshots/NAME``.

    After a deliberate change of an output, rewrite the snapshots with::

        OVERSEER_UPDATE_SNAPSHOTS=1 python -m pytest packages/instruments/tests
    """

    def compare(text: str, name: str) -> None:
        path = SNAPSHOTS / name
        if os.environ.get("OVERSEER_UPDATE_SNAPSHOTS"):
            SNAPSHOTS.mkdir(exist_ok=True)
            path.write_text(text)
        assert text == path.read_text()

    return compare
