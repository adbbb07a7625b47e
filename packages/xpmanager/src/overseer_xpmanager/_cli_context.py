"""What every ``xp`` subcommand starts from: the project, its main, the store, the XP."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ArgumentError, XPNotFound
from .store import XP, Store

if TYPE_CHECKING:
    from .main import DecoratedMain

__all__ = ["Context", "dispatch", "executor_settings"]

DEFAULT_OVERSEER_FLAGS = ("--log-given",)


class Context:
    """The parsed command line with the project, main and store found on first use."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._main: DecoratedMain | None = None

    @property
    def main(self) -> DecoratedMain:
        """The project's decorated main (imports the project's ``train`` module)."""
        if self._main is None:
            from .project import find_package, load_main

            package = find_package(self.args.package, Path.cwd())
            self._main = load_main(package)
        return self._main

    @property
    def store(self) -> Store:
        """``--dir``, else ``$OVERSEER_XP_DIR``, else the main's ``dir=``."""
        explicit = self.args.dir or os.environ.get("OVERSEER_XP_DIR")
        if explicit:
            return Store(explicit)
        return self.main.store()

    def xp_from_argv(self, argv: list[str], *, accept_drift: bool = False) -> XP:
        """The XP the project's arguments define, on top of ``-f SIG``'s when given."""
        base: list[str] = []
        if getattr(self.args, "from_sig", None):
            base = self.store.find(self.args.from_sig).argv
        definition = self.main.definition([*base, *argv])
        return self.store.ensure(definition, accept_drift=accept_drift)

    def overseer_flags(self) -> list[str]:
        """The overseer's flags for the XP's run: ``-O`` ones after the defaults."""
        return [*DEFAULT_OVERSEER_FLAGS, *getattr(self.args, "overseer", [])]

    def executor(self) -> Any:
        """The executor ``--slurm``/``--local``, ``$OVERSEER_XP_EXECUTOR`` or the main names."""
        name = (
            self.args.executor
            or os.environ.get("OVERSEER_XP_EXECUTOR")
            or self.main.executor
            or "local"
        )
        if name not in ("local", "slurm"):
            message = f"unknown executor {name!r}: use 'local' or 'slurm' (--local, --slurm)"
            raise ArgumentError(message)
        if name == "slurm":
            from .executor_slurm import SlurmExecutor

            return SlurmExecutor(self.store)
        from .executor_local import LocalExecutor

        jobs = self.args.jobs
        return LocalExecutor(self.store) if jobs is None else LocalExecutor(self.store, jobs)

    def find_xp(self, selector: str) -> XP:
        """The XP ``selector`` names in the store."""
        return self.store.find(selector)

    def xp_by_job(self, job_id: str) -> XP:
        """The XP whose latest job is ``job_id``."""
        for xp in self.store.xps():
            job = xp.job()
            if job is not None and job.job_id == job_id:
                return xp
        message = f"no XP of store {self.store.root} has job {job_id!r}; `suite xp info` lists them"
        raise XPNotFound(message)


def executor_settings(args: argparse.Namespace, overseer_flags: list[str]) -> dict[str, Any]:
    """The resources asked on the command line, as job settings (None values left out)."""
    names = ("gpus", "partition", "comment", "constraint", "time")
    settings = {name: getattr(args, name) for name in names if getattr(args, name, None)}
    settings["overseer_flags"] = overseer_flags
    settings["cwd"] = os.getcwd()
    return settings


def dispatch(args: argparse.Namespace) -> int:
    """Run the subcommand ``args.command``."""
    from . import _cmd_grid, _cmd_info, _cmd_launch, _cmd_run, _cmd_share

    commands: dict[str, Callable[[Context], int]] = {
        "run": _cmd_run.run,
        "launch": _cmd_launch.launch,
        "info": _cmd_info.info,
        "grid": _cmd_grid.grid,
        "export": _cmd_share.export,
        "import": _cmd_share.import_,
    }
    return commands[args.command](Context(args))


def refreshed_job(store: Store, xp: XP) -> Any:
    """The XP's latest job with its state read again from its executor while it is live."""
    from .schedule import current_job

    return current_job(xp)


def describe_job(job: Any) -> str:
    """``RUNNING (squeue, 3s ago), job 1234 on slurm, attempt 2`` or ``never scheduled``."""
    if job is None:
        return "never scheduled"
    from ._format import format_duration

    text = f"{job.state.value} ({job.source}, {format_duration(job.age())} ago)"
    if job.job_id:
        text += f", job {job.job_id} on {job.executor}"
    if job.attempts > 1:
        text += f", attempt {job.attempts}"
    if job.returncode not in (None, 0):
        text += f", exit status {job.returncode}"
    return text
