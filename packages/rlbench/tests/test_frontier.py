"""The frontier fit recovers boardlaw's law from points made with it, and says what it cannot."""

from __future__ import annotations

import random

import pytest

from overseer_rlbench.errors import RLBenchError
from overseer_rlbench.frontier import (
    FrontierError,
    StudyPoint,
    elo_at,
    fit_frontier,
    frontier_points,
    frontier_table,
)

# Shaped like the paper's fit: bigger boards need more compute and reach a higher plateau.
TRUTH = {
    "slope": 500.0,
    "offset_per_size": -600.0,
    "offset_intercept": -2200.0,
    "plateau_per_size": 250.0,
    "plateau_intercept": -300.0,
    "random_level": 0.0,
}


def law(log_compute: float, size: int) -> float:
    incline = TRUTH["slope"] * log_compute + TRUTH["offset_per_size"] * size
    plateau = TRUTH["plateau_per_size"] * size + TRUTH["plateau_intercept"]
    return min(max(incline + TRUTH["offset_intercept"], TRUTH["random_level"]), plateau)


def synthetic(
    seed: int, sizes: tuple[int, ...] = (3, 5, 7), noise: float = 20.0
) -> list[StudyPoint]:
    """Points every quarter decade, from 1.5 decades below the incline to 1.5 above it."""
    rng = random.Random(seed)
    points = []
    for size in sizes:
        offset = TRUTH["offset_per_size"] * size + TRUTH["offset_intercept"]
        start = (TRUTH["random_level"] - offset) / TRUTH["slope"] - 1.5
        end = (TRUTH["plateau_per_size"] * size + TRUTH["plateau_intercept"] - offset) / 500 + 1.5
        for step in range(round((end - start) / 0.25) + 1):
            x = start + 0.25 * step
            elo = law(x, size) + rng.gauss(0.0, noise)
            points.append(StudyPoint(size, 10.0**x, elo, elo - 40, elo + 40, f"{size}@{x:.2f}"))
    return points


def test_exact_points_give_the_law_back() -> None:
    fit = fit_frontier(synthetic(0, noise=0.0), n_bootstrap=0, frontier_only=False)
    for name, value in TRUTH.items():
        assert fit.params[name] == pytest.approx(value, abs=1e-6), name
    assert fit.rms_residual < 1e-6
    assert fit.plateaus[5] == pytest.approx(950.0)
    assert fit.offsets[7] == pytest.approx(-6400.0)


def test_noisy_points_give_the_law_back_within_the_intervals() -> None:
    covered = dict.fromkeys(TRUTH, 0)
    for seed in range(8):
        fit = fit_frontier(synthetic(seed), n_bootstrap=60, seed=seed, frontier_only=False)
        assert fit.slope == pytest.approx(500.0, rel=0.06)
        for name, truth in TRUTH.items():
            low, high = fit.intervals[name]
            assert low <= fit.params[name] <= high
            covered[name] += low <= truth <= high
        # Narrow enough to mean something: 20 Elo of noise on 60 points.
        assert fit.intervals["slope"][1] - fit.intervals["slope"][0] < 50
        assert fit.intervals["plateau[5]"][1] - fit.intervals["plateau[5]"][0] < 40
    # Nominal 95%: 6 or more of 8 datasets covered, short of a 1-in-100 bad draw.
    assert all(count >= 6 for count in covered.values()), covered


def test_the_fit_uses_the_frontier_only() -> None:
    frontier = synthetic(1)
    # Small networks: they stall 300 Elo under the frontier, at a compute where it is higher.
    stalled = [
        StudyPoint(p.size, p.compute * 3, p.elo - 300, p.elo - 340, p.elo - 260, "small")
        for p in frontier
        if p.elo > 400
    ]
    clean = fit_frontier(frontier, n_bootstrap=20)
    mixed = fit_frontier(frontier + stalled, n_bootstrap=20)
    assert mixed.params == clean.params
    assert mixed.intervals == clean.intervals
    assert any("compute frontier" in note for note in mixed.notes)
    every_point = fit_frontier(frontier + stalled, n_bootstrap=0, frontier_only=False)
    assert abs(every_point.plateaus[7] - clean.plateaus[7]) > 50


def test_frontier_points_is_a_running_maximum_per_size() -> None:
    def point(size: int, compute: float, elo: float) -> StudyPoint:
        return StudyPoint(size, compute, elo, elo, elo, f"{size}/{compute:g}/{elo:g}")

    points = [
        point(5, 4.0, 300.0),
        point(5, 1.0, 100.0),
        point(5, 2.0, 90.0),  # beaten by the cheaper 100
        point(5, 3.0, 100.0),  # only ties it
        point(5, 3.0, 250.0),  # same compute as the tie, better
        point(5, 5.0, 300.0),  # ties the cheaper 300
        point(3, 9.0, -50.0),  # the first of its size is always on the frontier
    ]
    labels = [p.label for p in frontier_points(points)]
    assert labels == ["3/9/-50", "5/1/100", "5/3/250", "5/4/300"]


