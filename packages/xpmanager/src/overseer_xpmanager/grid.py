"""A grid: the XPs a grid file asks for, brought in line with the jobs that run them.

Three steps, each usable from a notebook as the ``grid`` command uses them::

    plan = plan_grid(main, explorer)  # runs the grid file; writes nothing
    actions = reconcile(
        store,
        "sweep",
        plan,
        LocalExecutor(store),
        retry=False,
        replace=False,
        rerun=False,
        cancel=False,
        clear=False,
        dry_run=False,
    )
    print(monitor_table(store, "sweep", plan, explorer))

:func:`plan_grid` only parses arguments, so ``grid --dry_run`` answers at once for thousands
of XPs. :func:`reconcile` makes the XP folders, links them under ``<root>/grids/<name>/`` and
schedules what needs a job: an XP whose job is queued or running is kept, a failed one waits
for ``retry``, a completed one for ``rerun``; an XP the grid no longer asks for has its live
job cancelled and its link removed. :func:`monitor_table` shows where each XP stands.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Protocol

from ._grid_jobs import (
    GridAction,
    GridExecutor,
    Rules,
    cancel_live,
    clear_xp,
    drop_xp,
    schedule_xps,
)
from ._grid_table import monitor, monitor_table, refresh_jobs
from .errors import ArgumentError, GridError, XPManagerError
from .explore import ArgvRenderer, Explorer, Launch, Launcher
from .store import XP, Store, XPDefinition

__all__ = [
    "GridAction",
    "GridExecutor",
    "GridItem",
    "GridMain",
    "GridPlan",
    "monitor",
    "monitor_table",
    "plan_grid",
    "reconcile",
    "refresh_jobs",
    "select_items",
]


class GridMain(ArgvRenderer, Protocol):
    """What planning needs from the project's main."""

    def definition(self, argv: Sequence[str]) -> XPDefinition:
        """The XP that ``argv`` defines."""


@dataclass
class GridItem:
    """One XP of a grid, before or after it has a folder.

    Attributes:
        definition: what defines the XP.
        sig: its signature.
        settings: the job settings it was launched with.
        array: the index of the ``job_array()`` block it was launched in, None outside one.
    """

    definition: XPDefinition
    sig: str
    settings: dict[str, Any]
    array: int | None = None

    def xp(self, store: Store) -> XP:
        """The XP in ``store`` (its folder may not exist yet)."""
        return XP(store, self.sig)


