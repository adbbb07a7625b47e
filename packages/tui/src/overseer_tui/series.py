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
the series keeps a min/max pyramid (level k holds, for each block of ``2**k`` points, which
one is lowest and which highest), extended as points arrive. :func:`decimate_arrays` is the
plain ``O(n)`` version of the same reduction, which the tests hold the fast one to.

Smoothing (:mod:`overseer_tui.smoothing`) is computed once per weight, then extended as
points arrive. For a long series that first pass can run in another thread::

    task = loss.smoothing_task(0.9)  # copies the values, here
    part = task()  # in a worker thread: smooths the copy, builds its pyramid
    loss.adopt_smoothed(part)  # back here: decimate(..., smoothing=0.9) is cheap now

Points live in ``array.array("d")``, so building series never imports numpy; numpy loads
at the first call that returns arrays.
"""

from __future__ import annotations

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
        import numpy

        stored_x, offset = self._x_source(axis)
        _check_columns(columns)
        if not self._values.data or not x_lo <= x_hi:
            return numpy.empty(0), numpy.empty(0)
        xs = numpy.frombuffer(stored_x.data, dtype=numpy.float64)
        ys = self._y_array(smoothing)
        base = "step" if axis == "step" else "wall"
        if stored_x.ordered:
            pyramid = self._pyramid_for(smoothing, ys)
        else:
            xs, ys, pyramid = self._reordered_for(base, smoothing, xs, ys)
        return _decimate_sorted(xs, offset, ys, pyramid, (x_lo, x_hi), columns)

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


def _decimate_sorted(
    xs: FloatArray,
    offset: float,
    ys: FloatArray,
    pyramid: _MinMaxPyramid,
    x_range: tuple[float, float],
    columns: int,
) -> tuple[FloatArray, FloatArray]:
    """:meth:`Series.decimate` once x (less ``offset``) is sorted; returns copies."""
    import numpy

    x_lo, x_hi = x_range
    first = int(_search_shifted(xs, offset, numpy.array([x_lo]), "left")[0])
    end = int(_search_shifted(xs, offset, numpy.array([x_hi]), "right")[0])
    if end - first <= 2 * columns:
        chosen = numpy.arange(first, end)
    else:
        inner_edges = _column_edges(x_lo, x_hi, columns)[1:-1]
        bounds = numpy.clip(_search_shifted(xs, offset, inner_edges, "left"), first, end)
        starts = numpy.concatenate(([first], bounds))
        stops = numpy.concatenate((bounds, [end]))
        lowest, highest = pyramid.extremes(ys, starts, stops)
        found = numpy.concatenate(([first, end - 1], lowest, highest))
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
    """A numpy array that grows by doubling: amortised O(1) per appended element."""

    def __init__(self, dtype: Any) -> None:
        import numpy

        self._data: NDArray[Any] = numpy.empty(64, dtype=dtype)
        self.size = 0

    def extend(self, values: NDArray[Any]) -> None:
        import numpy

        needed = self.size + len(values)
        if needed > len(self._data):
            grown = numpy.empty(max(needed, 2 * len(self._data)), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : needed] = values
        self.size = needed

    def view(self) -> NDArray[Any]:
        return self._data[: self.size]


class _MinMaxPyramid:
    """For each level k >= 1 and each whole block of ``2**k`` points, where the block's
    lowest and highest finite value are (the first one among equals).

    Level 0 is the points themselves. A range is covered by at most two blocks per level
    (the usual bottom-up decomposition), so its extremes cost O(log n) lookups.
    """

    def __init__(self) -> None:
        self.size = 0
        self._lowest: list[_Growable] = []  # level k + 1 at index k
        self._highest: list[_Growable] = []

    def extend(self, ys: FloatArray) -> None:
        """Add the blocks completed by the points of ``ys`` beyond those already seen."""
        import numpy

        self.size = len(ys)
        level = 1
        while self.size >> level:
            if len(self._lowest) < level:
                self._lowest.append(_Growable(numpy.intp))
                self._highest.append(_Growable(numpy.intp))
            have, want = self._lowest[level - 1].size, self.size >> level
            if want > have and level == 1:
                # Pairs of points: strided slices, not a gather through index arrays.
                left = numpy.arange(2 * have, 2 * want, 2)
                pair = (ys[2 * have : 2 * want : 2], ys[2 * have + 1 : 2 * want : 2])
                self._lowest[0].extend(_pick(pair, left, left + 1, lower=True))
                self._highest[0].extend(_pick(pair, left, left + 1, lower=False))
            elif want > have:
                lows, highs = self._blocks(level - 1, numpy.arange(2 * have, 2 * want))
                low_pair = (ys[lows[0::2]], ys[lows[1::2]])
                high_pair = (ys[highs[0::2]], ys[highs[1::2]])
                self._lowest[level - 1].extend(_pick(low_pair, lows[0::2], lows[1::2], lower=True))
                self._highest[level - 1].extend(
                    _pick(high_pair, highs[0::2], highs[1::2], lower=False)
                )
            level += 1

    def extremes(
        self, ys: FloatArray, starts: IndexArray, stops: IndexArray
    ) -> tuple[IndexArray, IndexArray]:
        """For each range ``[start, stop)``, the index of its lowest and highest finite
        value (-1 when it has none)."""
        import numpy

        lowest = numpy.full(len(starts), -1, dtype=numpy.intp)
        highest = lowest.copy()
        low, high = starts.astype(numpy.intp), stops.astype(numpy.intp)
        level = 0
        while (low < high).any():
            take_low = (low < high) & (low % 2 == 1)  # a right child: its sibling is outside
            self._merge(ys, level, low, take_low, (lowest, highest))
            low = low + take_low
            take_high = (low < high) & (high % 2 == 1)
            high = high - take_high
            self._merge(ys, level, high, take_high, (lowest, highest))
            low, high, level = low >> 1, high >> 1, level + 1
        return lowest, highest

    def _blocks(self, level: int, blocks: IndexArray) -> tuple[IndexArray, IndexArray]:
        """Where the lowest and highest values of ``blocks`` of ``level`` are."""
        if level == 0:
            return blocks, blocks
        return self._lowest[level - 1].view()[blocks], self._highest[level - 1].view()[blocks]

    def _merge(
        self,
        ys: FloatArray,
        level: int,
        blocks: IndexArray,
        mask: NDArray[numpy.bool_],
        best: tuple[IndexArray, IndexArray],
    ) -> None:
        """Fold block ``blocks[i]`` of ``level`` into range i's extremes where ``mask[i]``."""
        import numpy

        ranges = numpy.flatnonzero(mask)
        if not len(ranges):
            return
        lows, highs = self._blocks(level, blocks[ranges])
        lowest, highest = best
        lowest[ranges] = _better(ys, lowest[ranges], lows, lower=True)
        highest[ranges] = _better(ys, highest[ranges], highs, lower=False)


def _pick(
    values: tuple[FloatArray, FloatArray], left: IndexArray, right: IndexArray, *, lower: bool
) -> IndexArray:
    """Of two neighbouring blocks' extremes (their ``values`` and indices), the one that wins
    (the left one on a tie)."""
    import numpy

    y_left, y_right = values
    wins = y_right < y_left if lower else y_right > y_left
    take_right = numpy.isfinite(y_right) & (wins | ~numpy.isfinite(y_left))
    picked: IndexArray = numpy.where(take_right, right, left)
    return picked


def _better(
    ys: FloatArray, current: IndexArray, candidate: IndexArray, *, lower: bool
) -> IndexArray:
    """The better of two extremes found in any order (-1: none yet; ties: the earlier)."""
    import numpy

    y_current, y_candidate = ys[current], ys[candidate]  # current -1 reads a value never used
    wins = y_candidate < y_current if lower else y_candidate > y_current
    earlier_tie = (y_candidate == y_current) & (candidate < current)
    take = numpy.isfinite(y_candidate) & ((current < 0) | wins | earlier_tie)
    better: IndexArray = numpy.where(take, candidate, current)
    return better


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
