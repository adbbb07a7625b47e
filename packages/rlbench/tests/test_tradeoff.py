"""The train/test trade-off fit: iso-Elo lines recovered from points made with them."""

from __future__ import annotations

import math
import random

import pytest

from overseer_rlbench.frontier import FrontierError, StudyPoint
from overseer_rlbench.tradeoff import (
    NO_TRADEOFF,
    fit_tradeoff,
    iso_elo_test_compute,
    tradeoff_table,
)


def _one_budget_points() -> list[StudyPoint]:
    """Points that vary training compute only: no trade-off can be read from them."""
    return [
        StudyPoint(5, 10.0**k, 100.0 * k, 100.0 * k - 10, 100.0 * k + 10, f"{k}")
        for k in range(6, 12)
    ]


def tradeoff_points(seed: int) -> list[StudyPoint]:
    """Elo = 400 log10(train) + 400 log10(test) - 4000 (size 5) or - 4600 (size 7), noisy."""
    rng = random.Random(seed)
    points = []
    for size, intercept in ((5, -4000.0), (7, -4600.0)):
        for train in (6.0, 6.5, 7.0, 7.5, 8.0):
            for test in (2.0, 2.5, 3.0, 3.5):
                elo = 400 * train + 400 * test + intercept + rng.gauss(0.0, 15.0)
                points.append(StudyPoint(size, 10**train, elo, elo - 30, elo + 30, "a", 10**test))
    return points


def test_the_tradeoff_recovers_a_decade_for_a_decade() -> None:
    fit = fit_tradeoff(tradeoff_points(0), n_bootstrap=100)
    assert fit is not None
    assert fit.n_points == 40
    low, high = fit.intervals["exchange"]
    assert low <= 1.0 <= high
    assert high - low < 0.2
    assert fit.intercepts[7] - fit.intercepts[5] == pytest.approx(-600.0, abs=40)
    needed = iso_elo_test_compute(fit, 1000.0, 1e7, 5)
    predicted = fit.train_slope * 7 + fit.test_slope * math.log10(needed) + fit.intercepts[5]
    assert predicted == pytest.approx(1000.0)
    table = tradeoff_table(fit)
    assert "exchange" in table
    assert "10x training compute replaces" in table


def test_the_tradeoff_needs_points_that_vary_test_compute() -> None:
    assert fit_tradeoff(_one_budget_points()) is None
    one_budget = [p for p in tradeoff_points(0) if p.test_compute == 100.0]
    assert fit_tradeoff(one_budget) is None
    assert tradeoff_table(None) == NO_TRADEOFF
    with pytest.raises(FrontierError, match="at least 4 points with a test_compute"):
        fit_tradeoff(tradeoff_points(0)[:2] + tradeoff_points(0)[24:25])
