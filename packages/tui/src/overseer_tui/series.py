"""One metric of one run: cheap to append to, cheap to draw at any zoom.

::

    loss = Series("loss")
    loss.append(step=1, t=1_800_000_000.0, value=2.5)
    loss.append(step=2, t=1_800_000_001.5, value=1.9)
    loss.best("min")  # 1.9, kept up to date while appending
    xs, ys = loss.decimate("step", 0.0, 2.0, columns=80)  # at most 2 * 80 + 2 points

A plot ``columns`` characters wide can show, per column, no more than the lowest and the
highest point; :meth:`Series.decimate` returns just those (and the first and last points of
the range), so drawing costs the same for a thousand points or ten million. When x grows
with the points (steps and times normally do), finding them costs ``O(columns * log n)``:
the series keeps a min/max pyramid (level k holds, for each block of ``2**k`` points from
16 up, its lowest and highest value and where they are), extended as points arrive.
:func:`decimate_arrays` is the plain ``O(n)`` version of the same reduction, which the
tests hold the fast one to.

Smoothing (:mod:`overseer_tui.smoothing`) is computed once per weight, then extended as
points arrive. For a long series that first pass can run in another thread::

    task = loss.smoothing_task(0.9)  # copies the values, here
    part = task()  # in a worker thread: smooths the copy, builds its pyramid
    loss.adopt_smoothed(part)  # back here: decimate(..., smoothing=0.9) is cheap now

Points live in ``array.array("d")``, so building series never imports numpy; numpy loads
at the first call that returns arrays.
"""

from __future__ import annotations

import functools
import math
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from overseer_tui.smoothing import EmaState, check_weight, debiased_ema

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray

    FloatArray = NDArray[numpy.float64]
    IndexArray = NDArray[numpy.intp]

AXES = ("step", "relative", "wall")
"""The x axes a series can be drawn against: its steps, the time since its first point, or
the wall-clock time."""


