"""The ``suite`` command: one name for every command of the installed suite.

``suite NAME ARGS...`` runs the entry point ``NAME`` of the group ``overseer.commands``, a
function ``main(argv: list[str]) -> int``, and exits with what it returns::

    $ suite run train.py --lr 0.1     # overseer-core's command
    $ suite --help                    # every installed command, one line each
    $ suite --version                 # every installed overseer-* distribution

Exit statuses: the command's own; 2 for a command line that names no known command (``suite``
alone prints the help on stderr and exits 2); 1 for a command that cannot load; 130 when
interrupted by Ctrl-C.

A command that cannot load, because a module it needs is not installed, is reported in one
line with the ``pip install`` that fixes it, never with a traceback.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.metadata import Distribution, EntryPoint

__all__ = ["main"]

GROUP = "overseer.commands"
PROGRAM = "suite"
USAGE = f"usage: {PROGRAM} COMMAND [ARGS...] | {PROGRAM} --help | {PROGRAM} --version"
DESCRIPTION = (
    f"Run a command of the overseer suite: an entry point of the group {GROUP!r}.\n"
    f"`{PROGRAM} COMMAND --help` shows the options of COMMAND."
)
# Import names whose distribution is named otherwise; the rest match once canonicalized.
PROVIDERS = {"hydra": "hydra-core", "pynvml": "nvidia-ml-py", "yaml": "pyyaml"}

Command = Callable[[list[str]], "int | None"]


class CommandLoadError(Exception):
    """A command's entry point could not be loaded; the message says why and the fix."""


def main(argv: list[str] | None = None) -> int:
    """Run the ``suite`` command line and return its exit status.

    Args:
        argv: The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status: the command's own, 2 for a bad command line, 1 for a command that
        cannot load, 130 after Ctrl-C.

    Example:
        >>> main(["--version"])  # doctest: +SKIP
        overseer-core 0.1.0
        overseer-suite 0.1.0
        0
    """
    arguments = sys.argv[1:] if argv is None else list(argv)
    try:
        return _dispatch(arguments)
    except KeyboardInterrupt:
        # Ctrl-C is the user's choice, not a failure to explain: the shell's 128 + SIGINT.
        return 130


def _dispatch(arguments: list[str]) -> int:
    if not arguments:
        print(_help_text(), file=sys.stderr)
        return 2
    name, rest = arguments[0], arguments[1:]
    if name in ("-h", "--help"):
        print(_help_text())
        return 0
    if name == "--version":
        print("\n".join(f"{dist} {version}" for dist, version in _suite_versions()))
        return 0
    if name.startswith("-"):
        print(f"{PROGRAM}: unknown option {name!r}; {USAGE}", file=sys.stderr)
        return 2
    commands = _installed_commands()
    if name not in commands:
        known = ", ".join(sorted(commands)) or "none installed (pip install overseer-suite)"
        print(f"{PROGRAM}: unknown command {name!r}; known commands: {known}", file=sys.stderr)
        return 2
    return _run(commands[name], rest)


def _run(entry_point: EntryPoint, arguments: list[str]) -> int:
    try:
        command = _load(entry_point)
    except CommandLoadError as error:
        print(f"{PROGRAM}: command {entry_point.name!r} {error}", file=sys.stderr)
        return 1
    try:
        status = command(arguments)
    except ModuleNotFoundError as error:
        # Commands import their heavy dependencies lazily: a declared one missing at this
        # point is an install problem with a known fix; anything else is the command's own.
        if _requirement_providing(entry_point.dist, error.name) is None:
            raise
        fix = _install_fix(entry_point, error)
        print(
            f"{PROGRAM}: command {entry_point.name!r} cannot run: {error}; {fix}", file=sys.stderr
        )
        return 1
    except SystemExit as exit_:
        return _exit_status(exit_)
    return 0 if status is None else int(status)


