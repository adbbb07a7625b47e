"""Gumbel AlphaZero's search (Danihelka et al. 2022, "Policy improvement by planning with
Gumbel"), batched over boards.

At the root, ``m`` actions are drawn without replacement by the Gumbel-top-k trick
(``argmax`` of ``g + logits`` with ``g`` Gumbel noise), and the budget is spread over them by
sequential halving: rounds in which every remaining action gets the same number of visits,
after which the better half (by ``g + logits + sigma(q)``) stays. Here the rounds are a
schedule of the visit count the chosen action must have at each simulation: picking the
best action among those with that count plays the rounds out without keeping the
remaining set (the first round picks among all unvisited actions, which ranks them by
``g + logits`` as their completed values are equal).

Everywhere, unvisited actions take the value ``v_mix`` (the paper's eq. 33: the evaluator's
value mixed with the prior-weighted mean value of the visited children), and the values
``q`` are scaled to ``[0, 1]`` by the node's minimum and maximum, then
``sigma(q) = (c_visit + max_b N(b)) * c_scale * q``. The improved policy is
``softmax(logits + sigma(q))``; below the root, selection is deterministic:
``argmax(improved policy - N / (1 + sum N))``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

from ._tree import PENALTY

if TYPE_CHECKING:
    import torch

    from ._tree import Rows, Tree

__all__ = ["GumbelStrategy", "halving_schedule", "improved_logits"]

# Below this spread of values a node's values count as equal: they all scale to 0.
VALUE_SPREAD_FLOOR = 1e-8
# Per visit off the halving schedule, what a root action loses from its score: far more
# than any score spans, far less than float32's range.
OFF_SCHEDULE = 1e30


def halving_schedule(considered: int, simulations: int) -> tuple[int, ...]:
    """The visit count the root action chosen at each simulation has before its visit.

    Sequential halving over ``considered`` actions: ``ceil(log2(considered))`` rounds, each
    giving every remaining action ``max(1, simulations // (rounds * remaining))`` more
    visits, then halving the remaining set (never below two); the rounds repeat on the last
    two until the budget is spent.

    >>> halving_schedule(4, 12)
    (0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4)
    """
    if considered <= 1:
        return tuple(range(simulations))
    rounds = math.ceil(math.log2(considered))
    visits = [0] * considered
    schedule: list[int] = []
    remaining = considered
    while len(schedule) < simulations:
        for _ in range(max(1, simulations // (rounds * remaining))):
            for rank in range(remaining):
                schedule.append(visits[rank])
                visits[rank] += 1
        remaining = max(2, (remaining + 1) // 2)
    return tuple(schedule[:simulations])


@lru_cache(maxsize=64)
def _schedules(max_considered: int, simulations: int) -> tuple[tuple[int, ...], ...]:
    return tuple(halving_schedule(m, simulations) for m in range(max_considered + 1))


def completed_q(rows: Rows) -> torch.Tensor:
    """The children's values, ``v_mix`` where unvisited (``[n, cells]``)."""
    import torch

    prior = rows.prior.exp()
    seen = rows.visits.clamp_max(1.0)  # 1 where visited, else 0 (and q is 0 there)
    children_visits = rows.node_visits - 1.0
    mass = (prior * seen).sum(dim=1)
    mean = (prior * rows.q).sum(dim=1) / mass.clamp_min(torch.finfo(mass.dtype).tiny)
    mixed = (rows.raw_value + children_visits * mean) / (1.0 + children_visits)
    return torch.addcmul(rows.q, 1.0 - seen, mixed.unsqueeze(1))


def improved_logits(rows: Rows, c_visit: float, c_scale: float) -> torch.Tensor:
    """``logits + sigma(completed q)``, ``-inf`` on illegal actions."""
    return _improved(rows, completed_q(rows), c_visit, c_scale)


def _improved(rows: Rows, completed: torch.Tensor, c_visit: float, c_scale: float) -> torch.Tensor:
    import torch

    # The penalty (-inf off the legal actions) keeps them out of the minimum and maximum.
    low = (completed - rows.penalty).amin(dim=1, keepdim=True)
    high = (completed + rows.penalty).amax(dim=1, keepdim=True)
    scale = (c_visit + rows.visits.amax(dim=1, keepdim=True)) * c_scale
    scale = scale / (high - low).clamp_min(VALUE_SPREAD_FLOOR)
    return torch.addcmul(rows.prior, completed - low, scale)


class GumbelStrategy:
    """Gumbel AlphaZero as the search's selection and result (see the module docstring).

    Priors are stored as log-probabilities (``-inf`` on illegal actions).
    """

    def __init__(self, considered: int, c_visit: float, c_scale: float) -> None:
        self.considered = considered
        self.c_visit = c_visit
        self.c_scale = c_scale
        self.noise: torch.Tensor | None = None
        self.targets: torch.Tensor | None = None

    def prior_of(self, logits: torch.Tensor, penalty: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of the legal actions."""
        return (logits + penalty).log_softmax(dim=1)

    def prepare(self, tree: Tree, simulations: int, generator: torch.Generator | None) -> None:
        """Draw the root's Gumbel noise and each board's halving schedule."""
        import torch

        legal = tree.slot(tree.stats, 0)[:, PENALTY] == 0
        uniform = torch.rand(legal.shape, generator=generator, device=legal.device)
        tiny = torch.finfo(uniform.dtype).tiny
        self.noise = -torch.log(-torch.log(uniform.clamp_min(tiny)))
        table = torch.tensor(
            _schedules(self.considered, simulations), dtype=torch.float32, device=legal.device
        )
        considered = legal.sum(dim=1).clamp_max(self.considered)
        self.targets = table[considered]  # [n, simulations]

    def root_scores(self, rows: Rows, simulation: int) -> torch.Tensor:
        """``g + logits + sigma(q)`` over the actions the halving schedule allows now."""
        assert self.noise is not None, "prepare() draws the noise before any simulation"
        assert self.targets is not None
        score = self.noise + improved_logits(rows, self.c_visit, self.c_scale)
        # Actions whose visits are off the schedule sink far below the others, yet stay
        # above illegal ones (-inf): were none on the schedule, the choice would stay legal.
        off_schedule = (rows.visits - self.targets[:, simulation].unsqueeze(1)).abs()
        return score - OFF_SCHEDULE * off_schedule

    def interior_scores(self, rows: Rows) -> torch.Tensor:
        """The paper's deterministic selection: improved policy minus visit share."""
        policy = improved_logits(rows, self.c_visit, self.c_scale).softmax(dim=1)
        share = rows.visits / rows.node_visits.unsqueeze(1)
        return policy - share + rows.penalty

    def finish(self, root: Rows) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The improved policy; among the most visited actions, the best by score; and the
        improved policy's expected completed value."""
        import torch

        assert self.noise is not None
        completed = completed_q(root)
        logits = _improved(root, completed, self.c_visit, self.c_scale)
        most = root.legal & (root.visits == root.visits.amax(dim=1, keepdim=True))
        action = torch.where(most, self.noise + logits, -torch.inf).argmax(dim=1)
        policy = logits.softmax(dim=1)
        return policy, action, (policy * completed).sum(dim=1)