class Series:
    """One metric of one run: points ``(step, t, value)``, appended in order.

    Non-finite values are kept (a diverging loss shows as ``nan``), but :meth:`best` and the
    per-column extremes of :meth:`decimate` skip them.

    Args:
        name: The metric's name, e.g. ``"loss"`` or ``"train.rate"``.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._generation = -1
        self.reset()

    def reset(self) -> None:
        """Forget every point (the source restarted)."""
        self._steps = _Column()
        self._times = _Column()
        self._values = _Column()
        self._pyramid: _MinMaxPyramid | None = None
        self._smoothed: dict[float, _Smoothed] = {}
        self._reordered: dict[tuple[str, float], _Reordered] = {}
        self._generation += 1  # tells a smoothing task's result which points it saw

    def append(self, step: float, t: float, value: float) -> None:
        """Add one point; amortised O(1)."""
        self._steps.append(step)
        self._times.append(t)
        self._values.append(value)
        if self._reordered:
            self._reordered.clear()  # the sorted copies miss this point

    def __len__(self) -> int:
        return len(self._values.data)

    @property
    def latest(self) -> float | None:
        """The last value appended (even a non-finite one), or None when empty."""
        return self._values.data[-1] if self._values.data else None

    def best(self, mode: Literal["min", "max"]) -> float | None:
        """The lowest (``"min"``) or highest (``"max"``) finite value, or None; O(1)."""
        if mode not in ("min", "max"):
            message = f"best({mode!r}) is not a mode: use 'min' or 'max'"
            raise ValueError(message)
        value = self._values.lowest if mode == "min" else self._values.highest
        return value if math.isfinite(value) else None

    def x_values(self, axis: str) -> FloatArray:
        """A copy of the x of every point on ``axis`` (one of :data:`AXES`).

        A copy, not a view: a numpy view would pin the array and make the next append fail.
        """
        import numpy

        stored_x, offset = self._x_source(axis)
        return numpy.array(stored_x.data, dtype=numpy.float64) - offset

    def y_values(self) -> FloatArray:
        """A copy of every value."""
        import numpy

        return numpy.array(self._values.data, dtype=numpy.float64)

    def x_bounds(self, axis: str) -> tuple[float, float] | None:
        """The lowest and highest finite x on ``axis``, or None when there is none."""
        stored_x, offset = self._x_source(axis)
        if stored_x.lowest > stored_x.highest:
            return None
        return (stored_x.lowest - offset, stored_x.highest - offset)

    def decimate(
        self, axis: str, x_lo: float, x_hi: float, columns: int, *, smoothing: float = 0.0
    ) -> tuple[FloatArray, FloatArray]:
        """The points with x in ``[x_lo, x_hi]`` that a plot ``columns`` wide needs.

        Args:
            axis: One of :data:`AXES`.
            x_lo: The left end of the range, in ``axis`` units.
            x_hi: The right end of the range.
            columns: How many columns split the range (character columns, or finer).
            smoothing: A :func:`~overseer_tui.smoothing.debiased_ema` weight; above 0 the
                smoothed values are reduced instead of the raw ones.

        Returns:
            ``(xs, ys)`` in x order: every point of the range when it holds at most
            ``2 * columns``, else the first and last points of the range and, for each
            column, its lowest and highest finite point (in the order they occur): at most
            ``2 * columns + 2`` points. The same points as :func:`decimate_arrays`.
        """
        return self.decimate_each(axis, x_lo, x_hi, columns, (smoothing,))[0]

    def decimate_each(
        self, axis: str, x_lo: float, x_hi: float, columns: int, smoothings: Sequence[float]
    ) -> list[tuple[FloatArray, FloatArray]]:
        """:meth:`decimate` with each weight of ``smoothings`` (0 for the raw values).

        The lines share where the columns start, found once: a plot drawing a series raw
        and smoothed searches its x once.

        Returns:
            One ``(xs, ys)`` per weight, in the order given.
        """
        import numpy

        stored_x, offset = self._x_source(axis)
        _check_columns(columns)
        if not self._values.data or not x_lo <= x_hi:
            return [(numpy.empty(0), numpy.empty(0)) for _ in smoothings]
        xs = numpy.frombuffer(stored_x.data, dtype=numpy.float64)
        base = "step" if axis == "step" else "wall"
        split: _ColumnSplit | None = None
        lines = []
        for smoothing in smoothings:
            ys = self._y_array(smoothing)
            if stored_x.ordered:
                sorted_xs, pyramid = xs, self._pyramid_for(smoothing, ys)
            else:  # sorted alike whatever the weight: the split holds for each
                sorted_xs, ys, pyramid = self._reordered_for(base, smoothing, xs, ys)
            split = split or _ColumnSplit.of(sorted_xs, offset, (x_lo, x_hi), columns)
            lines.append(split.reduce(sorted_xs, offset, ys, pyramid))
        return lines

    def has_smoothed(self, weight: float) -> bool:
        """Whether the values smoothed with ``weight`` are kept (decimating them is cheap)."""
        return weight == 0.0 or weight in self._smoothed

    def smoothing_task(self, weight: float) -> Callable[[], _Smoothed]:
        """A function that smooths a copy of the values so far, to run in another thread.

        The copy is taken now, on the calling thread. Hand what the function returns to
        :meth:`adopt_smoothed`, on this thread again.

        Raises:
            ValueError: ``weight`` is outside [0, 1).
        """
        import numpy

        check_weight(weight)
        values = numpy.array(self._values.data, dtype=numpy.float64)
        generation = self._generation

        def smooth() -> _Smoothed:
            smoothed, state = debiased_ema(values, weight)
            part = _Smoothed(_Growable(numpy.float64), state, weight=weight)
            part.generation = generation
            part.values.extend(smoothed)
            part.pyramid.extend(part.values.view())
            return part

        return smooth

    def adopt_smoothed(self, part: _Smoothed) -> bool:
        """Keep what a :meth:`smoothing_task` computed, unless the series was reset since or
        already holds that smoothing; the points appended since are smoothed when drawn.
        Tells whether it was kept."""
        if part.generation != self._generation or part.weight in self._smoothed:
            return False
        self._smoothed[part.weight] = part
        self._reordered.clear()
        return True

    def _x_source(self, axis: str) -> tuple[_Column, float]:
        """The stored x of ``axis`` and what to subtract from it."""
        if axis == "step":
            return self._steps, 0.0
        if axis in ("relative", "wall"):
            times = self._times.data
            return self._times, times[0] if axis == "relative" and times else 0.0
        message = f"unknown axis {axis!r}: use one of {', '.join(AXES)}"
        raise ValueError(message)

    def _y_array(self, smoothing: float) -> FloatArray:
        """The values to reduce: the raw ones (a view), or the smoothed ones up to date."""
        import numpy

        raw = numpy.frombuffer(self._values.data, dtype=numpy.float64)
        if smoothing == 0.0:
            return raw
        smoothed = self._smoothed.get(smoothing)
        if smoothed is None:
            values, state = debiased_ema(raw, smoothing)  # raises on a bad weight
            part = _Smoothed(_Growable(numpy.float64), state, weight=smoothing)
            smoothed = self._smoothed[smoothing] = part
            smoothed.values.extend(values)
        elif smoothed.values.size < len(raw):
            new = raw[smoothed.values.size :]
            values, smoothed.state = debiased_ema(new, smoothing, smoothed.state)
            smoothed.values.extend(values)
        return smoothed.values.view()

    def _pyramid_for(self, smoothing: float, ys: FloatArray) -> _MinMaxPyramid:
        """The pyramid over ``ys`` (raw or smoothed), extended to its length."""
        if smoothing == 0.0:
            self._pyramid = pyramid = self._pyramid or _MinMaxPyramid()
        else:
            pyramid = self._smoothed[smoothing].pyramid
        pyramid.extend(ys)
        return pyramid

    def _reordered_for(
        self, base: str, smoothing: float, xs: FloatArray, ys: FloatArray
    ) -> tuple[FloatArray, FloatArray, _MinMaxPyramid]:
        """x not sorted: the points sorted by x with their pyramid, cached until an append."""
        import numpy

        cached = self._reordered.get((base, smoothing))
        if cached is None:
            order = numpy.argsort(xs, kind="stable")
            cached = _Reordered(xs[order], ys[order], _MinMaxPyramid())
            cached.pyramid.extend(cached.ys)
            self._reordered[(base, smoothing)] = cached
        return cached.xs, cached.ys, cached.pyramid


def decimate_arrays(
    xs: Sequence[float] | FloatArray,
    ys: Sequence[float] | FloatArray,
    x_lo: float,
    x_hi: float,
    columns: int,
) -> tuple[FloatArray, FloatArray]:
    """The plain ``O(n)`` reduction that :meth:`Series.decimate` does fast (same result).

    Sorts the points by x (stably), keeps those with x in ``[x_lo, x_hi]``, and when there
    are more than ``2 * columns`` keeps only the first, the last, and each column's lowest
    and highest finite point (the first of equal ones).
    """
    import numpy

    _check_columns(columns)
    order = numpy.argsort(numpy.asarray(xs, dtype=numpy.float64), kind="stable")
    x_sorted = numpy.asarray(xs, dtype=numpy.float64)[order]
    y_sorted = numpy.asarray(ys, dtype=numpy.float64)[order]
    inside = (x_sorted >= x_lo) & (x_sorted <= x_hi)
    x_in, y_in = x_sorted[inside], y_sorted[inside]
    if len(x_in) <= 2 * columns:
        return x_in, y_in
    column_of = numpy.searchsorted(_column_edges(x_lo, x_hi, columns), x_in, side="right") - 1
    column_of = numpy.clip(column_of, 0, columns - 1)
    starts = numpy.searchsorted(column_of, numpy.arange(columns + 1))
    keep = {0, len(x_in) - 1}
    for start, stop in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
        finite = start + numpy.flatnonzero(numpy.isfinite(y_in[start:stop]))
        if len(finite):
            keep.add(int(finite[numpy.argmin(y_in[finite])]))
            keep.add(int(finite[numpy.argmax(y_in[finite])]))
    chosen = sorted(keep)
    return x_in[chosen], y_in[chosen]


def _check_columns(columns: int) -> None:
    if columns < 1:
        message = f"columns={columns} leaves no room to draw: give at least 1"
        raise ValueError(message)


def _column_edges(x_lo: float, x_hi: float, columns: int) -> FloatArray:
    """Where each column starts (and the last one ends): both reductions share these."""
    import numpy

    edges: FloatArray = x_lo + (x_hi - x_lo) * (numpy.arange(columns + 1) / columns)
    return edges


@dataclass(frozen=True)
class _ColumnSplit:
    """Where the columns of a range split points sorted by x (less an offset).

    Attributes:
        first: The index of the range's first point.
        end: One past the index of its last point.
        starts: Each column's first index; None when the range is few enough points to
            keep whole.
    """

    first: int
    end: int
    starts: IndexArray | None

    @classmethod
    def of(
        cls, xs: FloatArray, offset: float, x_range: tuple[float, float], columns: int
    ) -> _ColumnSplit:
        """The split of ``x_range`` into ``columns`` over ``xs`` (sorted)."""
        import numpy

        x_lo, x_hi = x_range
        first = int(_search_shifted(xs, offset, numpy.array([x_lo]), "left")[0])
        end = int(_search_shifted(xs, offset, numpy.array([x_hi]), "right")[0])
        if end - first <= 2 * columns:
            return cls(first, end, None)
        inner_edges = _column_edges(x_lo, x_hi, columns)[1:-1]
        bounds = numpy.clip(_search_shifted(xs, offset, inner_edges, "left"), first, end)
        return cls(first, end, numpy.concatenate(([first], bounds)))

    def reduce(
        self, xs: FloatArray, offset: float, ys: FloatArray, pyramid: _MinMaxPyramid
    ) -> tuple[FloatArray, FloatArray]:
        """:meth:`Series.decimate` of the points ``(xs - offset, ys)``; returns copies."""
        import numpy

        if self.starts is None:
            chosen = numpy.arange(self.first, self.end)
        else:
            stops = numpy.concatenate((self.starts[1:], [self.end]))
            lowest, highest = pyramid.extremes(ys, self.starts, stops)
            found = numpy.concatenate(([self.first, self.end - 1], lowest, highest))
            chosen = numpy.unique(found[found >= 0])
        return xs[chosen] - offset, ys[chosen]


def _search_shifted(
    xs: FloatArray, offset: float, targets: FloatArray, side: Literal["left", "right"]
) -> IndexArray:
    """Like ``searchsorted(xs - offset, targets, side)`` without computing ``xs - offset``.

    Searching ``targets + offset`` may land a few places off, since the two subtractions
    round differently; the exact comparisons then move each answer into place.
    """
    import numpy

    found = numpy.searchsorted(xs, targets + offset, side=side)
    if offset == 0.0:
        return found
    last = len(xs) - 1

    def shifted(index: IndexArray) -> FloatArray:
        at: FloatArray = xs[numpy.clip(index, 0, last)] - offset
        return at

    # The answer is the first index whose shifted x is past the target (>= for "left",
    # > for "right"); NaN, sorted last, is never before nor past a target.
    while True:
        before = shifted(found - 1)
        past = before >= targets if side == "left" else before > targets
        if not (step_back := (found > 0) & past).any():
            break
        found = found - step_back
    while True:
        at = shifted(found)
        short = at < targets if side == "left" else at <= targets
        if not (step_ahead := (found <= last) & short).any():
            break
        found = found + step_ahead
    return found


class _Column:
    """One coordinate of every point, with what is cheapest to learn while appending.

    Attributes:
        data: The numbers, in the order appended.
        lowest: The lowest finite one (inf while there is none).
        highest: The highest finite one (-inf while there is none).
        ordered: Whether they never decreased (a NaN ends that).
    """

    __slots__ = ("data", "highest", "last", "lowest", "ordered")

    def __init__(self) -> None:
        self.data = array("d")
        self.lowest, self.highest = math.inf, -math.inf
        self.last = -math.inf
        self.ordered = True

    def append(self, x: float) -> None:
        # Flat comparisons (false for NaN) rather than helper calls: this runs per point.
        self.data.append(x)
        if not x >= self.last:
            self.ordered = False
        self.last = x
        if x < self.lowest and x > -math.inf:
            self.lowest = x
        if x > self.highest and x < math.inf:
            self.highest = x


class _Growable:
    """A numpy array that grows geometrically: amortised O(1) per appended element."""

    def __init__(self, dtype: Any) -> None:
        import numpy

        self._data: NDArray[Any] = numpy.empty(64, dtype=dtype)
        self.size = 0

    def extend(self, values: NDArray[Any]) -> None:
        import numpy

        needed = self.size + len(values)
        if needed > len(self._data):
            # Room to spare after a large first extend too: the next points then append
            # without copying the whole array at once.
            room = max(needed + needed // 4, 2 * len(self._data))
            grown = numpy.empty(room, dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : needed] = values
        self.size = needed

    def view(self) -> NDArray[Any]:
        return self._data[: self.size]


_BASE_LEVEL = 4
"""The pyramid's smallest blocks hold ``2**_BASE_LEVEL`` points."""


