"""One attempt of an XP: its program run under the overseer, everything it does kept.

The supervisor starts ``python -m overseer [FLAGS] -m <package>.train <argv>`` in the folder
the project runs from, with ``OVERSEER_XP_DIR`` and ``OVERSEER_XP_SIG`` naming the XP, and
reads the run's event stream (:mod:`overseer.runner`). Every entry is appended to the XP's
``events.jsonl``, every line of output also to ``output.log`` under an
``== attempt N, <date> ==`` header, and echoed to the terminal when asked. SIGTERM, SIGINT
and SIGUSR2 reach the program's process group. At the end, ``job.json`` says how the
attempt ended and the exit marker (``exit.json``) holds the return code::

    xp = Store(root).load(sig)
    returncode = supervise(xp, echo=True)
    xp.job().state  # JobState.COMPLETED when the program returned 0

Background and Slurm jobs run ``python -m overseer_xpmanager.supervise ROOT SIG``. A
supervisor killed outright writes no marker: the executors' state readers then find the
process gone and the marker missing, and conclude the job FAILED.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._attempt import AttemptOutput, forward_signals
from ._job_updates import update_job
from ._processes import hold_slot, record_process
from .errors import ProjectError, XPManagerError
from .job import EXIT_MARKER, JobRecord, JobState, write_exit_marker
from .store import XP, Store

__all__ = ["child_command", "import_root", "main", "supervise"]


def child_command(xp: XP, *, overseer_flags: Sequence[str] = ()) -> list[str]:
    """The command that runs ``xp``'s program under the overseer.

    Example:
        >>> child_command(xp, overseer_flags=["--log-given"])  # doctest: +SKIP
        ['/usr/bin/python3', '-m', 'overseer', '--log-given', '-m', 'argproj.train', '--lr=0.1']

    Raises:
        ProjectError: the XP does not name the package it belongs to.
    """
    if not xp.package:
        message = (
            f"XP {xp.sig} names no project package ({xp.folder / 'argv.json'}): its main must "
            "live in PACKAGE/train.py; run it again from there to record the package"
        )
        raise ProjectError(message)
    module = f"{xp.package}.train"
    return [sys.executable, "-m", "overseer", *overseer_flags, "-m", module, *xp.argv]


def import_root(package: str) -> Path | None:
    """The folder ``package`` is imported from (None when it cannot be found here)."""
    try:
        spec = importlib.util.find_spec(package.split(".")[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).parent
    return Path(spec.origin).parent if spec.origin else None


def supervise(
    xp: XP,
    *,
    echo: bool,
    overseer_flags: Sequence[str] = (),
    nprocs: int = 1,
    cwd: str | os.PathLike[str] | None = None,
    job_id: str | None = None,
    executor: str = "local",
    rank: int = 0,
) -> int:
    """Run one attempt of ``xp``; its program's return code.

    Args:
        xp: the XP to run.
        echo: print the program's lines as they come (rank 0's only when ``nprocs > 1``).
        overseer_flags: flags of the ``overseer`` command (instruments), before ``-m``.
        nprocs: processes started at once, each with its rank in ``RANK``/``WORLD_SIZE``.
        cwd: the folder the program runs in; default: the one its package imports from.
        job_id: the executor's id of this job; default ``local-<pid>``.
        executor: ``"local"`` or ``"slurm"``, recorded in ``job.json``.
        rank: this supervisor's rank when the executor starts one per task (Slurm tasks);
            only rank 0 writes ``job.json``, the exit marker and the output log.
    """
    from overseer.runner import Runner

    job_id = job_id or f"local-{os.getpid()}"
    workdir = Path(cwd) if cwd is not None else import_root(xp.package) or Path.cwd()
    commands = [child_command(xp, overseer_flags=overseer_flags)] * nprocs
    environments = _environments(xp, workdir, nprocs)
    lead = rank == 0
    attempt = _begin(xp, job_id, executor) if lead else _attempt_number(xp)
    stopped: list[int] = []
    holder: list[Runner] = []
    with (
        AttemptOutput(xp, attempt, echo=echo, rank=rank, log=lead) as output,
        forward_signals(lambda: holder[0].pids if holder else [], stopped),
        Runner(commands, env=environments, cwd=workdir) as runner,
    ):
        holder.append(runner)
        for entry in runner:
            output.record(entry)
            if entry["event"] == "start" and executor == "local":
                _record_children(xp, job_id, runner)
    returncode = _overall(runner.returncodes)
    if lead:
        _finish(xp, job_id, executor, returncode, bool(stopped))
    return returncode


def _attempt_number(xp: XP) -> int:
    record = xp.job()
    return record.attempts if record is not None else 1


def _begin(xp: XP, job_id: str, executor: str) -> int:
    """Record the start of an attempt in ``job.json``; the attempt's number."""
    (xp.folder / EXIT_MARKER).unlink(missing_ok=True)
    if executor == "local":
        record_process(xp.folder, job_id, os.getpid())

    def start(record: JobRecord | None) -> JobRecord:
        if record is None or record.job_id not in (None, job_id):
            before = record.attempts if record is not None else 0
            record = JobRecord(
                executor=executor,
                job_id=job_id,
                state=JobState.PENDING,
                source="process",
                attempts=before,
            )
        # A command that runs the XP in its own process may record the attempt itself.
        counted = record.state is JobState.RUNNING and job_id == f"local-{os.getpid()}"
        record.job_id = job_id
        record.attempts += 0 if counted and record.attempts else 1
        record.state, record.source, record.updated = JobState.RUNNING, "process", time.time()
        record.returncode = None
        return record

    changed = update_job(xp.folder, start)
    return changed.attempts if changed is not None else 1


