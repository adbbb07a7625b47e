"""Fixtures shared by overseer-xpmanager's tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from overseer_xpmanager.store import Store

# --- Test projects (tests/projects/): argproj (argparse) and hydraproj (hydra) -------------

PROJECTS = Path(__file__).parent / "projects"


@pytest.fixture
def projects() -> Path:
    """The folder holding the test project packages (``argproj``, ``hydraproj``)."""
    return PROJECTS


@pytest.fixture
def xp_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh store in ``tmp_path/store`` for this process and its subprocesses.

    Sets ``OVERSEER_XP_DIR`` to it, puts the projects folder first on ``PYTHONPATH`` (for
    ``python -m argproj.train``) and on ``sys.path``; returns the store's root.
    """
    root = tmp_path / "store"
    monkeypatch.setenv("OVERSEER_XP_DIR", str(root))
    monkeypatch.delenv("OVERSEER_XP_SIG", raising=False)
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(PROJECTS), path])))
    monkeypatch.syspath_prepend(str(PROJECTS))
    return root


@pytest.fixture
def store(xp_env: Path) -> Iterator[Store]:
    """The store of ``xp_env``; at the end, every live job of its XPs is cancelled by the
    executor that runs it (local processes killed, Slurm jobs scancelled)."""
    from overseer_xpmanager.schedule import current_job, executor_for

    store = Store(xp_env)
    yield store
    for xp in store.xps():
        job = current_job(xp)
        if job is not None and job.state.live:
            executor_for(job, None, store).cancel(xp)


# --- The real Slurm cluster (scripts/slurm-cluster up) -------------------------------------


@pytest.fixture(scope="module")
def cluster() -> None:
    """A Slurm controller answers; else skip (or fail under OVERSEER_REQUIRE_SLURM=1)."""
    problem = None
    if shutil.which("sinfo") is None:
        problem = "sinfo not found"
    else:
        done = subprocess.run(["sinfo", "-h"], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            problem = f"sinfo fails: {done.stderr.strip()}"
    if problem is None:
        return
    reason = f"no Slurm cluster answers ({problem}): start one with scripts/slurm-cluster up"
    if os.environ.get("OVERSEER_REQUIRE_SLURM") == "1":
        pytest.fail(f"{reason}; OVERSEER_REQUIRE_SLURM=1 asks for one")
    pytest.skip(reason)