class _MinMaxPyramid:
    """For each level k >= :data:`_BASE_LEVEL` and each whole block of ``2**k`` points, the
    block's lowest and highest finite value and where they are (the first among equals).

    A range is covered by at most two blocks per level (the usual bottom-up decomposition)
    plus fewer than ``2**_BASE_LEVEL`` points at each end, read directly: its extremes cost
    O(log n) look-ups, a block's in one small record. Starting at blocks of 16 points keeps
    the pyramid to about 4 bytes a point.

    The last answer is kept: while a plot follows a growing series its columns move by a
    point or so between frames, and a column whose extremes are still inside it needs
    only the few points it gained.
    """

    def __init__(self) -> None:
        self.size = 0
        self._levels: list[_Growable] = []  # level _BASE_LEVEL + i at index i
        self._last: _Answer | None = None

    def extend(self, ys: FloatArray) -> None:
        """Add the blocks completed by the points of ``ys`` beyond those already seen."""
        self.size = len(ys)
        index = 0
        while want := self.size >> (_BASE_LEVEL + index):
            if len(self._levels) == index:
                self._levels.append(_Growable(_summary_dtype()))
            have = self._levels[index].size
            if want <= have:
                break  # no new block here, so none above either
            if index == 0:
                self._levels[0].extend(_summarise_points(ys, have, want))
            else:
                below = self._levels[index - 1].view()[2 * have : 2 * want]
                self._levels[index].extend(_summarise_pairs(below))
            index += 1

    def extremes(
        self, ys: FloatArray, starts: IndexArray, stops: IndexArray
    ) -> tuple[IndexArray, IndexArray]:
        """For each range ``[start, stop)``, the index of its lowest and highest finite
        value (-1 when it has none).

        ``ys`` holds the points the pyramid was extended with: later calls may add points
        at the end, never change one.
        """
        import numpy

        low, high = starts.astype(numpy.intp), stops.astype(numpy.intp)
        if self._last is not None and len(self._last.starts) == len(low):
            lowest, highest, redo = self._last.moved_to(ys, low, high)
        else:
            lowest = numpy.full(len(low), -1, dtype=numpy.intp)
            highest = lowest.copy()
            redo = numpy.ones(len(low), dtype=bool)
        if redo.any():
            rows = numpy.flatnonzero(redo)
            lowest[rows], highest[rows] = self._covered_extremes(ys, low[rows], high[rows])
        self._last = _Answer(low, high, lowest.copy(), highest.copy())
        return lowest, highest

    def _covered_extremes(
        self, ys: FloatArray, low: IndexArray, high: IndexArray
    ) -> tuple[IndexArray, IndexArray]:
        """:meth:`extremes` from the blocks covering each range."""
        import numpy

        first, end = -(-low >> _BASE_LEVEL), high >> _BASE_LEVEL  # the whole blocks inside
        inner_low = numpy.minimum(first << _BASE_LEVEL, high)
        inner_high = numpy.maximum(end << _BASE_LEVEL, inner_low)
        # In the order of the points they stand for, so that the first of equal extremes
        # is the first one argmin or argmax finds.
        candidates = (
            _Candidates.of_points(ys, low, inner_low),
            self._covering_blocks(first, end),
            _Candidates.of_points(ys, inner_high, high),
        )
        return _first_extreme(candidates, lower=True), _first_extreme(candidates, lower=False)

    def _covering_blocks(self, first: IndexArray, end: IndexArray) -> _Candidates:
        """The blocks covering the base blocks ``[first, end)`` of each range, in x order.

        At level k above the base the range runs from block ``ceil(first / 2**k)`` to
        ``floor(end / 2**k)``, and takes the block at each odd end.
        """
        import numpy

        shifts = numpy.arange(int((end - first).max(initial=0)).bit_length())
        lows = -(-first[:, None] >> shifts)
        highs = end[:, None] >> shifts
        low_odd = lows & 1
        take_low = (lows < highs) & (low_odd == 1)
        take_high = (lows + low_odd < highs) & (highs & 1 == 1)
        # Block 0 exists at every level looked at: a harmless look-up where none is taken.
        blocks = numpy.stack((lows * take_low, (highs - 1) * take_high), axis=2)
        found = [
            numpy.take(self._levels[level].view(), blocks[:, level]) for level in shifts.tolist()
        ]
        # Left blocks rise in level, then right blocks fall: that is their order in x.
        ordered = [part[:, :1] for part in found] + [part[:, 1:] for part in reversed(found)]
        taken = numpy.concatenate((take_low, take_high[:, ::-1]), axis=1)
        return _Candidates.of_blocks(ordered, taken, len(first))


