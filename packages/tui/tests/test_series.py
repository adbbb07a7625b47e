"""A metric's points: appends, best values, and decimation that keeps what a plot shows."""

from __future__ import annotations

import math
import time

import numpy
import pytest

from overseer_tui.series import AXES, Series, decimate_arrays
from overseer_tui.smoothing import debiased_ema

T0 = 1_800_000_000.0
NAN = float("nan")


def make_series(steps: numpy.ndarray, times: numpy.ndarray, values: numpy.ndarray) -> Series:
    series = Series("loss")
    for step, t, value in zip(steps.tolist(), times.tolist(), values.tolist(), strict=True):
        series.append(step, t, value)
    return series


def random_points(rng: numpy.random.Generator, count: int) -> tuple[numpy.ndarray, ...]:
    """Sorted steps (with repeats) and times, values with NaN, infinities and ties."""
    steps = numpy.sort(rng.integers(0, count, count)).astype(float)
    times = T0 + 0.1 + numpy.cumsum(rng.random(count))
    values = rng.normal(size=count)
    values[rng.random(count) < 0.05] = NAN
    values[rng.random(count) < 0.01] = math.inf
    values[rng.random(count) < 0.1] = 0.5
    return steps, times, values


def column_summary(
    xs: numpy.ndarray, ys: numpy.ndarray, x_lo: float, x_hi: float, columns: int
) -> list[tuple[float, float] | None]:
    """Per column of [x_lo, x_hi]: the lowest and highest finite y, found by brute force."""
    summary: list[tuple[float, float] | None] = []
    edges = x_lo + (x_hi - x_lo) * (numpy.arange(columns + 1) / columns)
    for column in range(columns):
        inside = (xs >= edges[column]) & (xs <= x_hi)
        if column + 1 < columns:
            inside &= xs < edges[column + 1]
        finite = ys[inside & numpy.isfinite(ys)]
        summary.append((finite.min(), finite.max()) if len(finite) else None)
    return summary


def assert_same_points(got: tuple[numpy.ndarray, ...], want: tuple[numpy.ndarray, ...]) -> None:
    numpy.testing.assert_array_equal(got[0], want[0])
    numpy.testing.assert_array_equal(got[1], want[1])  # NaN == NaN for this assertion


def test_append_keeps_latest_and_best_over_finite_values() -> None:
    empty = Series("loss")
    assert len(empty) == 0
    assert empty.latest is None
    assert empty.best("min") is None
    series = Series("loss")
    for step, value in enumerate([3.0, NAN, 1.5, math.inf, -math.inf, 2.0]):
        series.append(step, T0 + step, value)
    assert len(series) == 6
    assert series.latest == 2.0
    assert series.best("min") == 1.5
    assert series.best("max") == 3.0
    series.append(6, T0 + 6, NAN)
    latest = series.latest
    assert latest is not None
    assert math.isnan(latest)  # a diverged run shows nan, not its last number


def test_best_refuses_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match=r"'mean'.*'min' or 'max'"):
        Series("loss").best("mean")  # type: ignore[arg-type]


def test_axes_give_steps_relative_and_wall_time() -> None:
    series = Series("loss")
    for step, t, value in [(10, T0 + 5, 1.0), (20, T0 + 7.5, 0.5), (30, T0 + 12, 0.25)]:
        series.append(step, t, value)
    assert series.x_values("step").tolist() == [10, 20, 30]
    assert series.x_values("relative").tolist() == [0.0, 2.5, 7.0]
    assert series.x_values("wall").tolist() == [T0 + 5, T0 + 7.5, T0 + 12]
    assert series.y_values().tolist() == [1.0, 0.5, 0.25]
    assert series.x_bounds("step") == (10, 30)
    assert series.x_bounds("relative") == (0.0, 7.0)
    assert series.x_bounds("wall") == (T0 + 5, T0 + 12)
    assert AXES == ("step", "relative", "wall")


