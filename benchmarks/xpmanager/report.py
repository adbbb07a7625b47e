"""The "overseer-xpmanager vs Dora" section of benchmarks/RESULTS.md, from one run's raw results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from results import describe_machine, spread

TITLE = "overseer-xpmanager vs Dora"
WRITER = "benchmarks/xpmanager/run.py"


@dataclass(frozen=True)
class Row:
    """One line of the table.

    Attributes:
        key: the measure's key in the raw results.
        title: what is measured; ``{pushes}``, ``{store}`` and ``{last}`` are filled in.
        unit: ``s``, ``XPs/s``, ``ms/XP`` or ``us``.
        goal: overseer-xpmanager's goal in ``unit``, or None.
        higher_is_better: True for rates.
        torch: the key under which the torch check of this command is kept, if any.
    """

    key: str
    title: str
    unit: str
    goal: float | None = None
    higher_is_better: bool = False
    torch: str | None = None


ROWS = (
    Row(
        "info-argproj",
        "`info SIG`, argparse project, store of 1 XP: whole command",
        "s",
        0.3,
        torch="info-argproj",
    ),
    Row(
        "info-hydraproj",
        "`info SIG`, hydra project, store of 1 XP: whole command",
        "s",
        0.3,
        torch="info-hydraproj",
    ),
    Row(
        "grid-argproj",
        "`grid sweep --dry_run --no_monitoring`, 1,000 argparse XPs: whole command",
        "XPs/s",
        higher_is_better=True,
    ),
    Row(
        "grid-hydraproj",
        "`grid sweep --dry_run --no_monitoring`, 200 hydra XPs: whole command",
        "ms/XP",
    ),
    Row(
        "plan-argproj-cold",
        "planning the 1,000 argparse XPs in one process (first plan)",
        "XPs/s",
        5_000,
        higher_is_better=True,
    ),
    Row(
        "plan-argproj-warm",
        "the same grid planned again in that process",
        "XPs/s",
        higher_is_better=True,
    ),
    Row(
        "plan-hydraproj-cold", "planning the 200 hydra XPs in one process (first plan)", "ms/XP", 5
    ),
    Row("plan-hydraproj-warm", "the same grid planned again in that process", "ms/XP"),
    Row("push-mean", "`xp.link.push_metrics`, mean of {pushes:,} pushes in one process", "us", 50),
    Row("push-last", "`xp.link.push_metrics`, mean of the last {last} of those pushes", "us"),
    Row("big-sig", "`info SIG` on a store of {store:,} XPs: whole command", "s", torch="big"),
    Row("big-latest", "`info -1` (the latest XP) on that store: whole command", "s"),
)


def render(results: dict[str, Any]) -> str:
    """The section's markdown."""
    parts = [
        f"## {TITLE}\n",
        _context(results),
        _table(results),
        _porting(results),
        _dora_limits(results),
        _method(results),
    ]
    return "\n".join(parts)


def _context(results: dict[str, Any]) -> str:
    dora, ours = results["versions"]["dora"], results["versions"]["overseer"]
    return (
        f"Run on {results['date']} ({results['duration_s']:.0f} s for the whole benchmark).\n"
        f"Machine: {describe_machine(results['machine'])}.\n"
        f"Dora side: dora-search {dora.get('dora-search', '?')}. overseer side:"
        f" overseer-xpmanager {ours.get('overseer-xpmanager', '?')} with overseer-core"
        f" {ours.get('overseer-core', '?')} (source digest `{results['digest']}`). Both:"
        f" torch {ours.get('torch', '?')}, hydra-core {ours.get('hydra-core', '?')}.\n"
    )