@functools.cache
def _summary_dtype() -> numpy.dtype[Any]:
    """One block of the pyramid: its extreme finite values and their indices (a block
    with no finite value holds inf as its lowest, -inf as its highest)."""
    import numpy

    return numpy.dtype(
        [
            ("lowest", numpy.float64),
            ("highest", numpy.float64),
            ("lowest_at", numpy.intp),
            ("highest_at", numpy.intp),
        ]
    )


def _summarise_points(ys: FloatArray, first: int, end: int) -> NDArray[Any]:
    """The summaries of base blocks ``[first, end)``, read from the points."""
    import numpy

    size = 1 << _BASE_LEVEL
    points = ys[first * size : end * size].reshape(-1, size)
    lowest, highest = _scored(points, numpy.isfinite(points))
    rows = numpy.arange(end - first)
    low_at, high_at = lowest.argmin(axis=1), highest.argmax(axis=1)
    summaries = numpy.empty(end - first, dtype=_summary_dtype())
    summaries["lowest"] = lowest[rows, low_at]
    summaries["highest"] = highest[rows, high_at]
    summaries["lowest_at"] = (first + rows) * size + low_at
    summaries["highest_at"] = (first + rows) * size + high_at
    return summaries


def _summarise_pairs(below: NDArray[Any]) -> NDArray[Any]:
    """The summaries of the blocks made of each pair of ``below`` (the left one on a tie)."""
    import numpy

    left, right = below[0::2], below[1::2]
    merged: NDArray[Any] = left.copy()
    lower = right["lowest"] < left["lowest"]  # inf, an empty block's, never wins
    higher = right["highest"] > left["highest"]
    for names, wins in ((("lowest", "lowest_at"), lower), (("highest", "highest_at"), higher)):
        for name in names:
            merged[name] = numpy.where(wins, right[name], left[name])
    return merged