def _exit_status(exit_: SystemExit) -> int:
    # The same reading of sys.exit's argument as the interpreter's own.
    if exit_.code is None:
        return 0
    if isinstance(exit_.code, int):
        return exit_.code
    print(exit_.code, file=sys.stderr)
    return 1


def _installed_commands() -> dict[str, EntryPoint]:
    """Every command by name; where two distributions declare a name, the first found wins."""
    from importlib.metadata import entry_points

    commands: dict[str, EntryPoint] = {}
    for entry_point in entry_points(group=GROUP):
        commands.setdefault(entry_point.name, entry_point)
    return commands


def _load(entry_point: EntryPoint) -> Command:
    """The command's function, or a CommandLoadError saying why not and what to do."""
    try:
        loaded = entry_point.load()
    except ImportError as error:
        reason = f"cannot load: {error}; {_install_fix(entry_point, error)}"
        raise CommandLoadError(reason) from error
    except Exception as error:
        # Whatever else a plugin raises while importing is its bug: name the plugin and it.
        origin = f"{entry_point.value} from {_dist_name(entry_point)}"
        reason = f"cannot load: {type(error).__name__}: {error} ({origin})"
        raise CommandLoadError(reason) from error
    if not callable(loaded):
        reason = f"is not callable: {entry_point.value} is a {type(loaded).__name__}"
        raise CommandLoadError(reason)
    command: Command = loaded
    return command


def _dist_name(entry_point: EntryPoint) -> str:
    if entry_point.dist is None:
        return entry_point.module.partition(".")[0]
    return entry_point.dist.name


def _install_fix(entry_point: EntryPoint, error: ImportError) -> str:
    """The ``pip install`` line that brings back the module ``error`` misses."""
    target = _dist_name(entry_point)
    requirement = _requirement_providing(entry_point.dist, error.name)
    if requirement is not None and requirement[1] is not None:
        target = f"{target}[{requirement[1]}]"
    return f"fix it with: pip install '{target}'"


def _requirement_providing(
    dist: Distribution | None, module: str | None
) -> tuple[str, str | None] | None:
    """The requirement of ``dist`` that provides ``module``, as (name, extra or None)."""
    if dist is None or not module:
        return None
    top = module.partition(".")[0]
    wanted = {_canonical(top), _canonical(PROVIDERS.get(top, top))}
    for line in dist.requires or []:
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        if name is None or _canonical(name.group()) not in wanted:
            continue
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", line)
        return name.group(), extra.group(1) if extra else None
    return None


def _canonical(name: str) -> str:
    # PEP 503's normal form of a distribution name.
    return re.sub(r"[-_.]+", "-", name).lower()


def _help_text() -> str:
    commands = _installed_commands()
    lines = [USAGE, "", DESCRIPTION, "", "commands:"]
    width = max((len(name) for name in commands), default=0)
    for name in sorted(commands):
        lines.append(f"  {name:<{width}}  {_describe(commands[name])}")
    if not commands:
        lines.append("  none installed: pip install overseer-suite")
    return "\n".join(lines)


def _describe(entry_point: EntryPoint) -> str:
    """The first line of the command's docstring, or of its module's, or why it cannot load."""
    import inspect

    try:
        command = _load(entry_point)
    except CommandLoadError as error:
        return str(error)
    module = sys.modules.get(getattr(command, "__module__", None) or entry_point.module)
    for text in (inspect.getdoc(command), inspect.getdoc(module) if module else None):
        if text and text.strip():
            return text.strip().splitlines()[0]
    return f"(no description: {entry_point.value} has no docstring)"


def _suite_versions() -> list[tuple[str, str]]:
    """Every installed ``overseer-*`` distribution and its version, sorted by name."""
    from importlib.metadata import distributions

    found: dict[str, str] = {}
    for dist in distributions():
        name = _canonical(dist.name or "")
        # A distribution found twice on sys.path is one install: its first copy is imported.
        if name.startswith("overseer-") and name not in found:
            found[name] = dist.version
    return sorted(found.items())
