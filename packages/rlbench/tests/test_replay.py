"""The replay buffer: a ring of the latest samples, sampled uniformly."""

from __future__ import annotations

import pytest
import torch

from overseer_rlbench.replay import ReplayBuffer


def _samples(values: list[float], size: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Samples tagged by value: the observation and policy carry the same tag."""
    count, cells = len(values), size * size
    value = torch.tensor(values)
    obs = torch.zeros(count, 2, size, size)
    obs[:, 0, 0, 0] = (value.long() % 2).float()  # a bit of the tag, to check rows stay together
    policy = torch.zeros(count, cells)
    policy[torch.arange(count), value.long() % cells] = 1.0
    return obs, policy, value


def test_fills_then_overwrites_the_oldest() -> None:
    buffer = ReplayBuffer(capacity=5, size=2)
    buffer.add(*_samples([0, 1, 2]))
    assert len(buffer) == 3
    assert buffer.added == 3
    buffer.add(*_samples([3, 4, 5, 6]))
    assert len(buffer) == 5
    assert buffer.added == 7
    assert sorted(buffer.value.tolist()) == [2, 3, 4, 5, 6]
    # The ring wrapped: 5 and 6 took the slots of 0 and 1.
    assert buffer.value.tolist() == [5, 6, 2, 3, 4]


def test_a_batch_larger_than_the_capacity_keeps_its_last_samples() -> None:
    buffer = ReplayBuffer(capacity=3, size=2)
    buffer.add(*_samples([0]))
    buffer.add(*_samples([1, 2, 3, 4, 5, 6, 7]))
    assert sorted(buffer.value.tolist()) == [5, 6, 7]
    buffer.add(*_samples([8]))
    assert sorted(buffer.value.tolist()) == [6, 7, 8]


def test_samples_keep_observation_policy_and_value_together() -> None:
    buffer = ReplayBuffer(capacity=16, size=2)
    buffer.add(*_samples([float(v) for v in range(10)]))
    obs, policy, value = buffer.sample(64, torch.Generator().manual_seed(0))
    assert obs.shape == (64, 2, 2, 2)
    assert obs.dtype == torch.float32
    assert policy.shape == (64, 4)
    assert value.shape == (64,)
    assert set(value.tolist()) <= set(range(10))
    assert torch.equal(obs[:, 0, 0, 0], (value.long() % 2).float())
    assert torch.equal(policy.argmax(dim=1), value.long() % 4)


def test_sampling_draws_only_filled_slots_and_is_seeded() -> None:
    buffer = ReplayBuffer(capacity=100, size=2)
    buffer.add(*_samples([7.0, 9.0]))
    _, _, value = buffer.sample(200, torch.Generator().manual_seed(1))
    assert set(value.tolist()) == {7.0, 9.0}  # never an empty slot's zero
    again = buffer.sample(200, torch.Generator().manual_seed(1))[2]
    assert torch.equal(value, again)


def test_sampling_an_empty_buffer_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="empty replay buffer: add self-play samples"):
        ReplayBuffer(capacity=4, size=3).sample(2)


def test_samples_of_another_board_are_refused() -> None:
    buffer = ReplayBuffer(capacity=4, size=3)
    with pytest.raises(ValueError, match=r"replay obs has shape \[2, 2, 2, 2\], expected"):
        buffer.add(*_samples([1.0, 2.0], size=2))
    with pytest.raises(ValueError, match="replay capacity must be a whole number"):
        ReplayBuffer(capacity=0, size=3)
