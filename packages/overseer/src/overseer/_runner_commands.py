"""The commands a runner runs: each argv and environment checked, and why one cannot start."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import UsageError
from .schema import DATA_FD_ENV

StrPath = str | os.PathLike[str]
Environment = Mapping[str, str]


def _start_failure(argv: list[str], cwd: StrPath | None, error: OSError) -> tuple[int, str]:
    """The return code and the one-line message of a command that could not start."""
    start = f"cannot start {argv[0]!r}"
    if cwd is not None and not os.path.isdir(cwd):
        folder = os.fspath(cwd)
        return 127, f"{start} in {folder!r}: no such folder; create it or pass another cwd"
    if isinstance(error, FileNotFoundError):
        where = "no such file" if os.sep in argv[0] else "not found on PATH"
        return 127, f"{start}: {where}; install it, fix the name, or give its full path"
    if isinstance(error, PermissionError):
        fix = "make it executable (chmod +x) or run it through its interpreter"
        return 126, f"{start}: permission denied; {fix}"
    reason = error.strerror or str(error)
    return 126, f"{start}: {reason}; check that it is a program this machine can run"


def _argv_list(commands: Sequence[StrPath] | Sequence[Sequence[StrPath]]) -> list[list[str]]:
    """Every command as a list of strings, whether given one argv or several."""
    if isinstance(commands, (str, bytes)):
        example = commands.split()
        message = f"command {commands!r} is a string: pass an argv list such as {example!r}"
        raise UsageError(message)
    items: list[Any] = list(commands)
    if items and all(isinstance(item, (str, os.PathLike)) for item in items):
        items = [items]
    return [_argv(index, item) for index, item in enumerate(items)]


def _argv(index: int, command: Any) -> list[str]:
    if isinstance(command, (str, bytes)) or not isinstance(command, Sequence):
        example = "['python', 'train.py']"
        message = f"command {index} is {command!r}: pass an argv list such as {example}"
        raise UsageError(message)
    if not command:
        message = f"command {index} is empty: give at least the program, as in ['python', 'x.py']"
        raise UsageError(message)
    for argument in command:
        if not isinstance(argument, (str, os.PathLike)):
            message = f"command {index} holds {argument!r}: every argument must be a str or a path"
            raise UsageError(message)
    return [os.fspath(argument) for argument in command]


def _environments(
    env: Environment | Sequence[Environment] | None, count: int
) -> list[dict[str, str]]:
    """One environment per command, unbuffered, without an inherited ``$DATA_FD``."""
    if env is None or isinstance(env, Mapping):
        base = os.environ if env is None else env
        environments = [dict(base) for _ in range(count)]
    else:
        environments = [dict(each) for each in env]
        if len(environments) != count:
            given = len(environments)
            message = (
                f"env holds {given} mappings for {count} commands:"
                " give one mapping per command, or a single mapping for all"
            )
            raise UsageError(message)
    for environment in environments:
        environment.setdefault("PYTHONUNBUFFERED", "1")
        # Inherited, it would name one of our descriptors that the child does not have.
        environment.pop(DATA_FD_ENV, None)
    return environments
