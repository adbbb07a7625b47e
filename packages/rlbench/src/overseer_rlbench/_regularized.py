"""The regularised policy of Grill et al. (2020), "Monte-Carlo tree search as regularized
policy optimization", batched over boards.

At a node with action values ``q``, prior ``pi`` and multiplier ``lam``, the policy

    pi_bar = argmax_y  q . y - lam * KL(pi, y)

is ``pi_bar(a) = lam * pi(a) / (alpha - q(a))`` where ``alpha`` makes it sum to one. With
``beta = alpha - max q`` and ``d = q - max q <= 0``, ``beta`` is the root of

    f(beta) = sum_a lam * pi(a) / (beta - d(a)) - 1,

which lies in ``[max_a (d(a) + lam * pi(a)), lam]`` (each term is at most one; and at
``beta = lam`` the sum is at most ``lam / beta = 1``), and above ``lam + sum_a pi(a) d(a)``
too (Jensen). ``f`` is convex and decreasing there, so Newton's method started at the
larger lower bound climbs to the root without overshooting; a bracket kept alongside
replaces any step that rounding pushes out of it by a bisection. Working with the shift
``d`` keeps float32 accurate when ``lam`` is tiny. :func:`bisection_policy` solves the
same equation by bisection alone, to check Newton's answer.

>>> import torch
>>> q = torch.tensor([[1.0, 0.0]])
>>> prior = torch.tensor([[0.5, 0.5]])
>>> legal = torch.tensor([[True, True]])
>>> policy = regularized_policy(q, prior, legal, torch.tensor([1.0]))
>>> [round(p, 4) for p in policy[0].tolist()]
[0.7071, 0.2929]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._puct import PuctStrategy
from ._tree import Rows

if TYPE_CHECKING:
    import torch

__all__ = [
    "RegularizedStrategy",
    "bisection_policy",
    "regularized_policy",
    "selection_multiplier",
]

# Newton from the left is fast near the root and slow (it about doubles beta) far from it;
# started at the better of two lower bounds (see _bracket), 16 steps reach float32 rounding
# against bisection on random problems with peaked priors, values spread over four decades
# and multipliers over nine; most need 10.
NEWTON_STEPS = 16
# Below this the multiplier is raised to it: lam = 0 makes pi_bar the argmax of q, a 0/0 in
# the formula; a tiny lam gives the same policy with ties split by the prior.
MULTIPLIER_FLOOR = 1e-12


def selection_multiplier(
    c_puct: float, parent_visits: torch.Tensor, legal_count: torch.Tensor
) -> torch.Tensor:
    """Grill et al.'s ``lambda_N = c * sqrt(N) / (|A| + N)`` (N: visits of the children).

    Boardlaw used ``c * N / (|A| + N)`` (its issue #15); the square root is the paper's.
    """
    return c_puct * parent_visits.sqrt() / (legal_count + parent_visits)


def _shifted(
    q: torch.Tensor, prior: torch.Tensor, legal: torch.Tensor, multiplier: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``d = q - max q`` (0 on illegal actions) and the weights ``lam * pi`` (0 on illegal)."""
    import torch

    masked_q = q.masked_fill(~legal, -torch.inf)
    shift = masked_q.amax(dim=1, keepdim=True)
    d = (q - shift).masked_fill(~legal, 0.0)
    prior = prior.masked_fill(~legal, 0.0)
    prior = prior / prior.sum(dim=1, keepdim=True).clamp_min(torch.finfo(prior.dtype).tiny)
    lam = torch.as_tensor(multiplier, dtype=q.dtype, device=q.device).reshape(-1, 1)
    weights = lam.clamp_min(MULTIPLIER_FLOOR) * prior
    return d, weights


def _bracket(d: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The interval ``[lo, hi]`` that holds the root ``beta`` (see the module docstring).

    Besides ``max(d + lam * pi)``, Jensen's inequality gives a second lower bound:
    ``sum w / (beta - d) >= lam**2 / sum w (beta - d)``, at least 1 while
    ``beta <= lam + sum pi d``. It is the tight one when the values are close together
    (relative to ``lam``), where Newton's steps from the other would only double beta.
    """
    import torch

    tiny = torch.finfo(d.dtype).tiny
    lam = weights.sum(dim=1)
    # Illegal entries have d = 0 and weight 0: they add 0 to the lower bounds, valid floors.
    jensen = lam + (weights * d).sum(dim=1) / lam.clamp_min(tiny)
    low = torch.maximum((d + weights).amax(dim=1), jensen).clamp_min(tiny)
    return low, lam.clamp_min(low)


def bisection_policy(
    q: torch.Tensor,
    prior: torch.Tensor,
    legal: torch.Tensor,
    multiplier: torch.Tensor,
    steps: int = 200,
) -> torch.Tensor:
    """:func:`regularized_policy` with ``beta`` found by plain bisection on the same bracket:
    slow and sure, the check on Newton's method (run it in float64)."""
    d, weights = _shifted(q, prior, legal, multiplier)
    low, high = _bracket(d, weights)
    for _ in range(steps):
        middle = 0.5 * (low + high)
        excess = (weights / (middle.unsqueeze(1) - d)).sum(dim=1) - 1.0
        low = middle.where(excess > 0, low)
        high = middle.where(excess <= 0, high)
    return _policy(d, weights, 0.5 * (low + high))


def _newton_beta(d: torch.Tensor, weights: torch.Tensor, steps: int) -> torch.Tensor:
    import torch

    tiny = torch.finfo(d.dtype).tiny
    low, high = _bracket(d, weights)
    beta = low
    for _ in range(steps):
        inverse = 1.0 / (beta.unsqueeze(1) - d).clamp_min(tiny)
        terms = weights * inverse
        excess = terms.sum(dim=1) - 1.0
        slope = (terms * inverse).sum(dim=1).clamp_min(tiny)  # -f'(beta)
        low = torch.where(excess > 0, beta, low)
        high = torch.where(excess < 0, beta, high)
        step = beta + excess / slope
        inside = (step >= low) & (step <= high)
        beta = torch.where(inside, step, 0.5 * (low + high))
    return beta


def _policy(d: torch.Tensor, weights: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    import torch

    policy = weights / (beta.unsqueeze(1) - d).clamp_min(torch.finfo(d.dtype).tiny)
    # The root is exact to rounding; renormalising removes the last ulps of the sum.
    return policy / policy.sum(dim=1, keepdim=True).clamp_min(torch.finfo(d.dtype).tiny)


def regularized_policy(
    q: torch.Tensor,
    prior: torch.Tensor,
    legal: torch.Tensor,
    multiplier: torch.Tensor,
    steps: int = NEWTON_STEPS,
) -> torch.Tensor:
    """``pi_bar`` ``[n, actions]``: see :func:`overseer_rlbench.mcts.regularized_policy`."""
    d, weights = _shifted(q, prior, legal, multiplier)
    return _policy(d, weights, _newton_beta(d, weights, steps))


class RegularizedStrategy(PuctStrategy):
    """Grill et al.'s search: select ``argmax pi_bar - N / (1 + sum N)``; the root's
    ``pi_bar`` is the policy, its best visited action the choice.

    Values of unvisited actions are the node's mean value, as in PUCT, whose prior, root noise
    and root rule it shares.
    """

    def interior_scores(self, rows: Rows) -> torch.Tensor:
        """``pi_bar`` minus each action's share of the visits, ``-inf`` where illegal."""
        share = rows.visits / rows.node_visits.unsqueeze(1)
        return self._policy(rows) - share + rows.penalty

    def finish(self, root: Rows) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``pi_bar``, its best visited action and the root's mean value."""
        import torch

        policy = self._policy(root)
        # An unvisited action's value is a guess; the choice is among the visited ones.
        action = torch.where(root.visits > 0, policy, -torch.inf).argmax(dim=1)
        return policy, action, root.node_value

    def _policy(self, rows: Rows) -> torch.Tensor:
        visits = rows.node_visits - 1.0
        legal = rows.legal
        lam = selection_multiplier(self.c_puct, visits, legal.sum(dim=1).to(visits.dtype))
        return regularized_policy(rows.values(), rows.prior, legal, lam)
