"""Elo ratings from a win matrix: Bradley-Terry maximum likelihood with 95% intervals.

The model: agent ``i`` beats agent ``j`` with probability ``sigmoid(r_i - r_j)``. The
ratings ``r`` maximise the likelihood of the observed wins (Newton's method on the concave
log-likelihood, in float64), and are reported on the Elo scale, ``400 / ln 10`` Elo per unit
of logit, with the anchor agent fixed at 0 Elo (only differences are identified).

Prior: an agent that won (or lost) every game has no finite maximum-likelihood rating, so
every pair of agents that met also gets ``prior_games`` virtual games split evenly, one
virtual draw by default. It is a weak prior centred on equal strength: between two agents
the fitted win rate is ``(w + prior_games / 2) / (n + prior_games)`` instead of ``w / n``,
so an undefeated record of 100 games rates ``ln 201`` logits (about 920 Elo) above the loser.

Intervals: from the observed Fisher information, the negative Hessian of the log-posterior
at the optimum, with the anchor's row and column removed; its inverse is the covariance of
the other ratings relative to the anchor, and ``elo +- z * stderr`` is the interval (the
anchor's is ``[0, 0]``). On simulated tournaments they cover the true ratings at about the
stated rate (see the tests).

>>> import torch
>>> wins = torch.tensor([[0, 30], [70, 0]])
>>> ratings = fit_bradley_terry(wins, ["a", "b"])
>>> round(float(ratings.elo[1]))  # ~ 400 * log10(70.5 / 30.5)
146
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["ELO_PER_LOGIT", "Ratings", "fit_bradley_terry"]

ELO_PER_LOGIT = 400.0 / math.log(10.0)


@dataclass(frozen=True)
class Ratings:
    """Fitted Elo ratings and their intervals, relative to the anchor.

    Attributes:
        names: the agents, in the order of the win matrix.
        elo: float64 ``[k]``: ratings; the anchor's is exactly 0.
        low, high: float64 ``[k]``: the interval bounds at ``confidence``.
        anchor: the name of the agent fixed at 0 Elo.
        confidence: the coverage the intervals are built for (0.95 by default).
    """

    names: list[str]
    elo: torch.Tensor
    low: torch.Tensor
    high: torch.Tensor
    anchor: str
    confidence: float

    def of(self, name: str) -> float:
        """The Elo rating of the agent called ``name``."""
        return float(self.elo[self.names.index(name)])

    def table(self) -> str:
        """The ratings as text lines, strongest first, with their intervals."""
        width = max(len(name) for name in self.names)
        percent = f"{self.confidence:.0%}"
        lines = [f"{'agent':<{width}}  {'elo':>7}  {percent} interval"]
        for k in sorted(range(len(self.names)), key=lambda k: -float(self.elo[k])):
            low, high = float(self.low[k]), float(self.high[k])
            lines.append(
                f"{self.names[k]:<{width}}  {float(self.elo[k]):7.1f}  [{low:.1f}, {high:.1f}]"
            )
        return "\n".join(lines)


def fit_bradley_terry(
    wins: torch.Tensor,
    names: Sequence[str],
    anchor: str | int = 0,
    confidence: float = 0.95,
    prior_games: float = 1.0,
) -> Ratings:
    """Elo ratings by Bradley-Terry maximum likelihood, anchored at 0.

    Args:
        wins: ``[k, k]`` non-negative counts; ``wins[i, j]`` is games ``i`` won against ``j``
            (what :func:`~overseer_rlbench.arena.round_robin` returns).
        names: the ``k`` agents' names.
        anchor: the name or index of the agent fixed at 0 Elo.
        confidence: the coverage of the intervals, in (0, 1).
        prior_games: virtual games, split evenly, added to every pair that met (> 0).

    Raises:
        ValueError: a matrix that is not square, negative, not finite, with wins on the
            diagonal, an agent without games, or agents not linked by any chain of games.
    """
    import torch

    counts = _checked_matrix(wins, names)
    anchor_index = _anchor_index(anchor, names)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if not prior_games > 0.0:
        raise ValueError(
            f"prior_games must be positive (it keeps undefeated agents finite), got {prior_games!r}"
        )
    played = (counts + counts.T) > 0
    counts = counts + played * (prior_games / 2.0)
    free = torch.arange(len(names)) != anchor_index
    logits, information = _maximise(counts, free)
    covariance = torch.linalg.inv(information)
    stderr = torch.zeros(len(names), dtype=torch.float64)
    stderr[free] = covariance.diagonal().clamp(min=0.0).sqrt()
    z = float(torch.special.ndtri(torch.tensor(0.5 + confidence / 2.0, dtype=torch.float64)))
    elo, spread = logits * ELO_PER_LOGIT, z * stderr * ELO_PER_LOGIT
    return Ratings(list(names), elo, elo - spread, elo + spread, names[anchor_index], confidence)


def _maximise(counts: torch.Tensor, free: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The maximising logits (0 at the anchor) and the information matrix of the free ones.

    Newton's method with step halving; the log-likelihood is concave and, with the anchor
    fixed on a connected comparison graph, strictly so.
    """
    import torch

    logits = torch.zeros(counts.shape[0], dtype=torch.float64)
    current = _log_likelihood(counts, logits)
    for _ in range(100):
        gradient, information = _derivatives(counts, logits)
        step = torch.zeros_like(logits)
        step[free] = torch.linalg.solve(information[free][:, free], gradient[free])
        scale = 1.0
        while scale > 1e-6:
            trial = logits + scale * step
            value = _log_likelihood(counts, trial)
            if value >= current:
                break
            scale /= 2.0
        logits, current = trial, value
        if float((scale * step).abs().max()) < 1e-10:
            break
    _, information = _derivatives(counts, logits)
    return logits, information[free][:, free]