def _scored(values: FloatArray, usable: NDArray[numpy.bool_]) -> tuple[FloatArray, FloatArray]:
    """``values`` as candidates for the lowest and for the highest: where not ``usable``,
    inf and -inf, which never win."""
    import numpy

    return numpy.where(usable, values, math.inf), numpy.where(usable, values, -math.inf)


@dataclass(frozen=True)
class _Answer:
    """Ranges ``[starts, stops)`` and the indices of their extremes (-1: none)."""

    starts: IndexArray
    stops: IndexArray
    lowest: IndexArray
    highest: IndexArray

    def moved_to(
        self, ys: FloatArray, starts: IndexArray, stops: IndexArray
    ) -> tuple[IndexArray, IndexArray, NDArray[numpy.bool_]]:
        """The extremes of the ranges ``[starts, stops)``, each the same range as before
        moved a little, from this answer; and which ranges must be found afresh.

        A range that gained fewer than ``2**_BASE_LEVEL`` points at each end and still holds
        its old extremes (or had none) has for extremes the best of those points and its old
        extremes. (Points it lost before its first extreme were worse than it; ties go to the
        first, so the points gained before come first.)
        """
        import numpy

        def kept(at: IndexArray) -> NDArray[numpy.bool_]:
            inside: NDArray[numpy.bool_] = (at < 0) | ((at >= starts) & (at < stops))
            return inside

        gained_before, gained_after = self.starts - starts, stops - self.stops
        few = (gained_before < 1 << _BASE_LEVEL) & (gained_after < 1 << _BASE_LEVEL)
        reusable = few & kept(self.lowest) & kept(self.highest)
        candidates = (
            _Candidates.of_points(ys, starts, numpy.clip(self.starts, starts, stops)),
            _Candidates.of_indices(ys, self.lowest, self.highest),
            _Candidates.of_points(ys, numpy.maximum(self.stops, starts), stops),
        )
        lowest = _first_extreme(candidates, lower=True)
        highest = _first_extreme(candidates, lower=False)
        return lowest, highest, ~reusable


