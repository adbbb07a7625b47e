"""The closing report of a scaling study: the runs' table, the frontier fit and its PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .scaling import RunResult

__all__ = ["fit_and_draw", "results_table"]


def results_table(results: Sequence[RunResult]) -> str:
    """One line per run: signature, arguments, steps, rate, compute and Elo with interval.

    The rate is the median the overseer's train-rate instrument measured, else the samples
    over the training time.
    """
    header = (
        f"{'sig':<12}  {'alias':<18} {'size':>4} {'preset':<6} {'samples':>8} {'steps':>6} "
        f"{'items/s':>9} {'flops':>8}  {'elo':>6}  95% interval"
    )
    lines = [header]
    for r in sorted(results, key=lambda r: (r.size, r.flops)):
        rate = r.train_rate or (r.samples / r.seconds if r.seconds > 0 else float("nan"))
        lines.append(
            f"{r.sig:<12}  {r.alias[:18]:<18} {r.size:>4} {r.preset:<6} {r.samples:>8} "
            f"{r.steps:>6} {rate:>9.4g} {r.flops:>8.3g}  {r.elo:>6.0f}  "
            f"[{r.elo_low:.0f}, {r.elo_high:.0f}]"
        )
    return "\n".join(lines)


def fit_and_draw(
    store: Path, results: Sequence[RunResult], *, bootstrap: int, seed: int
) -> dict[str, Any]:
    """Fit the frontier to ``results``, print it, draw ``<store>/frontier.png``.

    Returns what ``study.json`` keeps of the fit. When the runs are too few for a fit, says
    so and draws the points alone.
    """
    from .frontier import FrontierError, StudyPoint, fit_frontier, frontier_table
    from .plot import plot_frontier

    points = [
        StudyPoint(r.size, r.flops, r.elo, r.elo_low, r.elo_high, label=r.alias) for r in results
    ]
    fit = None
    try:
        fit = fit_frontier(points, n_bootstrap=bootstrap, seed=seed, random_level=0.0)
    except FrontierError as error:
        print(f"rl study: no frontier fit: {error}")
    else:
        print(f"\nfrontier fit (Elo against training FLOPs):\n{frontier_table(fit)}")
    png = plot_frontier(points, fit, store / "frontier.png")
    print(f"rl study: frontier plot in {png}")
    if fit is None:
        return {"fit": None}
    return {
        "fit": {
            "slope": fit.slope,
            "params": fit.params,
            "intervals": {key: list(value) for key, value in fit.intervals.items()},
            "rms_residual": fit.rms_residual,
            "notes": list(fit.notes),
        }
    }
