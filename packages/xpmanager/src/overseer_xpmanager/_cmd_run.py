"""``suite xp run``: one XP, here, in the foreground, under the overseer."""

from __future__ import annotations

import os
import shutil
import subprocess

from ._cli_context import Context, executor_settings, refreshed_job
from .errors import ArgumentError, XPManagerError
from .job import JobRecord, JobState
from .store import XP

__all__ = ["local_gpu_count", "run"]


def run(context: Context) -> int:
    """Run the XP the arguments define; returns the program's exit status."""
    args = context.args
    xp = context.xp_from_argv(args.argv, accept_drift=args.accept_drift or args.clear)
    nprocs = _process_count(args.ddp, args.ddp_workers)
    flags = context.overseer_flags()
    if args.debug:
        return _debug(context, xp)
    with xp.lock(timeout=5):
        _refuse_live_job(context, xp)
        if args.clear:
            xp.clear_runs()
        settings = executor_settings(args, flags) | {"nprocs": nprocs}
        previous = xp.job()
        attempts = (previous.attempts if previous else 0) + 1
        record = JobRecord(
            executor="local",
            job_id=f"local-{os.getpid()}",
            state=JobState.RUNNING,
            source="process",
            attempts=attempts,
            settings=settings,
        )
        xp.write_job(record)
        print(f"xp: running XP {xp.sig} ({xp.alias}) in {xp.folder}", flush=True)
        from .supervise import supervise

        return supervise(xp, echo=True, overseer_flags=flags, nprocs=nprocs)


def _debug(context: Context, xp: XP) -> int:
    """Run the main here, as ``python -m PACKAGE.train ARGS`` would, with pdb on an exception."""
    import pdb
    import sys
    import traceback

    main = context.main
    os.environ["OVERSEER_XP_DIR"] = str(xp.store.root)
    sys.argv = [f"{xp.package}.train", *xp.argv]
    try:
        main()
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    except Exception:
        traceback.print_exc()
        pdb.post_mortem(sys.exc_info()[2])
        return 1
    return 0


def _refuse_live_job(context: Context, xp: XP) -> None:
    job = refreshed_job(context.store, xp)
    if job is not None and job.state.live:
        message = (
            f"XP {xp.sig} ({xp.alias}) already has a live job {job.job_id} ({job.state.value}): "
            f"wait for it, or cancel it with `suite xp info -C {xp.sig}`"
        )
        raise XPManagerError(message)


def local_gpu_count() -> int:
    """The GPUs ``nvidia-smi -L`` lists here (0 without the NVIDIA driver)."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listing = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(line.startswith("GPU ") for line in listing.stdout.splitlines())


def _process_count(ddp: bool, workers: int | None) -> int:
    if workers is not None and workers < 1:
        message = f"--ddp_workers must be 1 or more, not {workers}"
        raise ArgumentError(message)
    if not ddp:
        return 1
    count = workers or local_gpu_count()
    if count < 1:
        message = "-d found no GPU here: pass --ddp_workers N to run N processes on the CPU"
        raise ArgumentError(message)
    return count
