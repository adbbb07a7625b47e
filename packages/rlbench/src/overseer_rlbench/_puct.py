"""AlphaZero's PUCT as a search strategy: what :func:`overseer_rlbench.mcts.search` asks of
an algorithm (its prior, root preparation, selection scores and final answer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._tree import Rows, Tree, mix_dirichlet

if TYPE_CHECKING:
    import torch

__all__ = ["PuctStrategy"]


class PuctStrategy:
    """AlphaZero's PUCT, with optional Dirichlet noise in the root prior.

    Values of unvisited actions are the node's mean value; the policy is the root's visit
    distribution and the choice its most visited action.
    """

    def __init__(self, c_puct: float, noise: tuple[float, float] | None) -> None:
        self.c_puct = c_puct
        self.noise = noise

    def prior_of(self, logits: torch.Tensor, penalty: torch.Tensor) -> torch.Tensor:
        """Probabilities of the legal actions."""
        return (logits + penalty).softmax(dim=1)

    def prepare(self, tree: Tree, simulations: int, generator: torch.Generator | None) -> None:
        """Mix Dirichlet noise into the root priors, if asked to."""
        if self.noise is not None:
            mix_dirichlet(tree, *self.noise, generator)

    def root_scores(self, rows: Rows, simulation: int) -> torch.Tensor:
        """The same rule at the root as below it."""
        return self.interior_scores(rows)

    def interior_scores(self, rows: Rows) -> torch.Tensor:
        """``Q + c * P * sqrt(N) / (1 + n)``, ``-inf`` where illegal."""
        import torch

        scale = (self.c_puct * rows.node_visits.sqrt()).unsqueeze(1)
        return torch.addcdiv(rows.values() + rows.penalty, rows.prior * scale, rows.visits + 1.0)

    def finish(self, root: Rows) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The visit distribution, the most visited action and the root's mean value."""
        policy = root.visits / root.visits.sum(dim=1, keepdim=True)
        # Ties in visits go to the better value: (q + 1) / 4 < 1 never outweighs a visit.
        score = root.visits + (root.values() + 1.0) / 4.0 + root.penalty
        return policy, score.argmax(dim=1), root.node_value
