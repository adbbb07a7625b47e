"""Fixtures for overseer-core's tests: run real programs under a real overseer process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PROGRAMS = Path(__file__).parent / "programs"


@dataclass
class Finished:
    """What a run left: its exit status, output, and the records of its data stream."""

    returncode: int
    stdout: str
    stderr: str
    records: list[dict[str, Any]] = field(default_factory=list)

    def events(self, name: str) -> list[dict[str, Any]]:
        """The ``$data`` of every control record named ``name``."""
        return [r["$data"] for r in self.records if r.get("$event") == name]

    def data(self, key: str) -> list[Any]:
        """The values of ``key`` in the data records, in order."""
        return [r[key] for r in self.records if "$event" not in r and key in r]


def _strict(constant: str) -> Any:
    message = f"the stream holds a bare {constant}: it is not strict JSON"
    raise ValueError(message)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder holding copies of the test programs."""
    shutil.copytree(PROGRAMS, tmp_path, dirs_exist_ok=True)
    return tmp_path


@pytest.fixture
def run_overseer(workdir: Path) -> Callable[..., Finished]:
    """Run ``python -m overseer ARGS`` in ``workdir`` with the stream on a file descriptor."""

    def run(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
        stream: bool = True,
    ) -> Finished:
        data_path = workdir / "data.jsonl"
        inherited = {k: v for k, v in os.environ.items() if k not in ("VOIRFILE", "DATA_FD")}
        full_env = {**inherited, "PYTHONUNBUFFERED": "1", **(env or {})}
        with open(data_path, "wb") as data_file:
            fds: tuple[int, ...] = ()
            if stream:
                full_env["DATA_FD"] = str(data_file.fileno())
                fds = (data_file.fileno(),)
            done = subprocess.run(
                [sys.executable, "-m", "overseer", *args],
                cwd=cwd or workdir,
                env=full_env,
                pass_fds=fds,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        text = data_path.read_text()
        records = [json.loads(line, parse_constant=_strict) for line in text.splitlines() if line]
        return Finished(done.returncode, done.stdout, done.stderr, records)

    return run
