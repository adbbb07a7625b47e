"""The policy-value network: shapes, presets, FLOP count, and the evaluator's frames."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from overseer_rlbench.hex import HexGeometry, initial_state, play, set_envs
from overseer_rlbench.network import (
    PRESETS,
    NetworkEvaluator,
    NetworkShape,
    build_network,
    flops_per_position,
    network_shape,
)


@pytest.mark.parametrize("size", [2, 3, 5])
@pytest.mark.parametrize("preset", ["tiny", "xs"])
def test_outputs_have_one_logit_per_cell_and_a_bounded_value(size: int, preset: str) -> None:
    model = build_network(size, preset)
    logits, value = model(torch.rand(7, 2, size, size).round())
    assert logits.shape == (7, size * size)
    assert value.shape == (7,)
    assert bool((value.abs() <= 1).all())


def test_presets_grow_and_a_shape_stands_for_itself() -> None:
    widths = [shape.width for shape in PRESETS.values()]
    depths = [shape.depth for shape in PRESETS.values()]
    assert widths == sorted(widths)
    assert depths == sorted(depths)
    assert network_shape("m") == NetworkShape(128, 6)
    custom = NetworkShape(8, 3)
    assert network_shape(custom) is custom
    model = build_network(4, custom)
    assert model.shape == custom
    assert model.size == 4


def test_unknown_preset_and_bad_shape_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"unknown network preset 'huge'.*tiny, xs"):
        build_network(5, "huge")
    with pytest.raises(ValueError, match="network width must be a whole number"):
        NetworkShape(0, 2)


def test_flops_of_the_tiny_network_counted_by_hand() -> None:
    # 5x5, width 16, depth 1: per cell a 3x3 stem from 2 planes, two 3x3 convs in the block,
    # a 1x1 policy conv; then a 16x16 and a 16x1 linear on the pooled features.
    multiply_adds = 25 * (2 * 9 * 16 + 2 * 9 * 16 * 16 + 16) + (16 * 16 + 16)
    assert flops_per_position(5, PRESETS["tiny"]) == 2 * multiply_adds == 246144


@pytest.mark.parametrize(("size", "preset"), [(3, "tiny"), (5, "xs"), (7, "s")])
def test_flops_match_torch_flop_counter(size: int, preset: str) -> None:
    model = build_network(size, preset)
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(3, 2, size, size))
    assert counter.get_total_flops() == 3 * flops_per_position(size, PRESETS[preset])


def _favouring(cell: int, size: int) -> torch.nn.Module:
    """A network whose canonical policy always favours ``cell``, whose value reads plane 0."""

    class Fixed(torch.nn.Module):
        def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            logits = torch.zeros(obs.shape[0], size * size)
            logits[:, cell] = 5.0
            return logits, obs[:, 0].flatten(1).sum(1).tanh()

    return Fixed()


def test_evaluator_maps_canonical_logits_back_to_each_board() -> None:
    geometry = HexGeometry(3)
    empty = initial_state(geometry, 2)
    played, _ = play(empty, torch.tensor([8, 8]), geometry)
    # Board 0 is empty (player 1 to move), board 1 has a stone (player 2 to move).
    state = set_envs(empty, torch.tensor([False, True]), played)
    assert state.to_move.tolist() == [1, 2]
    evaluator = NetworkEvaluator(_favouring(cell=1, size=3))  # canonical (0, 1)
    evaluation = evaluator(state, geometry)
    # Player 1's frame is its board's; player 2's is the transpose: (0, 1) is its (1, 0) = 3.
    assert evaluation.logits.argmax(dim=1).tolist() == [1, 3]
    assert evaluation.logits.dtype == torch.float32
    assert evaluator.positions == 2


def test_evaluator_value_is_for_the_player_to_move() -> None:
    geometry = HexGeometry(3)
    state, _ = play(initial_state(geometry, 1), torch.tensor([4]), geometry)
    evaluator = NetworkEvaluator(_favouring(cell=0, size=3))
    # Player 2 moves and has no stone: plane 0 (the mover's) is empty.
    assert evaluator(state, geometry).value.tolist() == [0.0]
    state, _ = play(state, torch.tensor([0]), geometry)
    # Player 1 moves again with one stone on the board: plane 0 holds it.
    assert evaluator(state, geometry).value.tolist() == [pytest.approx(torch.tensor(1.0).tanh())]


def test_evaluator_needs_no_gradients() -> None:
    geometry = HexGeometry(4)
    evaluation = NetworkEvaluator(build_network(4, "tiny"))(initial_state(geometry, 2), geometry)
    assert not evaluation.logits.requires_grad
    assert not evaluation.value.requires_grad


@pytest.mark.gpu
def test_evaluator_on_cuda_with_bf16_agrees_with_cpu() -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    cpu_model = build_network(5, "xs")
    torch.nn.init.normal_(cpu_model.tower[0].second.weight, std=0.05)
    cuda_model = build_network(5, "xs").cuda()
    cuda_model.load_state_dict(cpu_model.state_dict())
    state = initial_state(HexGeometry(5), 4)
    cpu = NetworkEvaluator(cpu_model)(state, HexGeometry(5))
    state_cuda = initial_state(HexGeometry(5, "cuda"), 4)
    cuda = NetworkEvaluator(cuda_model, amp=True)(state_cuda, HexGeometry(5, "cuda"))
    assert cuda.logits.dtype == torch.float32
    torch.testing.assert_close(cuda.logits.cpu(), cpu.logits, atol=0.05, rtol=0.05)
