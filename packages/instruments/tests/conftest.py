"""Fixtures for overseer-instruments' tests: the test programs, copied for each test.

``run_overseer`` (the root conftest.py) runs them under a real overseer process, with this
package's instruments installed as entry points.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "programs"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder holding copies of the test programs."""
    shutil.copytree(PROGRAMS, tmp_path, dirs_exist_ok=True)
    return tmp_path
