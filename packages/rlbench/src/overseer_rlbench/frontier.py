"""The compute frontier of a scaling study, fitted with the clamped-linear law of boardlaw.

Jones (2021), "Scaling Scaling Laws with Board Games": on each board size, the Elo of the best
agent at each training compute rises linearly in ``log10(compute)`` from the random-play level
until it saturates at a plateau (perfect play), and both the incline's offset and the plateau
are linear in board size::

    elo(C, n) = clamp(slope * log10(C) + offset(n), random_level, plateau(n))
    offset(n) = offset_per_size * n + offset_intercept
    plateau(n) = plateau_per_size * n + plateau_intercept

>>> ratings = [(9, 0.0), (10, 110.0), (11, 590.0), (12, 1105.0), (13, 1195.0), (14, 1210.0)]
>>> points = [StudyPoint(5, 10.0**k, elo, elo - 30, elo + 30, f"{k}") for k, elo in ratings]
>>> fit = fit_frontier(points, n_bootstrap=20, random_level=0.0)
>>> round(fit.slope), round(fit.plateaus[5]), round(elo_at(fit, 3e10, 5))
(497, 1202, 342)

The method is described in :func:`fit_frontier`; :mod:`overseer_rlbench.tradeoff` fits the
paper's other law, the exchange of training compute for test-time (search) compute.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import RLBenchError

if TYPE_CHECKING:
    import torch

__all__ = [
    "FrontierError",
    "FrontierFit",
    "StudyPoint",
    "elo_at",
    "fit_frontier",
    "frontier_points",
    "frontier_table",
]

# Gauss-Newton stops when no resample lowers its squared error by more than this fraction.
_TOLERANCE = 1e-10
_MAX_ITERATIONS = 100
# Step fractions tried along each Gauss-Newton direction: a full step can cross a kink.
_STEPS = (1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125)
# Relative ridge toward the current estimate: it keeps parameters that no point constrains
# (a plateau nobody reached) where the start put them, and changes the others by ~1e-8.
_DAMPING = 1e-8
# Relative distance to a kink under which a point counts as on the level it touches.
_KINK = 1e-9


class FrontierError(RLBenchError, ValueError):
    """Study points or fit arguments that the frontier fit cannot use."""


@dataclass(frozen=True)
class StudyPoint:
    """One rated agent of a scaling study.

    Attributes:
        size: board size.
        compute: training compute in FLOPs (> 0).
        elo, elo_low, elo_high: its rating and 95% interval.
        label: a name for it (a run, a checkpoint).
        test_compute: the test-time (search) compute it played with, when the study varies it.
    """

    size: int
    compute: float
    elo: float
    elo_low: float
    elo_high: float
    label: str
    test_compute: float | None = None

    def __post_init__(self) -> None:
        problem = _point_problem(self)
        if problem is not None:
            raise FrontierError(f"study point {self.label!r}: {problem}")


def _point_problem(point: StudyPoint) -> str | None:
    if point.size < 2:
        return f"board size {point.size} is not a Hex board: give 2 or more"
    if not (math.isfinite(point.compute) and point.compute > 0):
        return f"compute {point.compute} is not a positive FLOP count"
    if point.test_compute is not None and not point.test_compute > 0:
        return f"test_compute {point.test_compute} is not a positive FLOP count (or None)"
    ratings = (point.elo_low, point.elo, point.elo_high)
    if not all(math.isfinite(value) for value in ratings) or sorted(ratings) != list(ratings):
        return f"Elo {ratings} is not finite low <= elo <= high"
    return None


@dataclass(frozen=True)
class FrontierFit:
    """The clamped-linear law fitted to a compute frontier.

    Attributes:
        slope: Elo gained per decade of training compute on the incline.
        offsets: per board size, the incline's Elo at 1 FLOP (``log10(C) = 0``).
        plateaus: per board size, the Elo of the plateau (perfect play).
        random_level: the Elo below which the incline is clamped (random play).
        params: the fitted parameters by name (``slope``, ``offset_per_size``, ...; with one
            board size ``offset[n]`` and ``plateau[n]``; ``random_level`` when it was fitted).
        intervals: bootstrap 95% intervals of every parameter and of every ``offset[n]`` and
            ``plateau[n]``; ``(nan, nan)`` when ``n_bootstrap`` is 0.
        n_bootstrap: resamples behind the intervals.
        n_points: points fitted.
        rms_residual: root mean square residual of the fit, in Elo.
        per_size_linear: whether offsets and plateaus are linear in size (two sizes or more).
        notes: what the fit could not determine, and why.
    """

    slope: float
    offsets: dict[int, float]
    plateaus: dict[int, float]
    random_level: float
    params: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    n_bootstrap: int
    n_points: int
    rms_residual: float
    per_size_linear: bool
    notes: tuple[str, ...] = ()


def frontier_points(points: Sequence[StudyPoint]) -> list[StudyPoint]:
    """The compute frontier: per board size, the points no cheaper-or-equal point matches.

    Walking up in compute, a point is kept when its Elo beats every point at lower or equal
    compute on its board (a running maximum). Returned sorted by size, then compute.

    >>> points = [StudyPoint(3, c, e, e, e, str(c)) for c, e in [(1, 0.0), (2, 50.0), (3, 40.0)]]
    >>> [point.label for point in frontier_points(points)]
    ['1', '2']
    """
    kept: list[StudyPoint] = []
    for size in sorted({point.size for point in points}):
        mine = sorted((p for p in points if p.size == size), key=lambda p: (p.compute, -p.elo))
        best = -math.inf
        for point in mine:
            if point.elo > best:
                kept.append(point)
                best = point.elo
    return kept


@dataclass(frozen=True)
class _Layout:
    """Which column of the parameter vector each piece of the law reads."""

    sizes: tuple[int, ...]
    linear: bool
    fixed_random: float | None

    @property
    def names(self) -> tuple[str, ...]:
        if self.linear:
            names = ["slope", "offset_per_size", "offset_intercept"]
            names += ["plateau_per_size", "plateau_intercept"]
        else:
            names = ["slope", *(f"offset[{n}]" for n in self.sizes)]
            names += [f"plateau[{n}]" for n in self.sizes]
        return (*names, "random_level") if self.fixed_random is None else tuple(names)

    def rows(self, size: int, log_compute: float) -> tuple[list[float], ...]:
        """The incline, plateau and random-level rows of a point: each piece is ``row . theta``."""
        width = len(self.names)
        incline, plateau, floor = [0.0] * width, [0.0] * width, [0.0] * width
        incline[0] = log_compute
        if self.linear:
            incline[1], incline[2], plateau[3], plateau[4] = size, 1.0, size, 1.0
        else:
            index = self.sizes.index(size)
            incline[1 + index], plateau[1 + len(self.sizes) + index] = 1.0, 1.0
        if self.fixed_random is None:
            floor[-1] = 1.0
        return incline, plateau, floor

    def prior(self, above: float, below: float) -> list[float]:
        """Where parameters no point constrains stay: plateaus above, random level below."""
        plateau = ("plateau_intercept", "plateau[")
        return [
            above if name.startswith(plateau) else below if name == "random_level" else 0.0
            for name in self.names
        ]


@dataclass(frozen=True)
class _Problem:
    """The points of a fit as design rows: ``[N, P]`` per piece, and the Elo ``[N]``."""

    incline: torch.Tensor
    plateau: torch.Tensor
    floor: torch.Tensor
    floor_constant: float
    elo: torch.Tensor


def _problem(layout: _Layout, points: Sequence[StudyPoint]) -> _Problem:
    import torch

    rows = [layout.rows(p.size, math.log10(p.compute)) for p in points]
    incline, plateau, floor = (
        torch.tensor([row[k] for row in rows], dtype=torch.float64) for k in range(3)
    )
    constant = 0.0 if layout.fixed_random is None else layout.fixed_random
    elo = torch.tensor([p.elo for p in points], dtype=torch.float64)
    return _Problem(incline, plateau, floor, constant, elo)


def _predict(problem: _Problem, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Elo ``[B, N]`` for parameter rows ``theta [B, P]``, and the active piece of each point.

    Pieces: 0 the incline, 1 the random level, 2 the plateau; a point at a kink (to rounding)
    counts as saturated, so that it pins the level it touches.
    """
    import torch

    incline = theta @ problem.incline.T
    floor = theta @ problem.floor.T + problem.floor_constant
    plateau = theta @ problem.plateau.T
    raised = torch.maximum(incline, floor)
    near = _KINK * (1.0 + plateau.abs() + floor.abs())
    piece = torch.where(raised > plateau - near, 2, torch.where(incline < floor + near, 1, 0))
    return torch.minimum(raised, plateau), piece


