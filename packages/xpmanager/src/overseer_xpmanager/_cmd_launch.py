"""``suite xp launch``: schedule one XP on an executor and follow it."""

from __future__ import annotations

from ._cli_context import Context, describe_job, executor_settings, refreshed_job
from ._follow import follow

__all__ = ["launch"]


def launch(context: Context) -> int:
    """Schedule the XP (Dora's rules: -r, -R, -D), then tail its log and metrics."""
    args = context.args
    xp = context.xp_from_argv(args.argv)
    executor = context.executor()
    if args.cancel:
        return _cancel(context, executor, xp)
    if args.clear:
        _cancel(context, executor, xp)
        with xp.lock(timeout=30):
            xp.clear_runs()
    from .schedule import schedule

    settings = executor_settings(args, context.overseer_flags())
    action, job = schedule(
        xp, executor, settings, retry=args.retry, replace=args.replace, rerun=args.replace_done
    )
    print(f"xp: {action}: XP {xp.sig} ({xp.alias}), {describe_job(job)}", flush=True)
    if not args.tail or not job.state.live:
        return 0
    try:
        final = follow(xp, lambda: executor.state(xp))
    except KeyboardInterrupt:
        if args.attach:
            executor.cancel(xp)
            print(f"\nxp: cancelled job {job.job_id} (attached)")
        raise
    print(f"xp: XP {xp.sig} ({xp.alias}) ended: {describe_job(final)}")
    return 0 if final is not None and final.state.value == "COMPLETED" else 1


def _cancel(context: Context, executor: object, xp: object) -> int:
    from .store import XP

    assert isinstance(xp, XP)
    job = refreshed_job(context.store, xp)
    if job is None or not job.state.live:
        print(f"xp: XP {xp.sig} ({xp.alias}) has no live job")
        return 0
    executor.cancel(xp)  # type: ignore[attr-defined]
    print(f"xp: cancelled job {job.job_id} of XP {xp.sig} ({xp.alias})")
    return 0
