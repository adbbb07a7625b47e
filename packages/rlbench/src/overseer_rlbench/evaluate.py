"""What a search asks of a network: an :class:`Evaluation` of a batch of positions.

An evaluator is any callable ``(state, geometry) -> Evaluation``: the policy network wrapped
by :class:`~overseer_rlbench.network.NetworkEvaluator`, random rollouts for the pure-MCTS
reference, the exact solver, or :func:`uniform_evaluator` (the "null network" of the
benchmarks: no work at all).

>>> import torch
>>> from overseer_rlbench.hex import HexGeometry, initial_state
>>> geometry = HexGeometry(3)
>>> evaluation = uniform_evaluator(initial_state(geometry, 2), geometry)
>>> evaluation.logits.shape, evaluation.value.tolist()
(torch.Size([2, 9]), [0.0, 0.0])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    import torch

    from .hex import HexGeometry, HexState

__all__ = ["Evaluation", "Evaluator", "uniform_evaluator"]


class Evaluation(NamedTuple):
    """A prior and a value for each position of a batch.

    Attributes:
        logits: float32 ``[n, cells]`` in the board's own action space (not canonical);
            entries of occupied cells are ignored (a search masks them).
        value: float32 ``[n]`` in ``[-1, 1]``: the expected outcome for the player to move.
    """

    logits: torch.Tensor
    value: torch.Tensor


class Evaluator(Protocol):
    """Evaluates positions: ``evaluator(state, geometry) -> Evaluation``."""

    def __call__(self, state: HexState, geometry: HexGeometry) -> Evaluation: ...


def uniform_evaluator(state: HexState, geometry: HexGeometry) -> Evaluation:
    """A flat prior and a value of 0 everywhere: search with no network at all."""
    import torch

    device = state.board.device
    return Evaluation(
        logits=torch.zeros((state.n_envs, geometry.cells), device=device),
        value=torch.zeros(state.n_envs, device=device),
    )