def test_x_bounds_of_an_empty_series_is_none_and_an_unknown_axis_is_refused() -> None:
    series = Series("loss")
    assert series.x_bounds("step") is None
    with pytest.raises(ValueError, match=r"'epoch'.*step, relative, wall"):
        series.x_values("epoch")


def test_appending_after_reading_arrays_still_works() -> None:
    series = make_series(numpy.arange(500.0), T0 + numpy.arange(500.0), numpy.ones(500))
    kept = [series.x_values("step"), series.y_values(), *series.decimate("step", 0, 500, 10)]
    series.append(500, T0 + 500, 2.0)  # no BufferError: nothing returned pins the storage
    assert len(series) == 501
    assert kept[1].tolist() == [1.0] * 500


def test_reset_forgets_every_point() -> None:
    series = make_series(numpy.arange(300.0), T0 + numpy.arange(300.0), numpy.arange(300.0))
    series.decimate("step", 0, 300, 20, smoothing=0.6)
    series.reset()
    assert len(series) == 0
    assert series.best("max") is None
    assert series.decimate("step", 0, 300, 20)[0].size == 0
    series.append(1, T0, 5.0)
    assert series.decimate("step", 0, 300, 20, smoothing=0.6)[1].tolist() == [5.0]


@pytest.mark.parametrize("columns", [1, 3, 16, 80])
def test_decimate_keeps_each_columns_extremes_and_the_ends(columns: int) -> None:
    rng = numpy.random.default_rng(columns)
    for _ in range(6):
        points = random_points(rng, int(rng.integers(2 * columns + 1, 3000)))
        series = make_series(*points)
        for axis in AXES:
            xs, ys = series.x_values(axis), points[2]
            ranges = [(xs[0], xs[-1]), tuple(numpy.sort(rng.uniform(xs[0] - 1, xs[-1] + 1, 2)))]
            ranges.append((xs[len(xs) // 4], xs[-len(xs) // 5]))  # ends on points
            for x_lo, x_hi in ranges:
                got = series.decimate(axis, x_lo, x_hi, columns)
                assert_same_points(got, decimate_arrays(xs, ys, x_lo, x_hi, columns))
                assert len(got[0]) <= 2 * columns + 2
                inside = numpy.flatnonzero((xs >= x_lo) & (xs <= x_hi))
                if len(inside) > 2 * columns:
                    assert got[0][0] == xs[inside[0]]
                    assert got[0][-1] == xs[inside[-1]]
                    assert column_summary(*got, x_lo, x_hi, columns) == column_summary(
                        xs, ys, x_lo, x_hi, columns
                    )


def test_decimate_returns_a_small_range_whole() -> None:
    series = make_series(numpy.arange(100.0), T0 + numpy.arange(100.0), numpy.arange(100.0))
    xs, ys = series.decimate("step", 10, 29, columns=10)
    assert xs.tolist() == list(range(10, 30))
    assert ys.tolist() == list(range(10, 30))
    assert series.decimate("step", 200, 300, 10)[0].size == 0
    assert series.decimate("step", 50, 40, 10)[0].size == 0


def test_decimate_refuses_zero_columns() -> None:
    with pytest.raises(ValueError, match="columns=0"):
        Series("loss").decimate("step", 0, 1, 0)


def test_pyramid_extended_on_append_equals_a_fresh_build() -> None:
    rng = numpy.random.default_rng(7)
    steps, times, values = random_points(rng, 3000)
    growing = Series("loss")
    for start, stop in [(0, 1), (1, 200), (200, 201), (201, 1024), (1024, 1777), (1777, 3000)]:
        for index in range(start, stop):
            growing.append(steps[index], times[index], values[index])
        growing.decimate("step", steps[0], steps[stop - 1], 40)  # extends the pyramid
        growing.decimate("step", steps[0], steps[stop - 1], 40, smoothing=0.9)
    fresh = make_series(steps, times, values)
    for _ in range(30):
        x_lo, x_hi = numpy.sort(rng.uniform(0, 3000, 2))
        columns = int(rng.integers(1, 200))
        assert_same_points(
            growing.decimate("step", x_lo, x_hi, columns),
            fresh.decimate("step", x_lo, x_hi, columns),
        )


def test_decimating_a_growing_series_frame_after_frame_matches_a_fresh_reduction() -> None:
    rng = numpy.random.default_rng(8)
    steps, times, values = random_points(rng, 6000)
    values[2000:2600] = NAN  # columns with no finite value, then with some again
    values = numpy.round(values, 1)  # many ties: the first of equals must stay the one kept
    series = make_series(steps[:4000], times[:4000], values[:4000])
    count = 4000
    while count < 5500:
        burst = 40 if count % 7 == 0 else 1  # mostly a point a frame, as a live run gives
        for index in range(count, count + burst):
            series.append(steps[index], times[index], values[index])
        count += burst
        x_hi = steps[count - 1]
        x_lo = x_hi / 3 if count % 50 < 25 else 0.0  # a window that moves, then jumps
        for smoothing, ys in ((0.0, values), (0.6, debiased_ema(values[:count], 0.6)[0])):
            got = series.decimate("step", x_lo, x_hi, 40, smoothing=smoothing)
            want = decimate_arrays(steps[:count], ys[:count], x_lo, x_hi, 40)
            numpy.testing.assert_array_equal(got[0], want[0])
            numpy.testing.assert_allclose(got[1], want[1], rtol=1e-12)


def test_decimate_cost_barely_grows_with_length() -> None:
    def fastest_decimation(series: Series, count: int) -> float:
        durations = []
        for _ in range(25):
            start = time.perf_counter()
            series.decimate("step", 0, count, 50)
            durations.append(time.perf_counter() - start)
        return min(durations)  # the least disturbed by other work on the machine

    rng = numpy.random.default_rng(0)
    durations = []
    for count in (2**8, 2**18):  # 1024 times more points
        series = make_series(
            numpy.arange(count, dtype=float), T0 + numpy.arange(count), rng.normal(size=count)
        )
        series.decimate("step", 0, count, 50)  # builds the pyramid once
        durations.append(fastest_decimation(series, count))
    # O(n) work would make this ratio several hundred; O(log n) keeps it near 3.
    assert durations[1] / durations[0] < 10


def test_unsorted_x_falls_back_to_a_sort_refreshed_on_append() -> None:
    rng = numpy.random.default_rng(11)
    steps = rng.permutation(2000).astype(float)
    steps[::50] = NAN
    times = T0 + rng.random(2000) * 100
    values = rng.normal(size=2000)
    series = make_series(steps, times, values)
    for axis in AXES:
        xs = series.x_values(axis)
        x_lo, x_hi = numpy.nanquantile(xs, [0.1, 0.8])
        for columns in (5, 64):
            assert_same_points(
                series.decimate(axis, x_lo, x_hi, columns),
                decimate_arrays(xs, values, x_lo, x_hi, columns),
            )
    series.append(1000.5, T0 + 50, 1e6)  # a new highest point, inside the range
    xs, ys = series.decimate("step", 0, 2000, 10)
    assert (1000.5, 1e6) in zip(xs.tolist(), ys.tolist(), strict=True)


@pytest.mark.parametrize("shuffled", [False, True])
def test_decimate_each_gives_what_decimate_gives_for_each_weight(shuffled: bool) -> None:
    rng = numpy.random.default_rng(12)
    steps, times, values = random_points(rng, 5000)
    if shuffled:
        steps = rng.permutation(steps)
    series = make_series(steps, times, values)
    weights = (0.0, 0.9, 0.6)
    for axis in AXES:
        x_lo, x_hi = numpy.nanquantile(series.x_values(axis), [0.05, 0.9])
        for columns in (3, 70):
            lines = series.decimate_each(axis, x_lo, x_hi, columns, weights)
            assert len(lines) == len(weights)
            for line, weight in zip(lines, weights, strict=True):
                alone = series.decimate(axis, x_lo, x_hi, columns, smoothing=weight)
                assert_same_points(line, alone)
    assert [len(xs) for xs, _ in series.decimate_each("step", 1, 0, 10, weights)] == [0, 0, 0]


def test_smoothed_decimation_reduces_the_smoothed_values() -> None:
    rng = numpy.random.default_rng(5)
    steps, times, values = random_points(rng, 2500)
    series = make_series(steps[:1000], times[:1000], values[:1000])
    series.decimate("step", 0, 2500, 30, smoothing=0.9)  # caches the smoothing of 1000
    for index in range(1000, 2500):
        series.append(steps[index], times[index], values[index])
    got = series.decimate("step", 0, 2500, 30, smoothing=0.9)
    smoothed, _ = debiased_ema(values, 0.9)  # recomputed over every point at once
    want = decimate_arrays(steps, smoothed, 0, 2500, 30)
    numpy.testing.assert_array_equal(got[0], want[0])
    numpy.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    raw_ys = series.decimate("step", 0, 2500, 30)[1]
    smoothed_ys = got[1]
    # Smoothing pulls in the extremes; the raw values are still there, cached apart.
    assert raw_ys[numpy.isfinite(raw_ys)].max() > 2 * smoothed_ys[numpy.isfinite(smoothed_ys)].max()


def test_smoothing_done_elsewhere_is_adopted_and_extended() -> None:
    rng = numpy.random.default_rng(6)
    steps, times, values = random_points(rng, 2500)
    series = make_series(steps[:1000], times[:1000], values[:1000])
    task = series.smoothing_task(0.9)  # copies the 1000 values now
    for index in range(1000, 2500):  # points keep coming while the task runs
        series.append(steps[index], times[index], values[index])
    assert not series.has_smoothed(0.9)
    assert series.adopt_smoothed(task())
    assert series.has_smoothed(0.9)
    got = series.decimate("step", 0, 2500, 30, smoothing=0.9)
    smoothed, _ = debiased_ema(values, 0.9)
    want = decimate_arrays(steps, smoothed, 0, 2500, 30)
    numpy.testing.assert_array_equal(got[0], want[0])
    numpy.testing.assert_allclose(got[1], want[1], rtol=1e-12)


def test_smoothing_of_points_since_forgotten_is_not_adopted() -> None:
    series = make_series(numpy.arange(10.0), T0 + numpy.arange(10.0), numpy.ones(10))
    task = series.smoothing_task(0.6)
    series.reset()
    for step in range(20):
        series.append(float(step), T0 + step, 5.0)
    assert not series.adopt_smoothed(task())
    assert not series.has_smoothed(0.6)
    # The ones of the first points did not make it into the average of the new fives.
    assert series.decimate("step", 0, 20, 4, smoothing=0.6)[1] == pytest.approx(5.0, rel=1e-12)
    with pytest.raises(ValueError, match=r"smoothing weight 1\.5"):
        series.smoothing_task(1.5)


def test_smoothing_weight_is_checked() -> None:
    series = make_series(numpy.arange(10.0), T0 + numpy.arange(10.0), numpy.ones(10))
    with pytest.raises(ValueError, match=r"smoothing weight 1\.0"):
        series.decimate("step", 0, 10, 2, smoothing=1.0)


def test_relative_axis_places_points_exactly_at_column_edges() -> None:
    # Every edge lies 1e-9 past a point: T0 + edge rounds onto that point, so searching
    # wall times alone would put each such point one column too far right.
    series = make_series(numpy.arange(100.0), T0 + numpy.arange(100.0), numpy.arange(100.0))
    xs, ys = series.decimate("relative", 1e-9, 50 + 1e-9, columns=5)
    want = decimate_arrays(series.x_values("relative"), series.y_values(), 1e-9, 50 + 1e-9, 5)
    assert_same_points((xs, ys), want)
    assert xs.tolist() == [1, 10, 11, 20, 21, 30, 31, 40, 41, 50]
