"""The train/test compute trade-off of boardlaw: Elo log-linear in both computes.

Jones (2021) found that at a fixed Elo, training compute and test-time (search) compute
substitute for each other along straight iso-Elo lines in log-log space. :func:`fit_tradeoff`
fits those lines to rated agents that vary both computes; :func:`tradeoff_table` prints them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .frontier import (
    FrontierError,
    StudyPoint,
    _intervals,
    _order,
    _resample_weights,
    _table,
    _weighted_solve,
)

__all__ = [
    "NO_TRADEOFF",
    "TradeoffFit",
    "fit_tradeoff",
    "iso_elo_test_compute",
    "tradeoff_table",
]

NO_TRADEOFF = (
    "train/test trade-off: not fitted, the points do not vary both training compute and "
    "test_compute (rate agents at several search budgets to fit it)"
)


@dataclass(frozen=True)
class TradeoffFit:
    """Elo as log-linear in training and test-time compute: the iso-Elo lines of boardlaw.

    ``elo = train_slope * log10(train) + test_slope * log10(test) + intercepts[size]``, so at
    a fixed Elo one decade of training compute replaces ``exchange`` decades of test compute.

    Attributes:
        train_slope: Elo per decade of training compute, at fixed test compute.
        test_slope: Elo per decade of test-time compute, at fixed training compute.
        intercepts: per board size, the Elo at 1 FLOP of each.
        exchange: ``train_slope / test_slope``, the iso-Elo lines' slope (negated) in log-log.
        params: every fitted value by name (``intercept[n]`` per size, and ``exchange``).
        intervals: bootstrap 95% intervals of every entry of ``params``.
        n_bootstrap: resamples behind the intervals.
        n_points: points fitted.
    """

    train_slope: float
    test_slope: float
    intercepts: dict[int, float]
    exchange: float
    params: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    n_bootstrap: int
    n_points: int


def fit_tradeoff(
    points: Sequence[StudyPoint], n_bootstrap: int = 200, seed: int = 0
) -> TradeoffFit | None:
    """Fit the train/test compute trade-off to the points that carry a ``test_compute``.

    Ordinary least squares (closed form, float64 torch) of Elo on ``log10`` training compute
    and ``log10`` test compute, with one intercept per board size and shared slopes; intervals
    are percentile intervals over resamples of the points. Use points on the incline: agents
    at perfect play or at random level flatten both slopes.

    Returns:
        The fit, or ``None`` when the points do not vary both computes (:data:`NO_TRADEOFF`
        is the message to show; :func:`tradeoff_table` shows it for ``None``).

    Raises:
        FrontierError: fewer points than parameters (two slopes and one intercept per size).
    """
    import torch

    used = sorted((p for p in points if p.test_compute is not None), key=_order)
    if len({p.test_compute for p in used}) < 2 or len({p.compute for p in used}) < 2:
        return None
    sizes = sorted({p.size for p in used})
    names = ["train_slope", "test_slope", *(f"intercept[{n}]" for n in sizes)]
    if len(used) < len(names):
        message = (
            f"fit_tradeoff needs at least {len(names)} points with a test_compute"
            f" ({', '.join(names)}), got {len(used)}: rate agents at more search budgets"
        )
        raise FrontierError(message)
    columns = [[math.log10(p.compute), math.log10(p.test_compute or 1.0)] for p in used]
    rows = torch.cat([torch.tensor(columns), torch.zeros(len(used), len(sizes))], 1).double()
    rows[torch.arange(len(used)), [2 + sizes.index(p.size) for p in used]] = 1.0
    elo = torch.tensor([p.elo for p in used], dtype=torch.float64)
    resampled = _resample_weights(len(used), max(n_bootstrap, 0), seed)
    weights = torch.cat([torch.ones_like(elo)[None], resampled])
    theta = _weighted_solve(rows, elo, weights, torch.zeros(len(weights), len(names)).double())
    exchange = theta[:, :1] / theta[:, 1:2]
    values = torch.cat([theta, exchange], 1)
    params = dict(zip([*names, "exchange"], values[0].tolist(), strict=True))
    return TradeoffFit(
        train_slope=params["train_slope"],
        test_slope=params["test_slope"],
        intercepts={n: params[f"intercept[{n}]"] for n in sizes},
        exchange=params["exchange"],
        params=params,
        intervals=_intervals([*names, "exchange"], values[1:]),
        n_bootstrap=len(weights) - 1,
        n_points=len(used),
    )


def iso_elo_test_compute(fit: TradeoffFit, elo: float, train_compute: float, size: int) -> float:
    """The test-time compute that reaches ``elo`` with ``train_compute`` on board ``size``.

    Raises:
        FrontierError: an unfitted size, or a fit where search does not raise Elo.
    """
    if size not in fit.intercepts:
        raise FrontierError(f"iso_elo_test_compute: size {size} is not in the fit")
    if not fit.test_slope > 0:
        message = f"iso_elo_test_compute: test_slope is {fit.test_slope:.1f}, search buys no Elo"
        raise FrontierError(message)
    trained = fit.train_slope * math.log10(train_compute) + fit.intercepts[size]
    return float(10.0 ** ((elo - trained) / fit.test_slope))


def tradeoff_table(fit: TradeoffFit | None) -> str:
    """The trade-off fit as terminal rows, or why there is none (``fit`` is ``None``)."""
    if fit is None:
        return NO_TRADEOFF
    rows = list(fit.params.items())
    lines = _table(rows, fit.intervals, digits=2)
    lines.append(f"{fit.n_points} points, {fit.n_bootstrap} bootstrap resamples")
    lines.append(
        f"at fixed Elo, 10x training compute replaces {10**fit.exchange:.3g}x test-time compute"
    )
    return "\n".join(lines)
