"""``suite xp info``: what became of an XP, or of every XP of the store."""

from __future__ import annotations

import json
import shlex

from ._cli_context import Context, describe_job, refreshed_job
from ._follow import follow, print_log
from ._format import format_duration
from .jsonl import read_jsonl
from .store import XP

__all__ = ["info"]


def info(context: Context) -> int:
    """Show one XP (chosen by a selector, arguments, ``-f`` or ``-j``) or list them all."""
    args = context.args
    if not (args.job_id or args.from_sig or args.argv):
        return _list(context)
    xp = _chosen(context)
    if args.folder:
        print(xp.folder)
        return 0
    job = refreshed_job(context.store, xp)
    _describe(xp, job, context)
    if args.cancel:
        _cancel(context, xp, job)
    if args.metrics:
        history = xp.link.history
        last = json.dumps(history[-1], default=str) if history else "none"
        print(f"metrics[{len(history)}]: {last}")
    if args.log:
        print_log(xp)
    if args.tail:
        job = follow(xp, lambda: refreshed_job(context.store, xp), metrics=False, backlog=200)
    return 0


def _chosen(context: Context) -> XP:
    args = context.args
    if args.job_id:
        return context.xp_by_job(args.job_id)
    if args.from_sig:
        return context.find_xp(args.from_sig)
    if len(args.argv) == 1 and not args.argv[0].startswith("--"):
        matches = context.store.select(args.argv[0])
        if len(matches) == 1:
            return matches[0]
        if matches:
            return context.find_xp(args.argv[0])
    return context.xp_from_argv(list(args.argv))


def _describe(xp: XP, job: object, context: Context) -> None:
    history = read_jsonl(xp.history_path)
    print(f"XP {xp.sig} ({xp.alias})")
    print(f"  folder:  {xp.folder}")
    print(f"  argv:    {shlex.join(xp.argv) or '(defaults)'}")
    print(f"  state:   {describe_job(job)}")
    last = json.dumps(history.records[-1], default=str) if history.records else "none pushed"
    print(f"  metrics: {len(history.records)} entries; last: {last}")
    if history.torn or history.corrupt:
        print(f"  history: {history.torn} torn and {history.corrupt} corrupt lines skipped")
    print(f"  log:     {xp.log_path}")


def _cancel(context: Context, xp: XP, job: object) -> None:
    record = refreshed_job(context.store, xp)
    if record is None or not record.state.live:
        print(f"xp: XP {xp.sig} has no live job to cancel")
        return
    from .schedule import executor_for

    executor_for(record, None, context.store).cancel(xp)
    print(f"xp: cancelled job {record.job_id} of XP {xp.sig}")


def _list(context: Context) -> int:
    store = context.store
    xps = store.xps()
    if not xps:
        print(f"xp: store {store.root} holds no XP yet")
        return 0
    print(f"{'sig':12}  {'alias':18}  {'state':10}  {'age':>7}  argv")
    for xp in xps:
        job = xp.job()
        state = job.state.value if job else "-"
        age = format_duration(job.age()) if job else "-"
        print(f"{xp.sig:12}  {xp.alias:18}  {state:10}  {age:>7}  {shlex.join(xp.argv)}")
    print(f"{len(xps)} XPs in {store.root}")
    return 0