def _log_likelihood(counts: torch.Tensor, logits: torch.Tensor) -> float:
    import torch

    margin = logits.unsqueeze(1) - logits.unsqueeze(0)
    # log sigmoid(m) = -softplus(-m); torch's logsigmoid kernel is far slower on tiny inputs
    # when its threads compete for a busy CPU.
    return float(-(counts * torch.nn.functional.softplus(-margin)).sum())


def _derivatives(counts: torch.Tensor, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient of the log-likelihood and the (observed) information matrix."""
    import torch

    games = counts + counts.T
    p = torch.sigmoid(logits.unsqueeze(1) - logits.unsqueeze(0))
    gradient = (counts - games * p).sum(dim=1)
    weight = games * p * (1.0 - p)  # symmetric; the curvature each pair contributes
    information = torch.diag(weight.sum(dim=1)) - weight
    return gradient, information


def _checked_matrix(wins: torch.Tensor, names: Sequence[str]) -> torch.Tensor:
    import torch

    counts = torch.as_tensor(wins).detach().to("cpu", torch.float64)
    k = len(names)
    if counts.dim() != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"the win matrix must be square [k, k], got shape {list(counts.shape)}")
    if counts.shape[0] != k or k < 2:
        raise ValueError(
            f"the win matrix is {counts.shape[0]}x{counts.shape[0]} but {k} names were given: "
            "give one name per row, at least two agents"
        )
    if not bool(torch.isfinite(counts).all()) or bool((counts < 0).any()):
        raise ValueError("the win matrix must hold finite, non-negative game counts")
    if bool(counts.diagonal().ne(0).any()):
        raise ValueError("the win matrix has wins on its diagonal: an agent cannot play itself")
    games = counts + counts.T
    idle = [names[i] for i in range(k) if float(games[i].sum()) == 0.0]
    if idle:
        raise ValueError(f"agents with no games cannot be rated: {idle}; drop them or play them")
    _check_connected(games > 0, names)
    return counts


def _check_connected(met: torch.Tensor, names: Sequence[str]) -> None:
    """Ratings compare only agents linked by a chain of games: require one component."""
    reached = {0}
    frontier = [0]
    while frontier:
        i = frontier.pop()
        for j in met[i].nonzero().flatten().tolist():
            if j not in reached:
                reached.add(j)
                frontier.append(j)
    if len(reached) < len(names):
        apart = [names[i] for i in range(len(names)) if i not in reached]
        raise ValueError(
            f"agents {apart} never played, directly or through others, against {names[0]!r}: "
            "play games between the groups so their ratings share one scale"
        )


def _anchor_index(anchor: str | int, names: Sequence[str]) -> int:
    if isinstance(anchor, str):
        if anchor not in names:
            raise ValueError(f"anchor {anchor!r} is not one of the agents {list(names)}")
        return list(names).index(anchor)
    if isinstance(anchor, bool) or not 0 <= anchor < len(names):
        raise ValueError(f"anchor index must be in 0..{len(names) - 1}, got {anchor!r}")
    return anchor
