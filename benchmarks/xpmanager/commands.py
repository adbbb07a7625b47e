"""Whole commands timed from outside: ``dora ...`` against ``python -m overseer_xpmanager ...``.

Each command runs in a fresh process, in a copy of the peer's project, with nothing of the
caller's environment that would change what it finds (``PYTHONPATH``, the XP managers' own
variables). Its wall time is the time from starting the process to its exit, output read
through a pipe included. A run that fails, or whose output does not name the XPs it should,
raises :class:`RunFailed` instead of giving a time.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from peers import Peer

TIMEOUT_S = 600
# Variables that would point a peer at another project, store or set of modules.
_DROPPED = ("PYTHONPATH", "PYTHONSTARTUP", "DORA_PACKAGE", "DORA_MAIN_MODULE")
_DROPPED_PREFIXES = ("OVERSEER_XP_",)
# Dora's signatures are 8 hex digits, overseer-xpmanager's 12.
_SIG_LENGTH = {"dora": 8, "overseer": 12}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class RunFailed(RuntimeError):
    """A command or a measuring process failed, or gave the wrong answer."""


def clean_environment() -> dict[str, str]:
    """The environment every measured process gets."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in _DROPPED and not name.startswith(_DROPPED_PREFIXES)
    }


def run(command: list[str], cwd: Path) -> tuple[float, str]:
    """Run ``command`` in ``cwd``; its wall time in seconds and its output (stdout + stderr).

    Raises:
        RunFailed: it exited with a non-zero status or ran past the timeout.
    """
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=clean_environment(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise RunFailed(f"no answer after {error.timeout:.0f} s: {' '.join(command)}") from None
    seconds = time.perf_counter() - start
    output = _ANSI.sub("", done.stdout + done.stderr)
    if done.returncode != 0:
        raise RunFailed(f"exit status {done.returncode}: {last_line(output)}")
    return seconds, output


def last_line(output: str) -> str:
    """The last line of ``output`` that says something, for an error message."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def signatures(peer: Peer, output: str) -> set[str]:
    """The distinct signatures of ``peer``'s form that ``output`` names."""
    length = _SIG_LENGTH[peer.name]
    return set(re.findall(rf"(?<![0-9a-z])[0-9a-f]{{{length}}}(?![0-9a-z])", output))


def check_names(output: str, sig: str) -> None:
    """Raise :class:`RunFailed` unless ``output`` names the XP ``sig``."""
    if sig not in output:
        raise RunFailed(f"the output does not name XP {sig}: {last_line(output)}")


def check_grid(peer: Peer, output: str, expected: int) -> None:
    """Raise :class:`RunFailed` unless ``output`` names ``expected`` distinct XPs."""
    found = len(signatures(peer, output))
    if found != expected:
        raise RunFailed(f"the grid output names {found} XPs, not {expected}: {last_line(output)}")


def imports_torch(peer: Peer, arguments: list[str], cwd: Path) -> bool:
    """Whether ``peer``'s command with ``arguments`` imports torch (from ``-X importtime``).

    The command runs as ``python -X importtime -m dora`` or ``-m overseer_xpmanager``, the
    module its console script calls.
    """
    command = [*peer.module_command("-X", "importtime"), *arguments]
    done = subprocess.run(
        command,
        cwd=cwd,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RunFailed(f"exit status {done.returncode}: {last_line(done.stderr)}")
    modules = (line.rpartition("|")[2].strip() for line in done.stderr.splitlines())
    return any(module == "torch" for module in modules)