def _finish(xp: XP, job_id: str, executor: str, returncode: int, stopped: bool) -> None:
    """Record how the attempt ended, then write the exit marker."""

    def end(record: JobRecord | None) -> JobRecord | None:
        if record is None or record.job_id != job_id:
            return None
        record.returncode = returncode
        record.updated, record.source = time.time(), "marker"
        if returncode == 0:
            record.state = JobState.COMPLETED
        elif stopped and executor == "slurm":
            # Slurm may requeue a job it signalled: its own accounting says what became of it.
            return record
        elif stopped or record.state is JobState.CANCELLED:
            record.state = JobState.CANCELLED
        else:
            record.state = JobState.FAILED
        return record

    update_job(xp.folder, end)
    write_exit_marker(xp.folder, returncode, job_id)


def _overall(returncodes: Sequence[int | None]) -> int:
    """The first failing return code of the processes, 0 when every one succeeded."""
    failing = [code if code is not None else -1 for code in returncodes if code != 0]
    return failing[0] if failing else 0


def _environments(xp: XP, workdir: Path, nprocs: int) -> list[dict[str, str]]:
    base = dict(os.environ)
    base["OVERSEER_XP_DIR"] = str(xp.store.root)
    base["OVERSEER_XP_SIG"] = xp.sig
    base["PYTHONPATH"] = os.pathsep.join(_search_path(xp, workdir, base.get("PYTHONPATH", "")))
    if nprocs == 1:
        return [base]
    from .distrib import distributed_environments

    return [base | extra for extra in distributed_environments(nprocs, _free_port())]


def _search_path(xp: XP, workdir: Path, inherited: str) -> list[str]:
    """``PYTHONPATH`` for the program: its package's folder first, unless it is installed."""
    import sysconfig

    root = str(import_root(xp.package) or workdir)
    installed = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    first = [] if root in installed else [root]
    return list(dict.fromkeys([*first, *filter(None, inherited.split(os.pathsep))]))


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _record_children(xp: XP, job_id: str, runner: Any) -> None:
    record_process(xp.folder, job_id, os.getpid(), [p for p in runner.pids if p is not None])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m overseer_xpmanager.supervise",
        description="Run one attempt of an XP under the overseer, writing its store folder.",
    )
    parser.add_argument("root", help="the store's root folder")
    parser.add_argument("sig", help="the XP's signature")
    parser.add_argument("--echo", action="store_true", help="print the program's lines")
    parser.add_argument(
        "--overseer-flag",
        action="append",
        default=[],
        dest="overseer_flags",
        help="one flag of the overseer command (repeat it; write --overseer-flag=--x)",
    )
    parser.add_argument("--nprocs", type=int, default=1, help="processes started at once")
    parser.add_argument("--cwd", help="the folder the program runs in")
    parser.add_argument(
        "--slots",
        type=int,
        default=0,
        help="wait for one of N local slots (<root>/.local-slots) before starting",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m overseer_xpmanager.supervise ROOT SIG [...]``: the supervisor process."""
    args = _parser().parse_args(argv)
    try:
        xp = Store(args.root).load(args.sig)
        return _supervise_here(xp, args)
    except XPManagerError as error:
        print(f"xp supervise: error: {error}", file=sys.stderr)
        return 2


def _supervise_here(xp: XP, args: argparse.Namespace) -> int:
    options: dict[str, Any] = {
        "echo": args.echo,
        "overseer_flags": args.overseer_flags,
        "nprocs": args.nprocs,
        "cwd": args.cwd,
    }
    if args.slots < 1:
        return supervise(xp, **options)
    record_process(xp.folder, f"local-{os.getpid()}", os.getpid())
    with hold_slot(xp.store.root, args.slots):
        return supervise(xp, **options)


if __name__ == "__main__":
    sys.exit(main())