@dataclass
class GridPlan:
    """The XPs a grid asks for, each once, in the order first asked.

    Attributes:
        items: the XPs.
        notes: remarks for the user (launches that repeated an XP).
        launches: how many launcher calls the grid made.
    """

    items: list[GridItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    launches: int = 0

    @property
    def sigs(self) -> list[str]:
        """The signatures of :attr:`items`, in order."""
        return [item.sig for item in self.items]


def plan_grid(
    main: GridMain, explorer: Explorer, settings: Mapping[str, Any] | None = None
) -> GridPlan:
    """Run the grid's function and turn each launch into an XP definition; write nothing.

    Args:
        main: the project's decorated main.
        explorer: the grid.
        settings: the job settings every launch starts from (the command line's).

    Raises:
        GridError: the grid's function raised (its traceback in ``details``).
        ArgumentError: a launch with an argument the main does not accept.

    Example:
        >>> plan = plan_grid(main, explorer)  # doctest: +SKIP
        >>> [item.definition.argv for item in plan.items]  # doctest: +SKIP
        [['--lr=0.1'], ['--lr=0.01']]
    """
    launcher = Launcher(main, settings)
    try:
        explorer(launcher)
    except XPManagerError:
        raise
    except Exception as error:
        message = (
            f"grid {explorer.name} raised {type(error).__name__}: {error}; fix the grid file "
            "(nothing was scheduled)"
        )
        raise GridError(message, traceback.format_exc()) from error
    plan = GridPlan(launches=len(launcher.launches))
    seen: dict[str, int] = {}
    for number, launch in enumerate(launcher.launches, 1):
        _add_launch(plan, seen, main, number, launch)
    return plan


def _add_launch(
    plan: GridPlan, seen: dict[str, int], main: GridMain, number: int, launch: Launch
) -> None:
    try:
        definition = main.definition(launch.argv)
    except XPManagerError as error:
        message = f"launch {number} of the grid ({' '.join(launch.argv)}): {error}"
        raise type(error)(message, error.details) from error
    sig = definition.sig
    first = seen.get(sig)
    if first is None:
        seen[sig] = len(plan.items)
        plan.items.append(GridItem(definition, sig, launch.settings, launch.array))
        return
    kept = plan.items[first]
    differs = "" if kept.settings == launch.settings else ", with other settings, ignored"
    plan.notes.append(f"launch {number} repeats XP {sig} ({' '.join(launch.argv)}){differs}")


def select_items(plan: GridPlan, patterns: Sequence[str]) -> GridPlan:
    """The part of ``plan`` whose XPs match every pattern (Dora's ``grid NAME PATTERN...``).

    A pattern matches an XP when it is in its signature or its arguments (``lr=0.1``,
    ``--batch_size=64``), or, with ``*?[``, when it globs one of them.

    Example:
        >>> select_items(plan, ["lr=0.01"]).sigs  # doctest: +SKIP
        ['d056684b10db', '9616823cde1d']
    """

    def matches(item: GridItem, pattern: str) -> bool:
        names = [item.sig, *item.definition.argv]
        if set(pattern) & set("*?["):
            return any(fnmatchcase(name, pattern) for name in names)
        return any(pattern in name for name in names)

    chosen = [item for item in plan.items if all(matches(item, p) for p in patterns)]
    return GridPlan(items=chosen, notes=list(plan.notes), launches=plan.launches)


def reconcile(
    store: Store,
    grid_name: str,
    plan: GridPlan,
    executor: GridExecutor,
    *,
    retry: bool = False,
    replace: bool = False,
    rerun: bool = False,
    cancel: bool = False,
    clear: bool = False,
    dry_run: bool = False,
    partial: bool = False,
) -> list[GridAction]:
    """Bring the grid's jobs in line with ``plan``.

    Args:
        store: the XP store.
        grid_name: the grid's name (its links live in ``<root>/grids/<grid_name>``).
        plan: what :func:`plan_grid` returned.
        executor: runs the jobs (local or Slurm).
        retry: resubmit failed, cancelled and timed-out XPs.
        replace: cancel live jobs and submit new ones.
        rerun: resubmit completed XPs.
        cancel: cancel the grid's live jobs instead of scheduling.
        clear: cancel, then remove every file of the grid's XPs but their definition, then
            schedule them afresh (the caller asks the user first).
        dry_run: report what would be done; make, link, cancel and submit nothing (the
            state of a live job is still read, which refreshes its ``job.json``).
        partial: ``plan`` is only part of the grid (:func:`select_items`): the grid's other
            XPs are left alone instead of being dropped.

    Returns:
        One action per XP of the plan, then one per XP dropped from the grid.

    Raises:
        ArgumentError: ``clear`` with ``dry_run``.
        StoreError: a job still runs after ``clear`` cancelled it.
    """
    if clear and dry_run:
        message = "--clear cannot be combined with --dry_run: drop --dry_run to clear the grid"
        raise ArgumentError(message)
    xps = [_ensure(store, grid_name, item, dry_run) for item in plan.items]
    dropped = [
        drop_xp(store, grid_name, sig, executor, dry_run)
        for sig in ([] if partial else _dropped(store, grid_name, plan))
    ]
    if cancel:
        return [*cancel_live(xps, executor, dry_run), *dropped]
    cleared = [clear_xp(xp, executor) for xp in xps] if clear else []
    rules = Rules(retry=retry, replace=replace, rerun=rerun, dry_run=dry_run)
    actions: dict[str, GridAction] = {}
    for group in _groups(plan):
        members = [xps[index] for index in group.indices]
        for action in schedule_xps(members, executor, group.settings, rules):
            actions[action.sig] = action
    done = [*cleared, *(actions[xp.sig] for xp in xps), *dropped]
    for action in done:
        action.alias = _alias(store, action.sig)
    return done


def _alias(store: Store, sig: str) -> str:
    alias = XP(store, sig).alias
    return "" if alias == sig else alias


@dataclass
class _Group:
    """XPs submitted together: one XP, or the members of a ``job_array()`` block."""

    indices: list[int]
    settings: dict[str, Any]


def _ensure(store: Store, grid_name: str, item: GridItem, dry_run: bool) -> XP:
    if dry_run:
        return item.xp(store)
    xp = store.ensure(item.definition)
    store.link_to_grid(grid_name, xp)
    return xp


def _dropped(store: Store, grid_name: str, plan: GridPlan) -> list[str]:
    planned = set(plan.sigs)
    return [sig for sig in store.grid_sigs(grid_name) if sig not in planned]


def _groups(plan: GridPlan) -> list[_Group]:
    groups: list[_Group] = []
    arrays: dict[int, _Group] = {}
    for index, item in enumerate(plan.items):
        group = None if item.array is None else arrays.get(item.array)
        if group is None:
            group = _Group([], item.settings)
            groups.append(group)
            if item.array is not None:
                arrays[item.array] = group
        group.indices.append(index)
    return groups
