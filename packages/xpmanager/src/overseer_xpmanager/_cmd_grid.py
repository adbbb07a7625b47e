"""``suite xp grid NAME``: make the jobs match a grid file, then monitor them."""

from __future__ import annotations

from pathlib import Path

from ._cli_context import Context, executor_settings

__all__ = ["grid"]


def grid(context: Context) -> int:
    """Plan the grid, reconcile the store and executor with it, then show or monitor it."""
    from .project import find_package, grid_names, load_explorer

    args = context.args
    package = find_package(args.package, Path.cwd())
    if not args.grid:
        names = grid_names(package)
        print("\n".join(names) if names else f"xp: package {package} has no grids/ module yet")
        return 0
    explorer = load_explorer(package, args.grid)
    from .grid import monitor, monitor_table, plan_grid, reconcile, select_items

    plan = plan_grid(context.main, explorer, executor_settings(args, context.overseer_flags()))
    if args.patterns:
        plan = select_items(plan, args.patterns)
    store = context.store
    if args.init:
        for item in plan.items:
            store.link_to_grid(args.grid, store.ensure(item.definition))
        print(f"xp: grid {args.grid}: {len(plan.items)} XPs made, nothing scheduled")
        return 0
    executor = context.executor()
    actions = reconcile(
        store,
        args.grid,
        plan,
        executor,
        retry=args.retry,
        replace=args.replace,
        rerun=args.replace_done,
        cancel=args.cancel,
        clear=args.clear,
        dry_run=args.dry_run,
        partial=bool(args.patterns),
    )
    for action in actions:
        print(f"xp: {action}")
    if args.dry_run or args.cancel or not args.monitor:
        print(monitor_table(store, args.grid, plan, explorer))
        return 0
    monitor(store, args.grid, plan, explorer, executor, args.interval * 60, once=False)
    return 0