@dataclass(frozen=True)
class _Candidates:
    """Candidate extremes, one row per range: values as :func:`_scored` gives them, and
    the index of each."""

    lowest: FloatArray
    highest: FloatArray
    lowest_at: IndexArray
    highest_at: IndexArray

    @classmethod
    def of_points(cls, ys: FloatArray, starts: IndexArray, stops: IndexArray) -> _Candidates:
        """The points ``[start, stop)`` of each range, fewer than ``2**_BASE_LEVEL``."""
        import numpy

        at = starts[:, None] + numpy.arange(1 << _BASE_LEVEL)
        values = ys[numpy.minimum(at, len(ys) - 1)]
        lowest, highest = _scored(values, (at < stops[:, None]) & numpy.isfinite(values))
        return cls(lowest, highest, at, at)

    @classmethod
    def of_indices(
        cls, ys: FloatArray, lowest_at: IndexArray, highest_at: IndexArray
    ) -> _Candidates:
        """One point per range for each kind: its index, or -1 for none."""
        import numpy

        low, high = ys[lowest_at][:, None], ys[highest_at][:, None]  # -1 reads one never used
        lowest = numpy.where(lowest_at[:, None] >= 0, low, math.inf)
        highest = numpy.where(highest_at[:, None] >= 0, high, -math.inf)
        return cls(lowest, highest, lowest_at[:, None], highest_at[:, None])

    @classmethod
    def of_blocks(
        cls, summaries: Sequence[NDArray[Any]], taken: NDArray[numpy.bool_], count: int
    ) -> _Candidates:
        """Block summaries, one column per array of ``summaries`` (``count`` rows), those
        not ``taken`` left out."""
        import numpy

        def joined(name: str) -> NDArray[Any]:
            if not summaries:
                return numpy.empty((count, 0), dtype=_summary_dtype()[name])
            return numpy.concatenate([summary[name] for summary in summaries], axis=1)

        lowest = numpy.where(taken, joined("lowest"), math.inf)
        highest = numpy.where(taken, joined("highest"), -math.inf)
        return cls(lowest, highest, joined("lowest_at"), joined("highest_at"))