def _table(results: dict[str, Any]) -> str:
    lines = [
        "| measure | Dora median [min-max] | overseer-xpmanager median [min-max]"
        " | ours vs Dora | goal (ours) | goal met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    settings = results["settings"]
    names = {
        "pushes": settings["pushes"],
        "store": settings["store_size"],
        "last": min(100, settings["pushes"]),
    }
    lines += [_row(row, results, names) for row in ROWS]
    torch = (
        "torch: whether the command imported it, from one more run under `python -X"
        " importtime`; it is installed in both environments."
    )
    return "\n".join(lines) + "\n\n" + torch + "\n"


def _row(row: Row, results: dict[str, Any], names: dict[str, int]) -> str:
    cells = {peer: _cell(row, results, peer) for peer in ("dora", "overseer")}
    values = results["values"].get(row.key, {})
    medians = {peer: spread(found)[0] for peer, found in values.items() if found}
    ratio = _ratio(row, medians.get("dora"), medians.get("overseer"))
    goal, verdict = _goal(row, medians.get("overseer"), results)
    title = row.title.format(**names)
    return f"| {title} | {cells['dora']} | {cells['overseer']} | {ratio} | {goal} | {verdict} |"


def _cell(row: Row, results: dict[str, Any], peer: str) -> str:
    job = _job_of(row.key)
    error = results["errors"].get(job, {}).get(peer)
    if error:
        return f"failed: {error}"
    found = results["values"].get(row.key, {}).get(peer)
    if not found:
        return "not measured" if row.key != "big-latest" else "no such selector (see below)"
    median, low, high = spread(found)
    text = f"{_number(median)} {row.unit} [{_number(low)}-{_number(high)}]"
    if row.unit in ("XPs/s", "ms/XP"):
        text += f" ({_seconds(row, median):.2f} s)"
    if row.torch:
        imported = results["facts"]["torch"].get(row.torch, {}).get(peer)
        text += {True: ", imports torch", False: ", no torch", None: ""}[imported]
    return text


def _job_of(key: str) -> str:
    for prefix in ("plan-argproj", "plan-hydraproj"):
        if key.startswith(prefix):
            return prefix
    return "push" if key.startswith("push") else key


def _seconds(row: Row, median: float) -> float:
    xps = 1_000 if "argproj" in row.key else 200
    return xps / median if row.unit == "XPs/s" else median * xps / 1000


def _ratio(row: Row, dora: float | None, ours: float | None) -> str:
    if not dora or not ours:
        return "-"
    factor = ours / dora if row.higher_is_better else dora / ours
    return f"{factor:.1f}x faster" if factor >= 1 else f"{1 / factor:.1f}x slower"


def _goal(row: Row, ours: float | None, results: dict[str, Any]) -> tuple[str, str]:
    if row.goal is None:
        return "-", "-"
    sign = ">=" if row.higher_is_better else "<="
    goal = f"{sign} {row.goal:,g} {row.unit}" + (", no torch" if row.torch else "")
    if ours is None:
        return goal, "not measured"
    missed = ours < row.goal if row.higher_is_better else ours > row.goal
    torch = results["facts"]["torch"].get(row.torch or "", {}).get("overseer")
    if missed:
        return goal, f"missed ({_number(ours)} {row.unit})"
    if torch:
        return goal, "missed (imports torch)"
    return goal, f"met ({_number(ours)} {row.unit})"


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def _porting(results: dict[str, Any]) -> str:
    lines = [
        "The porting promise: the two benchmark projects (`benchmarks/xpmanager/projects/`)"
        " are the same files, and differ only in these lines:\n",
        "| file | Dora | overseer-xpmanager |",
        "| --- | --- | --- |",
    ]
    for found in results["differences"]:
        lines.append(f"| `{found['file']}` | `{found['dora']}` | `{found['overseer']}` |")
    return "\n".join(lines) + "\n"


def _dora_limits(results: dict[str, Any]) -> str:
    answer = results["facts"]["dora_latest"]
    return (
        "What Dora could not do: it has no selector for the latest XP. Asked"
        f" `dora -P argproj info -f -1` on the same store, it answered: `{answer}`.\n"
    )


def _method(results: dict[str, Any]) -> str:
    settings = results["settings"]
    store_seconds = results["facts"]["store_seconds"].get("big", {})
    made = ", ".join(f"{peer} {seconds:.1f} s" for peer, seconds in store_seconds.items())
    return f"""Method:

- Two virtual environments under `.bench/`, made from the same Python, with the same torch
  (CPU build), hydra-core and omegaconf: `venv-dora` with dora-search from PyPI,
  `venv-xpmanager` with overseer-core and overseer-xpmanager installed (not editable) from
  `packages/`. Each command runs in a copy of its peer's projects under
  `.bench/xpmanager-work/`, with `PYTHONPATH` and the XP managers' variables removed.
- Whole commands: Dora's `dora -P PACKAGE ...` console script against
  `python -m overseer_xpmanager -P PACKAGE ...`; the wall time from starting the process
  to its exit, its output read through a pipe. Dora takes an XP's signature as
  `info -f SIG`, ours as `info SIG`. Each `info` runs {settings["repeats"]} times per
  peer, each `grid` {settings["grid_repeats"]} times; within a repetition the peers run
  one after the other, their order swapped every repetition. An `info` whose output does
  not name the XP, or a `grid` whose output does not name every XP of the grid once,
  fails instead of giving a time.
- Stores: made before the timed runs through each peer's API (`main.get_xp(argv)`, and
  `main.init_xp(xp)` for Dora, whose `get_xp` writes nothing); not timed against a goal.
  The large store's {settings["store_size"]:,} XPs each have their own seed and one of ten
  learning rates; making it took {made or "-"}. Its `info SIG` asks for the XP made
  half-way; `info -1` must name the last one made.
- Grids: `grids/sweep.py` of each project: 10 learning rates x 10 batch sizes x 10 seeds
  over a 24-argument parser (argparse), 2 models x 2 optimisers (hydra config groups) x 10
  learning rates x 5 seeds (hydra). `--dry_run` schedules nothing; Dora's ran to its end
  (it calls Slurm only to submit or cancel jobs), so its whole command is timed here, no
  fallback needed. Whole-command rows give XPs per second (argparse) or ms per XP (hydra)
  over the whole command, and its seconds in brackets after them.
- Planning in one process (`peer_tasks.py plan`): the project and its grid file imported,
  then the grid planned twice with `time.perf_counter` around each: ours through
  `overseer_xpmanager.grid.plan_grid`, Dora's through the planning half of
  `dora.grid.run_grid` (a `Shepherd`, a `Herd` and a `Launcher` given to the explorer; a
  pool of 4 processes for a hydra main, as `run_grid` does). The first plan pays the
  imports and compositions a `grid` command pays; the second shows the steady rate.
  {settings["process_repeats"]} fresh processes per peer.
- `push_metrics` (`peer_tasks.py push`): one untimed push into another XP first (it makes
  Dora import torch through `dora.distrib`, and ours import overseer's `give`), then
  {settings["pushes"]:,} pushes of a 6-number dict into a fresh XP, timed in blocks of 100;
  Dora's inside `with xp.enter()`, as its link writes only there. Dora rewrites the whole
  `history.json` on each push, so its cost grows with the history: the row of the last
  {min(100, settings["pushes"])} pushes shows the cost at the end. The history must hold
  every push afterwards. {settings["process_repeats"]} fresh processes per peer, the store
  removed before each.
- Each figure is the median over those runs or processes, with the minimum and maximum in
  brackets. "ours vs Dora" compares medians.
"""
