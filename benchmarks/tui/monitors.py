"""The terminal measures: a monitor in a real terminal (tmux), over a real XP store.

::

    with Terminal() as terminal:
        found = streaming(terminal, OURS, store, seconds=30, presses=40)
        found = idle(terminal, PEER, store, seconds=30)
        found = first_frames(terminal, OURS, store, starts=5)

Streaming: a writer process (``xp_store.py write``) appends one data entry per run per
second while the monitor runs; its CPU (user + system, from /proc) is read over ``seconds``,
then ``j`` is pressed ``presses`` times and the screen is polled until the cursor row moves.
Idle: the same over a finished store and no writer. First frames: from asking tmux for the
session to the first capture of the screen that shows a run's name.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terminal import (
    Terminal,
    TerminalError,
    cpu_seconds,
    cursor_name,
    name_below,
    names_on_screen,
    wait_for,
)

HERE = Path(__file__).resolve().parent
SETTLE_SECONDS = 5.0  # after the first frame: the monitor finishes loading the store
WINDOW_SECONDS = 5.0  # CPU is also read per window, for the range
PRESS_TIMEOUT = 2.0
WARMUP_PRESSES = 3


@dataclass(frozen=True)
class Monitor:
    """A monitor to run in the terminal: its name and its command for a store."""

    name: str
    command: Callable[[Path], list[str]]


OURS = Monitor("ours", lambda root: [sys.executable, "-m", "overseer_tui", str(root)])
PEER = Monitor("peer", lambda root: [sys.executable, str(HERE / "naive_monitor.py"), str(root)])


def start(terminal: Terminal, monitor: Monitor, root: Path, names: set[str]) -> tuple[str, float]:
    """Start ``monitor`` in a fresh session; the session and seconds to its first frame."""
    began = time.perf_counter()
    session = terminal.start(monitor.command(root))
    try:
        seen, _ = wait_for(lambda: names_on_screen(terminal.capture(session), names), 30.0)
    except TerminalError:
        screen = "\n".join(terminal.capture(session)) if terminal.has(session) else "(exited)"
        message = f"{monitor.name}: no run name on screen after 30 s:\n{screen}"
        raise TerminalError(message) from None
    return session, seen - began


def cpu_use(pid: int, seconds: float) -> dict[str, Any]:
    """The share of one core ``pid`` used over ``seconds``, and per window of 5 s."""
    windows = []
    began, used = time.perf_counter(), cpu_seconds(pid)
    first_wall, first_cpu = began, used
    loads = os.getloadavg()
    while time.perf_counter() - first_wall < seconds - 1e-3:
        time.sleep(min(WINDOW_SECONDS, seconds - (time.perf_counter() - first_wall)))
        now, total = time.perf_counter(), cpu_seconds(pid)
        windows.append((total - used) / (now - began))
        began, used = now, total
    share = (used - first_cpu) / (began - first_wall)
    return {"share": share, "windows": windows, "seconds": began - first_wall, "load": loads}


def press_latencies(
    terminal: Terminal, session: str, names: set[str], presses: int, seed: int = 0
) -> dict[str, Any]:
    """Seconds from sending ``j`` to the first capture showing the cursor on another row."""
    rng = random.Random(seed)
    latencies: list[float | None] = []
    capture_seconds: list[float] = []
    elsewhere = 0  # presses after which the cursor was not on the row below

    def moved(before: str) -> Callable[[], str | None]:
        def check() -> str | None:
            began = time.perf_counter()
            name = cursor_name(terminal.capture(session), names)
            capture_seconds.append(time.perf_counter() - began)
            return name if name is not None and name != before else None

        return check

    for _ in range(WARMUP_PRESSES + presses):
        screen = terminal.capture(session)
        before = cursor_name(screen, names)
        if before is None:
            raise TerminalError("no cursor row found on the screen")
        expected = name_below(screen, names, before)
        began = time.perf_counter()
        terminal.send_keys(session, "j")
        try:
            seen, after = wait_for(moved(before), PRESS_TIMEOUT)
            latencies.append(seen - began)
            elsewhere += expected is not None and after != expected
        except TerminalError:
            latencies.append(None)
        time.sleep(rng.uniform(0.15, 0.35))
    return {
        "warmup": latencies[:WARMUP_PRESSES],
        "latencies": latencies[WARMUP_PRESSES:],
        "capture_s": sorted(capture_seconds)[len(capture_seconds) // 2],
        "elsewhere": elsewhere,
    }


def streaming(
    terminal: Terminal,
    monitor: Monitor,
    root: Path,
    names: set[str],
    *,
    seconds: float,
    presses: int,
) -> dict[str, Any]:
    """CPU over ``seconds`` then key-to-frame latencies, while a writer streams."""
    writer = subprocess.Popen([sys.executable, str(HERE / "xp_store.py"), "write", str(root)])
    try:
        session, first = start(terminal, monitor, root, names)
        try:
            time.sleep(SETTLE_SECONDS)
            pid = terminal.pane_pid(session)
            server, server_cpu = terminal.server_pid(), cpu_seconds(terminal.server_pid())
            writer_cpu = cpu_seconds(writer.pid)
            found: dict[str, Any] = {"first_frame": first, "cpu": cpu_use(pid, seconds)}
            elapsed = found["cpu"]["seconds"]
            found["tmux_share"] = (cpu_seconds(server) - server_cpu) / elapsed
            found["writer_share"] = (cpu_seconds(writer.pid) - writer_cpu) / elapsed
            found["keys"] = press_latencies(terminal, session, names, presses)
        finally:
            terminal.stop(session)
    finally:
        writer.terminate()
        writer.wait()
    return found


def idle(
    terminal: Terminal, monitor: Monitor, root: Path, names: set[str], *, seconds: float
) -> dict[str, Any]:
    """CPU over ``seconds`` on a finished store nothing writes to."""
    session, first = start(terminal, monitor, root, names)
    try:
        time.sleep(SETTLE_SECONDS)
        return {"first_frame": first, "cpu": cpu_use(terminal.pane_pid(session), seconds)}
    finally:
        terminal.stop(session)


def first_frames(
    terminal: Terminal, monitors: Sequence[Monitor], root: Path, names: set[str], starts: int
) -> dict[str, dict[str, Any]]:
    """Seconds from start to a run name on screen: one warm-up, then ``starts`` each,
    the monitors taking turns."""
    found: dict[str, dict[str, Any]] = {m.name: {"warmup": None, "values": []} for m in monitors}
    for turn in range(starts + 1):
        order = monitors if turn % 2 == 0 else list(reversed(monitors))
        for monitor in order:
            session, seconds = start(terminal, monitor, root, names)
            terminal.stop(session)
            if turn == 0:
                found[monitor.name]["warmup"] = seconds
            else:
                found[monitor.name]["values"].append(seconds)
    return found
