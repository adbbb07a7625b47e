"""Ranks from the environment, per-process environments for `run -d`, a real process group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from overseer_xpmanager import distrib
from overseer_xpmanager.errors import ArgumentError

RANKS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_LOCALID")
STEP = ("SLURM_STEP_NUM_TASKS", "CUDA_VISIBLE_DEVICES")


@pytest.fixture(autouse=True)
def _alone(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*RANKS, *STEP):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def no_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


@pytest.fixture
def two_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine whose ``nvidia-smi -L`` lists two GPUs (this one has none)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    tool = folder / "nvidia-smi"
    tool.write_text(
        "#!/bin/sh\necho 'GPU 0: H100 (UUID: GPU-a)'\necho 'GPU 1: H100 (UUID: GPU-b)'\n"
    )
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def test_a_lone_process_is_rank_0_of_1() -> None:
    assert (distrib.rank(), distrib.world_size(), distrib.is_master()) == (0, 1, True)
    distrib.init()  # nothing to join


def test_ranks_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert (distrib.rank(), distrib.world_size(), distrib.is_master()) == (1, 2, False)


def test_ranks_come_from_a_slurm_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_STEP_NUM_TASKS", "4")
    monkeypatch.setenv("SLURM_PROCID", "2")
    assert (distrib.rank(), distrib.world_size()) == (2, 4)


def test_environments_without_gpus_share_a_rendezvous(no_gpu: None) -> None:
    envs = distrib.distributed_environments(2, 29512)
    assert envs == [
        {
            "RANK": "0",
            "LOCAL_RANK": "0",
            "WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": "29512",
        },
        {
            "RANK": "1",
            "LOCAL_RANK": "1",
            "WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": "29512",
        },
    ]


def test_each_process_gets_its_own_gpu(two_gpus: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert distrib.visible_gpus() == ["0", "1"]
    envs = distrib.distributed_environments(2, 29512)
    assert [env["CUDA_VISIBLE_DEVICES"] for env in envs] == ["0", "1"]
    with pytest.raises(ArgumentError, match="3 processes asked but 2 GPUs are visible"):
        distrib.distributed_environments(3, 29512)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    envs = distrib.distributed_environments(2, 29512)
    assert [env["CUDA_VISIBLE_DEVICES"] for env in envs] == ["3", "5"]


def test_no_process_is_an_argument_error() -> None:
    with pytest.raises(ArgumentError, match="pass -d with 1 or more"):
        distrib.distributed_environments(0, 29512)


@pytest.mark.parametrize(
    ("nodelist", "first"),
    [("node[003-005,9],gpu1", "node003"), ("gpu1,gpu2", "gpu1"), ("solo", "solo"), ("", "")],
)
def test_the_first_node_of_a_slurm_nodelist_is_the_master(nodelist: str, first: str) -> None:
    assert distrib._first_node(nodelist) == first


WORKER = """
import json
from overseer_xpmanager import distrib

distrib.init()
import torch
import torch.distributed as dist

value = torch.tensor([distrib.rank() + 1.0])
dist.all_reduce(value)
print(json.dumps({
    "rank": distrib.rank(), "world": distrib.world_size(), "master": distrib.is_master(),
    "sum": value.item(), "backend": dist.get_backend(),
}))
dist.destroy_process_group()
"""


@pytest.mark.torch
def test_two_processes_form_a_group_and_all_reduce(no_gpu: None) -> None:
    pytest.importorskip("torch")
    envs = distrib.distributed_environments(2, distrib.free_port())
    base = {key: value for key, value in os.environ.items() if key != "PATH"}
    base["PATH"] = os.path.dirname(sys.executable)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            env={**base, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for env in envs
    ]
    outputs = [process.communicate(timeout=180) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    results = [json.loads(stdout) for stdout, _ in outputs]
    assert results == [
        {"rank": 0, "world": 2, "master": True, "sum": 3.0, "backend": "gloo"},
        {"rank": 1, "world": 2, "master": False, "sum": 3.0, "backend": "gloo"},
    ]
