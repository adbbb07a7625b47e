"""The ``xp`` command: ``suite xp``, ``python -m overseer_xpmanager``, Dora's flags.

::

    suite xp run -- --lr=0.01              run one XP here, in the foreground, under the overseer
    suite xp launch -g 2 -- --lr=0.01      schedule it (local executor, or --slurm)
    suite xp info -1 -t                    the latest XP: state, job, metrics, log tail
    suite xp grid sweep                    make the jobs match grids/sweep.py, then monitor
    suite xp export SIG... > xps.json      move XPs to another store with `suite xp import`

Every error a user can cause is printed on one line (``xp: error: ...``) with exit status 2;
a run that fails exits with the program's own status.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import XPManagerError

__all__ = ["build_parser", "main"]

_EPILOG = (
    "The project package is -P PACKAGE, $OVERSEER_XP_PACKAGE ($DORA_PACKAGE), or the only "
    "folder here holding a train.py. Arguments for the project go after `--`."
)


def _add_submit_rules(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-r", "--retry", action="store_true", help="retry failed or cancelled XPs")
    parser.add_argument("-R", "--replace", action="store_true", help="replace live jobs")
    parser.add_argument(
        "-D", "--replace_done", action="store_true", help="rerun XPs that completed"
    )


def _add_executor(parser: argparse.ArgumentParser) -> None:
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--slurm",
        dest="executor",
        action="store_const",
        const="slurm",
        help="schedule on Slurm through submitit",
    )
    choice.add_argument(
        "--local",
        dest="executor",
        action="store_const",
        const="local",
        help="schedule as background processes here (the default)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="local executor: XPs running at once (default: the CPU count)",
    )
    parser.add_argument("-g", "--gpus", type=int, help="GPUs per XP")
    parser.add_argument("-p", "--partition", help="Slurm partition")
    parser.add_argument(
        "--dev", dest="partition", action="store_const", const="dev", help="the dev partition"
    )
    parser.add_argument("-c", "--comment", help="Slurm comment")
    parser.add_argument("--constraint", help="Slurm constraint")
    parser.add_argument("--time", type=int, metavar="MINUTES", help="Slurm time limit")


def _add_overseer_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-O",
        "--overseer",
        action="append",
        default=[],
        metavar="FLAG",
        help="a flag for the overseer that runs the XP (repeat; e.g. -O=--rate)",
    )


def _add_run(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser("run", help="run one XP here, in the foreground")
    run.add_argument("-f", "--from_sig", metavar="SIG", help="start from this XP's arguments")
    run.add_argument("-d", "--ddp", action="store_true", help="one process per local GPU")
    run.add_argument("--ddp_workers", type=int, metavar="N", help="processes for -d")
    run.add_argument("--clear", action="store_true", help="empty the XP folder first")
    run.add_argument(
        "-D",
        "--debug",
        action="store_true",
        help="run in this process, without the overseer; pdb on an exception",
    )
    run.add_argument(
        "--accept_drift", action="store_true", help="follow defaults that changed since"
    )
    _add_overseer_flags(run)
    run.add_argument("argv", nargs="*", help="the project's arguments")


def _add_launch(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    launch = commands.add_parser("launch", help="schedule one XP and follow it")
    launch.add_argument("-f", "--from_sig", metavar="SIG", help="start from this XP's arguments")
    launch.add_argument(
        "-a", "--attach", action="store_true", help="cancel the job if this command is killed"
    )
    launch.add_argument(
        "--no_tail", dest="tail", action="store_false", help="return once scheduled"
    )
    launch.add_argument("-C", "--cancel", action="store_true", help="cancel its job and return")
    launch.add_argument("--clear", action="store_true", help="empty the XP folder first")
    _add_submit_rules(launch)
    _add_executor(launch)
    _add_overseer_flags(launch)
    launch.add_argument("argv", nargs="*", help="the project's arguments")


def _add_info(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    info = commands.add_parser("info", help="state, folder, job, metrics and log of XPs")
    info.add_argument("-f", "--from_sig", metavar="SELECTOR", help="the XP: sig, alias, glob, -1")
    info.add_argument("-j", "--job_id", help="the XP whose latest job has this id")
    info.add_argument("-C", "--cancel", action="store_true", help="cancel its job")
    info.add_argument("-l", "--log", action="store_true", help="print the whole log")
    info.add_argument("-t", "--tail", action="store_true", help="follow the log to the end")
    info.add_argument("-m", "--metrics", action="store_true", help="print the last metrics")
    info.add_argument("--folder", action="store_true", help="print only the XP folder")
    info.add_argument("argv", nargs="*", help="a selector, or the project's arguments")


def _add_grid(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    grid = commands.add_parser("grid", help="make the jobs match a grid file, then monitor")
    _add_submit_rules(grid)
    _add_executor(grid)
    _add_overseer_flags(grid)
    grid.add_argument("-C", "--cancel", action="store_true", help="cancel the grid's jobs")
    grid.add_argument("--clear", action="store_true", help="empty the grid's XPs and rerun them")
    grid.add_argument(
        "-i",
        "--interval",
        type=float,
        default=5.0,
        metavar="MINUTES",
        help="monitor refresh interval (minutes, default 5)",
    )
    grid.add_argument(
        "--no_monitoring", dest="monitor", action="store_false", help="schedule, print, return"
    )
    grid.add_argument("--monitor", dest="monitor", action="store_true", help=argparse.SUPPRESS)
    grid.add_argument("--dry_run", action="store_true", help="show what would be done")
    grid.add_argument("--init", action="store_true", help="make the XPs, schedule nothing")
    grid.add_argument("grid", nargs="?", help="the grid: PACKAGE/grids/GRID.py")
    grid.add_argument(
        "patterns",
        nargs="*",
        help="right after GRID: handle only the XPs matching every pattern (lr=0.1, a sig)",
    )


def _add_share(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser("export", help="print XPs for `import` in another store")
    export.add_argument("sigs", nargs="+", metavar="SELECTOR", help="the XPs")
    imported = commands.add_parser("import", help="make the XPs that `export` printed")
    imported.add_argument(
        "file", nargs="?", default="-", help="the exported document (default: stdin)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``xp`` command and its subcommands."""
    description = "Experiments named by a signature of their arguments: run, launch, grids."
    parser = argparse.ArgumentParser(prog="suite xp", description=description, epilog=_EPILOG)
    parser.add_argument("-P", "--package", help="the project package (holding train.py)")
    parser.add_argument(
        "--main_module", default=None, help="the module of the main, in the package (train)"
    )
    parser.add_argument("--dir", help="the XP store (default: the main's dir=)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (_add_run, _add_launch, _add_info, _add_grid, _add_share):
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Manage experiments named by their arguments: run, launch, info, grid (Dora's commands).

    Returns the exit status.
    """
    from ._cli_context import dispatch

    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        return dispatch(args)
    except XPManagerError as error:
        print(f"xp: error: {error}", file=sys.stderr)
        if error.details:
            print(error.details.rstrip(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xp: interrupted", file=sys.stderr)
        return 130
