"""torch.distributed for XPs: ranks read from the environment, one process per GPU.

A training script calls :func:`init` once; it is a no-op for a single process, so the same
script runs alone, under ``suite xp run -d N`` (N processes on this machine, one GPU each
when there are GPUs), under ``torchrun``, or as the tasks of a Slurm step::

    from overseer_xpmanager import distrib

    distrib.init()  # gloo on CPU, nccl on CUDA
    model = torch.nn.parallel.DistributedDataParallel(model) if distrib.world_size() > 1 else model
    if distrib.is_master():
        torch.save(model.state_dict(), get_xp().folder / "checkpoint.th")

The ranks come from ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE`` (``MASTER_ADDR`` and
``MASTER_PORT`` give the rendezvous), else from a Slurm step's ``SLURM_PROCID``,
``SLURM_LOCALID`` and ``SLURM_STEP_NUM_TASKS``, whose first node is the master.
torch is imported by :func:`init` only.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import zlib
from dataclasses import dataclass
from types import ModuleType

from .errors import ArgumentError

__all__ = [
    "distributed_environments",
    "free_port",
    "init",
    "is_master",
    "rank",
    "visible_gpus",
    "world_size",
]

MASTER_ADDR = "127.0.0.1"


@dataclass(frozen=True)
class _Spec:
    rank: int
    local_rank: int
    world_size: int


def init(backend: str | None = None) -> None:
    """Join the process group the environment describes; nothing for a single process.

    Args:
        backend: ``"gloo"``, ``"nccl"``...; None picks nccl when CUDA is available, else gloo.
    """
    spec = _spec()
    if spec.world_size <= 1:
        return
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(spec.local_rank % torch.cuda.device_count())
    _set_rendezvous()
    dist.init_process_group(
        backend=backend or ("nccl" if cuda else "gloo"),
        init_method="env://",
        rank=spec.rank,
        world_size=spec.world_size,
    )


def rank() -> int:
    """This process's rank: torch's once :func:`init` ran, else the environment's (0 alone)."""
    dist = _initialized()
    return int(dist.get_rank()) if dist else _spec().rank


def world_size() -> int:
    """The number of processes: torch's once :func:`init` ran, else the environment's."""
    dist = _initialized()
    return int(dist.get_world_size()) if dist else _spec().world_size


def is_master() -> bool:
    """Whether this process is rank 0, the one that writes checkpoints and logs."""
    return rank() == 0


def distributed_environments(n: int, port: int) -> list[dict[str, str]]:
    """The environment variables of ``n`` local processes forming one process group.

    Each gets ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` (this machine) and
    ``MASTER_PORT``, and, when GPUs are visible, ``CUDA_VISIBLE_DEVICES`` naming its own GPU.

    Raises:
        ArgumentError: ``n`` is below 1, or above the number of visible GPUs.

    Example:
        >>> [env["RANK"] for env in distributed_environments(2, 29500)]
        ['0', '1']
    """
    if n < 1:
        message = f"{n} processes asked: pass -d with 1 or more"
        raise ArgumentError(message)
    gpus = visible_gpus()
    if gpus and n > len(gpus):
        message = f"{n} processes asked but {len(gpus)} GPUs are visible: pass -d {len(gpus)}"
        raise ArgumentError(message)
    common = {"WORLD_SIZE": str(n), "MASTER_ADDR": MASTER_ADDR, "MASTER_PORT": str(port)}
    environments = []
    for index in range(n):
        env = {**common, "RANK": str(index), "LOCAL_RANK": str(index)}
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = gpus[index]
        environments.append(env)
    return environments


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as ``CUDA_VISIBLE_DEVICES`` entries (none without one).

    Read from ``nvidia-smi -L``, without importing torch, and narrowed by
    ``CUDA_VISIBLE_DEVICES`` when it is set.
    """
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if not shutil.which("nvidia-smi"):
        return []
    if listed is not None:
        return [entry.strip() for entry in listed.split(",") if entry.strip()]
    try:
        result = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    count = sum(line.startswith("GPU ") for line in result.stdout.splitlines())
    return [str(index) for index in range(count)] if result.returncode == 0 else []


def free_port() -> int:
    """A TCP port free on this machine now, for ``MASTER_PORT``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((MASTER_ADDR, 0))
        return int(probe.getsockname()[1])


def _spec() -> _Spec:
    env = os.environ
    if "WORLD_SIZE" in env:
        rank = int(env.get("RANK", "0"))
        return _Spec(rank, int(env.get("LOCAL_RANK", rank)), int(env["WORLD_SIZE"]))
    if "SLURM_STEP_NUM_TASKS" in env and "SLURM_PROCID" in env:
        rank = int(env["SLURM_PROCID"])
        local = int(env.get("SLURM_LOCALID", rank))
        return _Spec(rank, local, int(env["SLURM_STEP_NUM_TASKS"]))
    return _Spec(0, 0, 1)


def _set_rendezvous() -> None:
    # A Slurm step names no master: its first node is one, on a port the job id picks.
    env = os.environ
    if "MASTER_ADDR" not in env:
        env["MASTER_ADDR"] = _first_node(env.get("SLURM_STEP_NODELIST", "")) or MASTER_ADDR
    if "MASTER_PORT" not in env:
        seed = env.get("SLURM_JOB_ID", "") + env.get("SLURM_STEP_ID", "")
        env["MASTER_PORT"] = str(20000 + zlib.crc32(seed.encode()) % 40000)


def _first_node(nodelist: str) -> str:
    """``node[3-5,9],gpu1`` -> ``node3``."""
    match = re.match(r"([^,\[]+)(?:\[(\d+))?", nodelist)
    if not match:
        return ""
    return match.group(1) + (match.group(2) or "")


def _initialized() -> ModuleType | None:
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        return dist
    return None