def test_one_board_size_fits_its_own_offset_and_plateau() -> None:
    fit = fit_frontier(synthetic(2, sizes=(5,)), n_bootstrap=50, frontier_only=False)
    assert not fit.per_size_linear
    assert set(fit.params) == {"slope", "offset[5]", "plateau[5]", "random_level"}
    assert fit.notes[0].startswith("one board size (5)")
    assert fit.slope == pytest.approx(500.0, rel=0.06)
    low, high = fit.intervals["plateau[5]"]
    assert low <= 950.0 <= high
    assert elo_at(fit, 1e20, 5) == pytest.approx(fit.plateaus[5])
    with pytest.raises(FrontierError, match="cannot extrapolate to 7"):
        elo_at(fit, 1e12, 7)


def test_too_few_points_name_how_many_are_needed() -> None:
    three = synthetic(0, sizes=(5,))[8:11]
    with pytest.raises(FrontierError, match=r"at least 4 frontier points.* got 3") as raised:
        fit_frontier(three)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, RLBenchError)
    assert "\n" not in str(raised.value)
    two_sizes = synthetic(0, sizes=(3,))[7:10] + synthetic(0, sizes=(5,))[7:9]
    with pytest.raises(FrontierError, match=r"at least 6 frontier points.* got 5"):
        fit_frontier(two_sizes)
    with pytest.raises(FrontierError, match="needs study points, got none"):
        fit_frontier([])
    # A known random level is one parameter less.
    assert fit_frontier(three, n_bootstrap=0, random_level=0.0).n_points == 3


def test_a_known_random_level_is_not_fitted() -> None:
    fit = fit_frontier(synthetic(3), n_bootstrap=20, random_level=0.0, frontier_only=False)
    assert "random_level" not in fit.params
    assert fit.random_level == 0.0
    assert "random level fixed at 0 Elo" in fit.notes
    assert elo_at(fit, 1.0, 7) == 0.0


def test_parameters_no_point_constrains_are_named() -> None:
    incline_only = [p for p in synthetic(0, noise=0.0) if 50 < p.elo < 400]
    fit = fit_frontier(incline_only, n_bootstrap=10)
    assert fit.slope == pytest.approx(500.0)
    joined = " ".join(fit.notes)
    assert "no point reaches a plateau" in joined
    assert "random_level is not determined" in joined
    assert elo_at(fit, 10**8.5, 3) == pytest.approx(law(8.5, 3))


def test_elo_at_follows_the_clamped_law_and_extrapolates_in_size() -> None:
    fit = fit_frontier(synthetic(0, noise=0.0), n_bootstrap=0, frontier_only=False)
    for size in (3, 5, 7, 9):
        for x in (6.0, 9.0, 11.0, 13.5, 18.0):
            assert elo_at(fit, 10.0**x, size) == pytest.approx(law(x, size), abs=1e-6)
    with pytest.raises(FrontierError, match="compute 0"):
        elo_at(fit, 0.0, 5)


def test_resampling_is_seeded() -> None:
    points = synthetic(4)
    first = fit_frontier(points, n_bootstrap=30, seed=1, frontier_only=False)
    again = fit_frontier(points, n_bootstrap=30, seed=1, frontier_only=False)
    other = fit_frontier(points, n_bootstrap=30, seed=2, frontier_only=False)
    assert first.intervals == again.intervals
    assert first.intervals != other.intervals
    assert first.params == other.params


def test_the_table_has_a_row_per_parameter_and_size() -> None:
    fit = fit_frontier(synthetic(5), n_bootstrap=20, frontier_only=False)
    lines = frontier_table(fit).splitlines()
    assert lines[0].split() == ["parameter", "value", "95%", "interval"]
    names = [line.split()[0] for line in lines[1:13]]
    assert names == [*TRUTH, "offset[3]", "offset[5]", "offset[7]"] + [
        f"plateau[{n}]" for n in (3, 5, 7)
    ]
    slope_row = lines[1].split()
    assert float(slope_row[1]) == pytest.approx(fit.slope, abs=0.05)
    assert slope_row[2] == f"[{fit.intervals['slope'][0]:.1f},"
    assert f"{fit.n_points} points" in lines[13]
    no_intervals = frontier_table(fit_frontier(synthetic(5), n_bootstrap=0))
    assert no_intervals.splitlines()[1].endswith("  -")


def test_points_at_several_search_budgets_fit_the_most_common() -> None:
    points = synthetic(6)
    stronger = [
        StudyPoint(p.size, p.compute, p.elo + 200, p.elo + 160, p.elo + 240, "x", 64.0)
        for p in points[:10]
    ]
    fit = fit_frontier(points + stronger, n_bootstrap=0, frontier_only=False)
    reference = fit_frontier(points, n_bootstrap=0, frontier_only=False)
    assert fit.params == reference.params
    assert any("2 test-time budgets" in note for note in fit.notes)


def test_bad_points_are_refused_with_their_label() -> None:
    with pytest.raises(FrontierError, match="'run7': compute 0"):
        StudyPoint(5, 0.0, 10.0, 0.0, 20.0, "run7")
    with pytest.raises(FrontierError, match="low <= elo <= high"):
        StudyPoint(5, 1e9, 10.0, 20.0, 30.0, "run8")
