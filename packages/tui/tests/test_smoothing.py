"""TensorBoard's debiased EMA: the values by hand, piece by piece, and what it refuses."""

from __future__ import annotations

import math

import numpy
import pytest

from overseer_tui.smoothing import SMOOTHING_STEPS, EmaState, debiased_ema


def reference_ema(values: list[float], weight: float) -> list[float]:
    """The point-by-point loop that TensorBoard runs."""
    last, count, out = 0.0, 0, []
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        last = last * weight + (1 - weight) * value
        count += 1
        out.append(last / (1 - weight**count))
    return out


def test_values_computed_by_hand() -> None:
    # w = 0.5: averages 0.5, 1.25, 2.125 divided by 0.5, 0.75, 0.875
    smoothed, state = debiased_ema([1.0, 2.0, 3.0], 0.5)
    assert smoothed.tolist() == pytest.approx([1.0, 5 / 3, 17 / 7])
    assert state == EmaState(last=2.125, count=3)


def test_the_first_point_is_not_pulled_towards_zero() -> None:
    smoothed, _ = debiased_ema([10.0], 0.99)
    assert smoothed[0] == pytest.approx(10.0)


def test_weight_zero_returns_the_values() -> None:
    values = [3.0, -1.0, 7.5]
    assert debiased_ema(values, 0.0)[0].tolist() == values


@pytest.mark.parametrize("weight", SMOOTHING_STEPS)
def test_matches_the_point_by_point_loop_over_many_blocks(weight: float) -> None:
    values = numpy.random.default_rng(3).normal(size=1000).cumsum()
    values[::17] = numpy.nan
    smoothed, _ = debiased_ema(values, weight)
    numpy.testing.assert_allclose(smoothed, reference_ema(values.tolist(), weight), rtol=1e-12)


@pytest.mark.parametrize("weight", SMOOTHING_STEPS)
def test_long_finite_series_in_pieces_across_the_debiasing_horizon(weight: float) -> None:
    # At 0.99 the debiasing divides the first ~3,900 averages only; the pieces end on both
    # sides of that count, and are long enough for several levels of blocks.
    values = numpy.random.default_rng(5).normal(size=20_000).cumsum()
    expected = reference_ema(values.tolist(), weight)
    pieces, state = [], None
    for start, stop in ((0, 3000), (3000, 5000), (5000, 20_000)):
        part, state = debiased_ema(values[start:stop], weight, state)
        pieces.append(part)
    numpy.testing.assert_allclose(numpy.concatenate(pieces), expected, rtol=1e-12)


def test_continuing_from_a_state_equals_one_call() -> None:
    values = numpy.random.default_rng(4).normal(size=300)
    whole, whole_state = debiased_ema(values, 0.9)
    pieces, state = [], None
    for start, stop in ((0, 1), (1, 70), (70, 200), (200, 200), (200, 300)):
        part, state = debiased_ema(values[start:stop], 0.9, state)
        pieces.append(part)
    numpy.testing.assert_allclose(numpy.concatenate(pieces), whole, rtol=1e-12)
    assert state is not None
    assert state.count == whole_state.count == 300
    assert state.last == pytest.approx(whole_state.last, rel=1e-12)


def test_non_finite_values_pass_through_and_leave_the_average_alone() -> None:
    nan, inf = float("nan"), float("inf")
    smoothed, state = debiased_ema([1.0, nan, inf, 3.0, -inf], 0.5)
    expected, _ = debiased_ema([1.0, 3.0], 0.5)
    assert math.isnan(smoothed[1])
    assert smoothed[2] == inf
    assert smoothed[4] == -inf
    assert [smoothed[0], smoothed[3]] == expected.tolist()
    assert state.count == 2


def test_only_non_finite_values_keep_the_state() -> None:
    start = EmaState(last=1.5, count=4)
    smoothed, state = debiased_ema([float("nan")], 0.5, start)
    assert math.isnan(smoothed[0])
    assert state == start


def test_the_input_is_not_modified() -> None:
    values = numpy.array([1.0, 2.0])
    debiased_ema(values, 0.6)
    assert values.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("weight", [1.0, -0.1, 1.5, float("nan")])
def test_a_weight_outside_zero_to_one_is_refused_in_one_line(weight: float) -> None:
    with pytest.raises(ValueError, match=r"smoothing weight .* give a number in \[0, 1\)") as info:
        debiased_ema([1.0], weight)
    assert repr(weight) in str(info.value)
    assert "\n" not in str(info.value)


def test_the_steps_the_key_cycles_through_start_with_no_smoothing() -> None:
    assert SMOOTHING_STEPS[0] == 0.0
    assert all(0.0 <= weight < 1.0 for weight in SMOOTHING_STEPS)
    assert list(SMOOTHING_STEPS) == sorted(SMOOTHING_STEPS)
