"""Checkpoints: a round trip, the latest one of a folder, atomic writes, damaged files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from overseer_rlbench.checkpoint import (
    Checkpoint,
    checkpoint_path,
    checkpoints_in,
    latest_checkpoint,
    load_agent_network,
    load_checkpoint,
    load_model_state,
    save_checkpoint,
)
from overseer_rlbench.errors import CheckpointError
from overseer_rlbench.network import NetworkShape, build_network


def _trained_a_little(size: int = 3) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = build_network(size, "tiny")
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    logits, value = model(torch.rand(4, 2, size, size).round())
    (logits.square().mean() + value.sum()).backward()
    optimizer.step()
    return model, optimizer


def test_round_trip_keeps_weights_optimizer_and_counters(tmp_path: Path) -> None:
    model, optimizer = _trained_a_little()
    path = save_checkpoint(
        tmp_path / "a.pt",
        model,
        optimizer,
        step=12,
        samples=768,
        flops=1.5e9,
        games=40,
        seconds=3.25,
        extra={"config": {"lr": 0.01, "folder": None}},
    )
    loaded = load_checkpoint(path)
    assert isinstance(loaded, Checkpoint)
    assert (loaded.size, loaded.shape) == (3, NetworkShape(16, 1))
    assert (loaded.step, loaded.samples, loaded.games) == (12, 768, 40)
    assert (loaded.flops, loaded.seconds) == (1.5e9, 3.25)
    assert loaded.extra == {"config": {"lr": 0.01, "folder": None}}
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.model_state[name], tensor)
    fresh = torch.optim.AdamW(build_network(3, "tiny").parameters(), lr=0.01)
    assert loaded.optimizer_state is not None
    fresh.load_state_dict(loaded.optimizer_state)
    assert fresh.state_dict()["state"][0]["step"] == 1


def test_agent_network_plays_like_the_saved_one(tmp_path: Path) -> None:
    model, _ = _trained_a_little(size=4)
    path = save_checkpoint(checkpoint_path(tmp_path, 5), model)
    agent, size = load_agent_network(path, "cpu")
    assert size == 4
    assert not agent.training
    obs = torch.rand(3, 2, 4, 4).round()
    for mine, theirs in zip(agent(obs), model(obs), strict=True):
        torch.testing.assert_close(mine, theirs)


def test_latest_is_the_highest_step_and_ignores_other_files(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path) is None
    assert latest_checkpoint(tmp_path / "missing") is None
    assert latest_checkpoint(None) is None
    model = build_network(2, "tiny")
    for step in (9, 120, 40):
        save_checkpoint(checkpoint_path(tmp_path, step), model, step=step)
    (tmp_path / "checkpoint-999999999.pt.tmp").write_bytes(b"half")
    (tmp_path / "notes.pt").write_bytes(b"")
    latest = latest_checkpoint(tmp_path)
    assert latest == checkpoint_path(tmp_path, 120)
    assert checkpoints_in(tmp_path) == [checkpoint_path(tmp_path, s) for s in (9, 40, 120)]
    assert load_checkpoint(latest).step == 120


def test_writes_are_atomic_and_leave_no_temporary_file(tmp_path: Path) -> None:
    model = build_network(2, "tiny")
    path = checkpoint_path(tmp_path, 1)
    save_checkpoint(path, model, step=1)
    save_checkpoint(path, model, step=2)  # replaces the file whole
    assert load_checkpoint(path).step == 2
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "missing"])
def test_an_unreadable_checkpoint_names_the_file(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "checkpoint-000000007.pt"
    if damage == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    elif damage == "truncated":
        save_checkpoint(path, build_network(3, "tiny"))
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "foreign":
        torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match=str(path)):
        load_checkpoint(path)


def test_weights_of_another_network_do_not_load(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "xs.pt", build_network(3, "xs"))
    with pytest.raises(CheckpointError, match="does not fit its network"):
        load_model_state(build_network(3, "tiny"), load_checkpoint(path))


def test_only_networks_of_build_network_are_saved(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="use a network of build_network"):
        save_checkpoint(tmp_path / "x.pt", torch.nn.Linear(2, 2))