def _first_extreme(parts: Sequence[_Candidates], *, lower: bool) -> IndexArray:
    """Per row, the index of the lowest (or highest) finite candidate of ``parts`` (their
    columns side by side), the first one among equals; -1 where none is finite."""
    import numpy

    if lower:
        scored = numpy.concatenate([part.lowest for part in parts], axis=1)
        at = numpy.concatenate([part.lowest_at for part in parts], axis=1)
        column = scored.argmin(axis=1)
    else:
        scored = numpy.concatenate([part.highest for part in parts], axis=1)
        at = numpy.concatenate([part.highest_at for part in parts], axis=1)
        column = scored.argmax(axis=1)
    rows = numpy.arange(len(scored))
    found: IndexArray = numpy.where(numpy.isfinite(scored[rows, column]), at[rows, column], -1)
    return found


@dataclass
class _Smoothed:
    """The smoothed values of a series for one weight, extended as points arrive."""

    values: _Growable
    state: EmaState
    weight: float
    pyramid: _MinMaxPyramid = field(default_factory=_MinMaxPyramid)
    generation: int = 0


@dataclass(frozen=True)
class _Reordered:
    """The points of a series whose x is not sorted, sorted by x (stably)."""

    xs: FloatArray
    ys: FloatArray
    pyramid: _MinMaxPyramid
