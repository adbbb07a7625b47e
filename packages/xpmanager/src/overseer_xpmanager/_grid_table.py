"""The table of a grid: one row per XP, its job, the arguments that vary, its metrics.

::

    #  alias         sig           state                     job     batch_size    lr    loss    acc
    -  ------------  ------------  ------------------------  ------  ----------  ----  ------  -----
    0  exact-nutmeg  cfca681d7c05  COMPLETED (sacct, 4m05s)  4242_0          32   0.1  0.2315  91.0%
    1  broad-robin   954577d00c9a  RUNNING (squeue, 3s)      4242_1          64   0.1     0.9      -
    2  prime-acorn   4543afd941ed  -                         -               32  0.01       -      -
    grid sweep: 3 XPs: 1 RUNNING, 1 COMPLETED, 1 not scheduled

Only the arguments whose values differ between the grid's XPs get a column; the metrics are
the explorer's :meth:`~overseer_xpmanager.explore.Explorer.get_grid_metrics`, read from
:meth:`~overseer_xpmanager.explore.Explorer.process_history` of each XP's pushed history.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from ._format import format_duration, format_value
from ._grid_jobs import GridExecutor, current_job
from ._text_table import Column, argument_columns, render
from .errors import GridError, StoreError
from .job import JobRecord, JobState
from .store import XP, Store

if TYPE_CHECKING:
    from .explore import Explorer
    from .grid import GridPlan

__all__ = ["monitor", "monitor_table", "refresh_jobs"]

WIDTH = 100
_CLEAR_SCREEN = "\x1b[H\x1b[2J"


def refresh_jobs(
    store: Store, plan: GridPlan, executor: GridExecutor
) -> dict[str, JobRecord | None]:
    """The current job of every XP of ``plan``, by signature."""
    return {item.sig: current_job(item.xp(store), executor) for item in plan.items}


def monitor_table(
    store: Store,
    grid_name: str,
    plan: GridPlan,
    explorer: Explorer,
    *,
    jobs: Mapping[str, JobRecord | None] | None = None,
    now: float | None = None,
    width: int = WIDTH,
) -> str:
    """The grid's table as plain text, with a footer counting the XPs by state.

    Args:
        store: the XP store.
        grid_name: the grid's name, for the footer.
        plan: the grid's XPs.
        explorer: the grid, which names the metrics.
        jobs: the jobs by signature (:func:`refresh_jobs`); read from ``job.json`` when None.
        now: the time ages are counted to (seconds since the epoch; now when None).
        width: the widest a line may be; the alias, argument and metric columns narrow to fit.

    Example:
        >>> print(monitor_table(store, "sweep", plan, explorer))  # doctest: +SKIP
    """
    xps = [item.xp(store) for item in plan.items]
    if jobs is None:
        jobs = {xp.sig: xp.job() for xp in xps}
    moment = time.time() if now is None else now
    records = [jobs.get(xp.sig) for xp in xps]
    notes: list[str] = []
    arguments = [(item.definition.delta, item.definition.config) for item in plan.items]
    varying = [*argument_columns(arguments), *_metric_columns(xps, explorer, notes)]
    _shorten_headers(varying)
    columns = [
        Column("#", [str(index) for index in range(len(xps))], right=True),
        Column("alias", [_alias(xp) for xp in xps], shrink=10),
        Column("sig", [xp.sig for xp in xps]),
        Column("state", [_state_text(record, moment) for record in records]),
        Column("job", [_job_id(record) for record in records]),
        *varying,
    ]
    return "\n".join([*render(columns, width), _footer(grid_name, records), *notes])


def _alias(xp: XP) -> str:
    try:
        alias = xp.alias
    except StoreError:
        return "?"
    return "-" if alias == xp.sig else alias


def _state_text(record: JobRecord | None, now: float) -> str:
    if record is None:
        return "-"
    return f"{record.state.value} ({record.source}, {format_duration(record.age(now))})"


def _job_id(record: JobRecord | None) -> str:
    return "-" if record is None or record.job_id is None else record.job_id


def _metric_columns(xps: list[XP], explorer: Explorer, notes: list[str]) -> list[Column]:
    specs = metric_specs(explorer.get_grid_metrics(), explorer)
    if not specs:
        return []
    values = [_processed(xp, explorer, notes) for xp in xps]
    return [
        Column(path, [_metric_text(_lookup(row, path), spec) for row in values], True, 5)
        for path, spec in specs
    ]


def metric_specs(metrics: list[Any], explorer: Explorer) -> list[tuple[str, str | None]]:
    """``get_grid_metrics()``'s entries as ``(dotted path, format or None)`` pairs.

    Raises:
        GridError: an entry that is neither a path, a ``(path, format)`` pair nor a
            treetable node.
    """
    specs: list[tuple[str, str | None]] = []
    for metric in metrics:
        if isinstance(metric, str):
            specs.append((metric, None))
        elif isinstance(metric, (tuple, list)) and len(metric) == 2:
            specs.append((str(metric[0]), None if metric[1] is None else str(metric[1])))
        elif hasattr(metric, "key") and hasattr(metric, "groups"):
            specs.extend(_treetable_specs(metric, "", explorer))
        else:
            message = (
                f"get_grid_metrics() of grid {explorer.name} gave {metric!r}: give dotted "
                "paths ('train.loss'), (path, format) pairs or treetable leaves and groups"
            )
            raise GridError(message)
    return specs


def _treetable_specs(node: Any, prefix: str, explorer: Explorer) -> list[tuple[str, str | None]]:
    path = f"{prefix}{node.key}"
    if node.groups is None:
        return [(path, getattr(node, "format", None))]
    specs: list[tuple[str, str | None]] = []
    for child in node.groups:
        specs.extend(_treetable_specs(child, f"{path}.", explorer))
    return specs


def _processed(xp: XP, explorer: Explorer, notes: list[str]) -> Mapping[str, Any]:
    history = xp.link.history
    if not history:
        return {}
    try:
        return explorer.process_history(history)
    except Exception as error:  # a bug in the grid file's metrics must not stop the table
        notes.append(f"process_history() raised {type(error).__name__} for {xp.sig}: {error}")
        return {}


def _lookup(values: Any, path: str) -> Any:
    if not isinstance(values, Mapping):
        return None
    if path in values:
        return values[path]
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head in values:
            return _lookup(values[head], ".".join(parts[cut:]))
    return None


def _metric_text(value: Any, spec: str | None) -> str:
    if value is None or spec is None or isinstance(value, bool):
        return format_value(value)
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return format_value(value)


def _shorten_headers(columns: list[Column]) -> None:
    """Head each column with the last part of its path when no other column ends alike."""
    lasts = [column.header.rsplit(".", 1)[-1] for column in columns]
    for column, last in zip(columns, lasts, strict=True):
        if lasts.count(last) == 1:
            column.header = last


def _footer(grid_name: str, records: list[JobRecord | None]) -> str:
    counts = dict.fromkeys(JobState, 0)
    for record in records:
        if record is not None:
            counts[record.state] += 1
    parts = [f"{count} {state.value}" for state, count in counts.items() if count]
    unscheduled = sum(record is None for record in records)
    if unscheduled:
        parts.append(f"{unscheduled} not scheduled")
    summary = ", ".join(parts) or "nothing to show"
    return f"grid {grid_name}: {len(records)} XPs: {summary}"


def monitor(
    store: Store,
    grid_name: str,
    plan: GridPlan,
    explorer: Explorer,
    executor: GridExecutor,
    interval: float,
    *,
    once: bool = False,
    out: TextIO | None = None,
) -> bool:
    """Print the grid's table every ``interval`` seconds until every XP's job has ended.

    The screen is cleared between tables only when ``out`` is a terminal.

    Args:
        once: print one table and return.
        out: where to print (standard output when None).

    Returns:
        Whether every XP's job has ended (or never started).
    """
    stream = sys.stdout if out is None else out
    first = True
    while True:
        jobs = refresh_jobs(store, plan, executor)
        if not first and stream.isatty():
            stream.write(_CLEAR_SCREEN)
        stream.write(monitor_table(store, grid_name, plan, explorer, jobs=jobs) + "\n")
        finished = all(record is None or record.state.done for record in jobs.values())
        if once or finished:
            stream.flush()
            return finished
        stream.write(f"next refresh in {interval:g}s; Ctrl-C stops watching, jobs keep running\n")
        stream.flush()
        time.sleep(interval)
        first = False