def _squared_error(problem: _Problem, weights: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    predicted, _ = _predict(problem, theta)
    return ((predicted - problem.elo) ** 2 * weights).sum(-1)


def _weighted_solve(
    rows: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, prior: torch.Tensor
) -> torch.Tensor:
    """Weighted least squares per resample, ridged toward ``prior [B, P]`` by ``_DAMPING``."""
    import torch

    weighted = rows * weights[..., None]
    normal = weighted.transpose(-1, -2) @ rows
    right = (weighted * target[..., None]).sum(-2)
    damping = _DAMPING * normal.diagonal(dim1=-2, dim2=-1).mean(-1).clamp_min(1.0)
    eye = torch.eye(prior.shape[-1], dtype=prior.dtype)
    system = normal + damping[..., None, None] * eye
    solved: torch.Tensor = torch.linalg.solve(system, right + damping[..., None] * prior)
    return solved


def _solve_pieces(
    problem: _Problem, piece: torch.Tensor, weights: torch.Tensor, prior: torch.Tensor
) -> torch.Tensor:
    """The least-squares parameters ``[B, P]`` with each point's piece ``[B, N]`` held fixed."""
    import torch

    selected = piece[..., None]
    rows = torch.where(
        selected == 0, problem.incline, torch.where(selected == 1, problem.floor, problem.plateau)
    )
    target = problem.elo - torch.where(piece == 1, problem.floor_constant, 0.0)
    return _weighted_solve(rows, target, weights, prior)


def _refine(
    problem: _Problem, weights: torch.Tensor, theta: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gauss-Newton with a step search, for every row of ``theta`` at once, until no gain.

    A row whose best step gains nothing has converged (its next step would be the same), so
    it leaves the batch: late iterations solve only the few rows still moving.
    """
    import torch

    steps = torch.tensor(_STEPS, dtype=torch.float64)
    theta, error = theta.clone(), _squared_error(problem, weights, theta)
    moving = torch.arange(theta.shape[0])
    for _ in range(_MAX_ITERATIONS):
        current, mass = theta[moving], weights[moving]
        direction = _solve_pieces(problem, _predict(problem, current)[1], mass, current) - current
        trials = current[:, None, :] + steps[None, :, None] * direction[:, None, :]
        repeated = mass.repeat_interleave(len(_STEPS), 0)
        trial_error = _squared_error(problem, repeated, trials.flatten(0, 1))
        best_error, best_step = trial_error.view(len(moving), -1).min(1)
        improved = best_error < error[moving] * (1.0 - _TOLERANCE) - _TOLERANCE
        moving, chosen = moving[improved], trials[improved, best_step[improved]]
        if len(moving) == 0:
            break
        theta[moving], error[moving] = chosen, best_error[improved]
    return theta, error


def _best_of_starts(
    problem: _Problem, weights: torch.Tensor, starts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Refine every start ``[K, P]`` for every weight row ``[B, N]``; keep each row's best."""
    import torch

    count, batch = starts.shape[0], weights.shape[0]
    theta = starts.repeat_interleave(batch, 0)
    theta, error = _refine(problem, weights.repeat(count, 1), theta)
    best = error.view(count, batch).argmin(0)
    rows = torch.arange(batch)
    return theta.view(count, batch, -1)[best, rows], error.view(count, batch)[best, rows]


def _segment(xs: list[float], ys: list[float]) -> tuple[int, int]:
    """Best split of one board's points, sorted by compute, into the law's three pieces.

    Returns ``(i, j)``: points ``[:i]`` at the random level (their mean), ``[i:j]`` on the
    incline (their own least-squares line), ``[j:]`` at the plateau (their mean). Exhaustive
    over the ``O(m^2)`` splits, each scored in constant time from prefix sums.
    """
    sums: list[tuple[float, ...]] = [(0.0,) * 6]
    for x, y in zip(xs, ys, strict=True):
        sums.append(
            tuple(a + b for a, b in zip(sums[-1], (1, x, y, x * x, x * y, y * y), strict=True))
        )

    def error(start: int, end: int, line: bool) -> float:
        count, sx, sy, sxx, sxy, syy = (b - a for a, b in zip(sums[start], sums[end], strict=True))
        if count == 0:
            return 0.0
        flat, spread = syy - sy * sy / count, sxx - sx * sx / count
        if not line or spread <= 1e-12 * (1.0 + sxx):
            return flat
        return flat - (sxy - sx * sy / count) ** 2 / spread

    best = (error(0, len(xs), True), 0, len(xs))
    for i in range(len(xs)):
        for j in range(len(xs), i, -1):  # from the longest incline: ties keep fewer saturated
            total = error(0, i, False) + error(i, j, True) + error(j, len(xs), False)
            if total < best[0] - 1e-9 * (1.0 + abs(best[0])):
                best = (total, i, j)
    return best[1], best[2]


def _starts(layout: _Layout, problem: _Problem, points: Sequence[StudyPoint]) -> torch.Tensor:
    """Starting parameters ``[K, P]``, each the exact fit of one guess at the pieces.

    The guesses: every point on the incline; each board split by :func:`_segment`; and that
    split without its random level, and without its plateau.
    """
    import torch

    split: list[int] = []
    for size in layout.sizes:
        mine = [p for p in points if p.size == size]
        i, j = _segment([math.log10(p.compute) for p in mine], [p.elo for p in mine])
        split += [1] * i + [0] * (j - i) + [2] * (len(mine) - j)
    without_floor, without_plateau = ([0 if k == drop else k for k in split] for drop in (1, 2))
    guesses = [[0] * len(points), split, without_floor, without_plateau]
    pieces = torch.tensor(sorted(set(map(tuple, guesses))), dtype=torch.int64)
    elo = problem.elo
    span = float(elo.max() - elo.min()) + 1.0
    above, below = float(elo.max()) + span, float(elo.min()) - span
    prior = torch.tensor(layout.prior(above, below), dtype=torch.float64)
    ones = torch.ones_like(pieces, dtype=torch.float64)
    return _solve_pieces(problem, pieces, ones, prior.expand(len(pieces), -1))


def fit_frontier(
    points: Sequence[StudyPoint],
    n_bootstrap: int = 200,
    seed: int = 0,
    *,
    random_level: float | None = None,
    frontier_only: bool = True,
) -> FrontierFit:
    """Fit the clamped-linear law to the compute frontier of ``points``, with 95% intervals.

    Method: unweighted least squares on the frontier points (:func:`frontier_points`), in
    float64 torch, deterministic. The law is linear in its parameters once each point's active
    piece (random level, incline, plateau) is known, so the fit is a Gauss-Newton iteration
    over active pieces (each step an exact weighted least-squares solve, followed by a search
    along the step so the error never rises) until no step gains. It runs from up to four
    starts, each the exact fit of a guess at the pieces: every point on the incline; each
    board split where an exhaustive search over its two breakpoints fits it best alone; that
    split with no random level; and with no plateau. The lowest error wins. Intervals are
    percentile intervals over ``n_bootstrap`` resamples of the fitted points (with
    replacement), each refitted from the full fit and from the same starts, all resamples
    solved as one batch.

    Degrades gracefully: with one board size the linear terms in size cannot be separated, so
    that size's offset and plateau are fitted directly (``fit.notes`` says so); parameters
    that no point constrains (a plateau no board reached) stay at their start and are named
    in ``fit.notes``.

    Args:
        points: rated agents; all of them, the frontier is taken here.
        n_bootstrap: resamples for the intervals (0: no intervals).
        seed: seeds the resampling.
        random_level: the Elo of random play when known (0 when ratings are anchored at the
            random agent); ``None`` fits it.
        frontier_only: ``False`` fits every point as given, for points that already are a
            frontier (e.g. the best agent per compute budget).

    Raises:
        FrontierError: no points, or fewer frontier points than parameters.
    """
    chosen, notes = _single_test_budget(points)
    fitted = frontier_points(chosen) if frontier_only else sorted(chosen, key=_order)
    if frontier_only and len(fitted) < len(chosen):
        notes.append(f"fitted the compute frontier: {len(fitted)} of {len(chosen)} points")
    sizes = tuple(sorted({p.size for p in fitted}))
    layout = _Layout(sizes, linear=len(sizes) > 1, fixed_random=random_level)
    _check_enough(layout, len(fitted))
    problem = _problem(layout, fitted)
    import torch

    starts = _starts(layout, problem, fitted)
    ones = torch.ones(1, len(fitted), dtype=torch.float64)
    theta, error = _best_of_starts(problem, ones, starts)
    samples = _bootstrap(problem, torch.cat([theta, starts]), n_bootstrap, seed)
    _, piece = _predict(problem, theta)
    notes += _identification_notes(layout, fitted, piece[0].tolist())
    return _frontier_fit(layout, theta[0], samples, len(fitted), float(error[0]), notes)


def _order(point: StudyPoint) -> tuple[int, float]:
    return point.size, point.compute


def _single_test_budget(points: Sequence[StudyPoint]) -> tuple[list[StudyPoint], list[str]]:
    """Keep the points of the most common test-time budget: the frontier is at fixed search."""
    budgets = Counter(p.test_compute for p in points)
    if len(budgets) < 2:
        return list(points), []
    budget = max(budgets, key=lambda b: (budgets[b], -(b or 0.0)))
    kept = [p for p in points if p.test_compute == budget]
    note = f"points at {len(budgets)} test-time budgets: fitted the {len(kept)} at {budget}"
    return kept, [note]


def _check_enough(layout: _Layout, count: int) -> None:
    needed = len(layout.names)
    if count >= needed:
        return
    if not layout.sizes:
        raise FrontierError("fit_frontier needs study points, got none")
    sizes = ", ".join(str(n) for n in layout.sizes)
    message = (
        f"fit_frontier needs at least {needed} frontier points for board size(s) {sizes}"
        f" ({', '.join(layout.names)}), got {count}: rate agents at more training computes"
    )
    raise FrontierError(message)


def _bootstrap(
    problem: _Problem, starts: torch.Tensor, n_bootstrap: int, seed: int
) -> torch.Tensor:
    """Parameters refitted on ``n_bootstrap`` resamples of the points: ``[n_bootstrap, P]``."""
    import torch

    if n_bootstrap < 0:
        raise FrontierError(f"n_bootstrap is {n_bootstrap}: give 0 or more resamples")
    if n_bootstrap == 0:
        return torch.zeros(0, starts.shape[1], dtype=torch.float64)
    weights = _resample_weights(problem.elo.shape[0], n_bootstrap, seed)
    return _best_of_starts(problem, weights, starts)[0]


def _resample_weights(count: int, n_bootstrap: int, seed: int) -> torch.Tensor:
    """How often each of ``count`` points is drawn, per resample: ``[n_bootstrap, count]``."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    drawn = torch.randint(0, count, (n_bootstrap, count), generator=generator)
    weights = torch.zeros(n_bootstrap, count, dtype=torch.float64)
    return weights.scatter_add_(1, drawn, torch.ones_like(weights))


def _identification_notes(
    layout: _Layout, points: Sequence[StudyPoint], pieces: list[int]
) -> list[str]:
    """What the data leave undetermined, read from the active pieces of the fit."""
    notes = []
    if not layout.linear:
        notes.append(
            f"one board size ({layout.sizes[0]}): its offset and plateau are fitted directly;"
            " their linear terms in board size need two sizes or more"
        )
    on = {
        k: {p.size for p, piece in zip(points, pieces, strict=True) if piece == k} for k in range(3)
    }
    if not on[2]:
        notes.append("no point reaches a plateau: the plateau is not determined (kept above)")
    elif layout.linear and len(on[2]) == 1:
        notes.append(f"only size {min(on[2])} reaches its plateau: plateau_per_size is a guess")
    if layout.linear and len(on[0]) < 2:
        notes.append("fewer than two sizes on the incline: offset_per_size is not determined")
    if layout.fixed_random is not None:
        notes.append(f"random level fixed at {layout.fixed_random:g} Elo")
    elif not on[1]:
        notes.append("no point at the random level: random_level is not determined (kept below)")
    return notes


def _frontier_fit(
    layout: _Layout,
    theta: torch.Tensor,
    samples: torch.Tensor,
    count: int,
    error: float,
    notes: list[str],
) -> FrontierFit:
    import torch

    names = list(layout.names)
    derived, derived_names = [], []
    for n in layout.sizes:
        incline, plateau, _ = layout.rows(n, 0.0)
        derived.append(torch.tensor([incline, plateau], dtype=torch.float64))
        derived_names += [f"offset[{n}]", f"plateau[{n}]"]
    per_size = torch.cat(derived)  # [2 * sizes, P]
    values = (theta @ per_size.T).tolist()
    params = dict(zip(names, theta.tolist(), strict=True))
    all_samples = torch.cat([samples, samples @ per_size.T], 1)
    intervals = _intervals([*names, *derived_names], all_samples)
    floor = params["random_level"] if layout.fixed_random is None else layout.fixed_random
    return FrontierFit(
        slope=params["slope"],
        offsets=dict(zip(layout.sizes, values[0::2], strict=True)),
        plateaus=dict(zip(layout.sizes, values[1::2], strict=True)),
        random_level=floor,
        params=params,
        intervals=intervals,
        n_bootstrap=samples.shape[0],
        n_points=count,
        rms_residual=math.sqrt(error / count),
        per_size_linear=layout.linear,
        notes=tuple(notes),
    )


def _intervals(names: Sequence[str], samples: torch.Tensor) -> dict[str, tuple[float, float]]:
    """Percentile 95% intervals of each column of ``samples [B, K]``; NaN with no resample."""
    import torch

    if samples.shape[0] == 0:
        return dict.fromkeys(names, (math.nan, math.nan))
    levels = torch.tensor([0.025, 0.975], dtype=samples.dtype)
    bounds = torch.quantile(samples, levels, dim=0).T.tolist()
    return {name: (low, high) for name, (low, high) in zip(names, bounds, strict=True)}


def elo_at(fit: FrontierFit, compute: float, size: int) -> float:
    """The fitted frontier Elo at training ``compute`` FLOPs on board ``size``.

    Sizes outside the fit are extrapolated along the linear terms, when the fit has them.

    Raises:
        FrontierError: ``compute`` is not positive, or ``size`` needs terms the fit lacks.
    """
    if not compute > 0:
        raise FrontierError(f"elo_at: compute {compute} is not a positive FLOP count")
    if size in fit.offsets:
        offset, plateau = fit.offsets[size], fit.plateaus[size]
    elif fit.per_size_linear:
        p = fit.params
        offset = p["offset_per_size"] * size + p["offset_intercept"]
        plateau = p["plateau_per_size"] * size + p["plateau_intercept"]
    else:
        fitted = ", ".join(str(n) for n in fit.offsets)
        message = f"elo_at: the fit has one board size ({fitted}), it cannot extrapolate to {size}"
        raise FrontierError(message)
    incline = fit.slope * math.log10(compute) + offset
    return min(max(incline, fit.random_level), plateau)


def frontier_table(fit: FrontierFit) -> str:
    """The fit as terminal rows: parameter, value, 95% interval; then a summary and notes."""
    rows = list(fit.params.items())
    per_size = [*(f"offset[{n}]" for n in fit.offsets), *(f"plateau[{n}]" for n in fit.plateaus)]
    values = [*fit.offsets.values(), *fit.plateaus.values()]
    rows += [
        (name, value)
        for name, value in zip(per_size, values, strict=True)
        if name not in fit.params
    ]
    lines = _table(rows, fit.intervals)
    lines.append(
        f"slope in Elo per decade of training FLOPs; {fit.n_points} points,"
        f" rms residual {fit.rms_residual:.1f} Elo, {fit.n_bootstrap} bootstrap resamples"
    )
    lines += [f"note: {note}" for note in fit.notes]
    return "\n".join(lines)


def _table(
    rows: Sequence[tuple[str, float]],
    intervals: dict[str, tuple[float, float]],
    digits: int = 1,
) -> list[str]:
    width = max(len("parameter"), *(len(name) for name, _ in rows))
    lines = [f"{'parameter':<{width}}  {'value':>10}  95% interval"]
    for name, value in rows:
        low, high = intervals.get(name, (math.nan, math.nan))
        shown = "-" if math.isnan(low) else f"[{low:.{digits}f}, {high:.{digits}f}]"
        lines.append(f"{name:<{width}}  {value:>10.{digits}f}  {shown}")
    return lines
