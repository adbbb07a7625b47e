"""Checkpoints: a network, its optimiser and the training's counters, in one file.

Training writes ``checkpoint-<step>.pt`` files into its folder, each one atomically (a
temporary file, then :func:`os.replace`), so a reader never sees half of one and a run that
is killed leaves the previous one intact. Each file is an agent of the scaling study: it
records the training compute spent to reach it. Files are read with ``weights_only=True``:
they hold tensors, numbers and strings only.

>>> import tempfile, pathlib
>>> from overseer_rlbench.network import build_network
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> path = save_checkpoint(checkpoint_path(folder, 10), build_network(3, "tiny"), step=10)
>>> latest_checkpoint(folder) == path, load_checkpoint(path).step
(True, 10)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CheckpointError
from .network import NetworkShape, build_network

if TYPE_CHECKING:
    import torch

__all__ = [
    "Checkpoint",
    "checkpoint_path",
    "checkpoints_in",
    "latest_checkpoint",
    "load_agent_network",
    "load_checkpoint",
    "load_model_state",
    "network_of",
    "save_checkpoint",
]

_NAME = re.compile(r"^checkpoint-(\d+)\.pt$")
_FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds.

    Attributes:
        path: the file it was read from.
        size: board side the network plays.
        shape: the network's width and depth.
        model_state: the network's ``state_dict``.
        optimizer_state: the optimiser's ``state_dict``, or ``None``.
        step: learner steps taken.
        samples: learner samples consumed (steps times batch size).
        flops: training compute spent, in floating-point operations.
        games: self-play games finished.
        seconds: training time spent, over every run that resumed it.
        extra: anything else the trainer recorded (its configuration, for one).
    """

    path: Path
    size: int
    shape: NetworkShape
    model_state: dict[str, torch.Tensor]
    optimizer_state: dict[str, Any] | None
    step: int = 0
    samples: int = 0
    flops: float = 0.0
    games: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def checkpoint_path(folder: Path, step: int) -> Path:
    """The file of the checkpoint at learner ``step`` in ``folder``."""
    return Path(folder) / f"checkpoint-{step:09d}.pt"


def save_checkpoint(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    step: int = 0,
    samples: int = 0,
    flops: float = 0.0,
    games: int = 0,
    seconds: float = 0.0,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint of ``model`` (built by :func:`build_network`) atomically.

    ``extra`` must hold only what ``torch.load(weights_only=True)`` reads back: numbers,
    strings, lists, dicts and tensors. Returns ``path``.
    """
    import torch

    path = Path(path)
    size, shape = getattr(model, "size", None), getattr(model, "shape", None)
    if not isinstance(size, int) or not isinstance(shape, NetworkShape):
        message = f"cannot checkpoint a {type(model).__name__}: use a network of build_network()"
        raise ValueError(message)
    content = {
        "format": _FORMAT,
        "size": size,
        "shape": {"width": shape.width, "depth": shape.depth},
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "progress": {"step": step, "samples": samples, "flops": float(flops), "games": games},
        "seconds": float(seconds),
        "extra": dict(extra or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(content, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> Checkpoint:
    """Read a checkpoint, its tensors onto ``device``.

    Raises:
        CheckpointError: the file is missing, unreadable or not a checkpoint of this
            package; the message names the file.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}: give the path of a .pt checkpoint")
    try:
        content = torch.load(path, map_location=device, weights_only=True)
        return _parse(path, content)
    except CheckpointError:
        raise
    except Exception as error:  # torch.load raises many types on damaged files
        reason = f"{type(error).__name__}: {error}".splitlines()[0]
        message = f"cannot read checkpoint {path} ({reason}): delete it or use another one"
        raise CheckpointError(message) from error


def _parse(path: Path, content: Any) -> Checkpoint:
    if not isinstance(content, dict) or content.get("format") != _FORMAT:
        message = f"{path} is not an overseer-rlbench checkpoint (format {_FORMAT})"
        raise CheckpointError(f"{message}: delete it or use another one")
    progress = content["progress"]
    return Checkpoint(
        path=path,
        size=int(content["size"]),
        shape=NetworkShape(**content["shape"]),
        model_state=content["model"],
        optimizer_state=content["optimizer"],
        step=int(progress["step"]),
        samples=int(progress["samples"]),
        flops=float(progress["flops"]),
        games=int(progress["games"]),
        seconds=float(content["seconds"]),
        extra=dict(content["extra"]),
    )


def checkpoints_in(folder: Path | None) -> list[Path]:
    """The checkpoint files of ``folder``, by step, lowest first (none if it is missing)."""
    if folder is None or not Path(folder).is_dir():
        return []
    found = [(int(m.group(1)), p) for p in Path(folder).iterdir() if (m := _NAME.match(p.name))]
    return [path for _, path in sorted(found)]


def latest_checkpoint(folder: Path | None) -> Path | None:
    """The checkpoint of the highest step in ``folder``; ``None`` if it holds none."""
    found = checkpoints_in(folder)
    return found[-1] if found else None


def load_agent_network(
    path: Path, device: torch.device | str = "cpu"
) -> tuple[torch.nn.Module, int]:
    """The network of a checkpoint, on ``device`` in eval mode, and its board size.

    Raises:
        CheckpointError: the file cannot be read, or its weights do not fit its network.
    """
    checkpoint = load_checkpoint(path, device)
    return network_of(checkpoint, device), checkpoint.size


def network_of(checkpoint: Checkpoint, device: torch.device | str = "cpu") -> torch.nn.Module:
    """The network a loaded checkpoint holds, on ``device`` in eval mode.

    Raises:
        CheckpointError: its weights do not fit its network.
    """
    model = build_network(checkpoint.size, checkpoint.shape).to(device)
    load_model_state(model, checkpoint)
    model.eval()
    return model


def load_model_state(model: torch.nn.Module, checkpoint: Checkpoint) -> None:
    """Load a checkpoint's weights into ``model``, as a :class:`CheckpointError` on mismatch."""
    try:
        model.load_state_dict(checkpoint.model_state)
    except RuntimeError as error:
        first = str(error).splitlines()[0]
        message = f"checkpoint {checkpoint.path} does not fit its network ({first})"
        raise CheckpointError(f"{message}: delete it or use another one") from error
