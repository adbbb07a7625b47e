"""One script run under the overseer now, watched as it runs.

::

    source = LiveSource(["train.py", "--lr", "0.1"])  # or ["-m", "mypackage.train"]
    while source.run.status is not RunStatus.COMPLETED:
        source.poll()  # what the script gave and printed so far
        time.sleep(0.1)
    source.close()  # stops the script if it still runs

The script runs as ``python -m overseer --log-given <argv>`` through
:func:`overseer.runner.Runner` in a daemon thread, which puts each entry on a queue;
:meth:`LiveSource.poll` applies them to a single :class:`~overseer_tui.model.Run`.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from overseer.runner import Runner

from .clock import Clock, SystemClock
from .errors import ScriptError
from .model import Run, RunSet

__all__ = ["LIVE_SIG", "LiveSource", "script_name"]

LIVE_SIG = "live"
#: What the overseer needs to put every given value on the data stream.
_LOG_GIVEN = "--log-given"


def script_name(argv: Sequence[str]) -> str:
    """The script (or module) that ``argv`` runs, checked before starting it.

    Example::

        script_name(["--gpu-monitor", "train.py", "--lr=0.1"])  # "train.py"
        script_name(["-m", "mypackage.train"])  # "mypackage.train"

    Raises:
        ScriptError: no script is named, or the script is not a file.
    """
    for index, word in enumerate(argv):
        if word == "-m":
            if index + 1 < len(argv):
                return argv[index + 1]
            message = "-m ends the command: give the module to run after it, as in -m pkg.train"
            raise ScriptError(message)
        if word.startswith("-m") and not word.startswith("--"):
            return word[2:]
        if word.startswith("-"):
            continue
        if not Path(word).is_file():
            message = (
                f"script {word!r} is not a file: give a Python script that exists, or -m module"
            )
            raise ScriptError(message)
        return Path(word).name
    shown = " ".join(argv)
    message = f"no script in {shown!r}: give a Python script (train.py) or -m module to run"
    raise ScriptError(message)


class LiveSource:
    """A script started now under the overseer, as a single run named ``live``.

    Args:
        argv: the script and its arguments, as ``overseer`` takes them (overseer flags may
            come first); ``--log-given`` is added unless present.
        clock: the run's creation time.
        grace: seconds between SIGTERM and SIGKILL when :meth:`close` stops the script.

    Raises:
        ScriptError: the script is not a file (see :func:`script_name`).
    """

    def __init__(
        self, argv: Sequence[str], *, clock: Clock | None = None, grace: float = 3.0
    ) -> None:
        argv = list(argv)
        name = script_name(argv)
        flags = [] if _LOG_GIVEN in argv else [_LOG_GIVEN]
        self.command = [sys.executable, "-m", "overseer", *flags, *argv]
        self.title = f"live: {' '.join(argv)}"
        self.run = Run(LIVE_SIG, name, created=(clock or SystemClock()).now())
        self.runs = RunSet()
        self.runs.add(self.run)
        self._grace = grace
        self._entries: queue.SimpleQueue[Mapping[str, Any]] = queue.SimpleQueue()
        self._runner = Runner([self.command], grace=grace)
        self._runner.start()
        self._thread = threading.Thread(target=self._pump, name="overseer-tui-live", daemon=True)
        self._thread.start()
        self._closed = False

    @property
    def running(self) -> bool:
        """Whether the thread reading the script's streams still runs."""
        return self._thread.is_alive()

    @property
    def loading(self) -> bool:
        """Whether entries wait to be applied (the app then polls again at once)."""
        return not self._entries.empty()

    def poll(self, budget: float = 0.05) -> bool:
        """Apply the entries that arrived, for ``budget`` seconds at most.

        Returns:
            Whether any entry arrived.
        """
        deadline = time.perf_counter() + budget
        applied = 0
        while time.perf_counter() < deadline or not applied:
            try:
                entry = self._entries.get_nowait()
            except queue.Empty:
                break
            self.run.apply(entry)
            applied += 1
        if applied:
            self.runs.touch(LIVE_SIG)
        return applied > 0

    def close(self) -> None:
        """Stop the script if it still runs (SIGTERM, then SIGKILL), and apply its end."""
        if self._closed:
            return
        self._closed = True
        self._runner.terminate()
        self._thread.join(timeout=self._grace + 5.0)
        while self.poll():
            pass

    def _pump(self) -> None:
        """The thread: every entry of the script onto the queue."""
        try:
            for entry in self._runner:
                self._entries.put(entry)
        except Exception as error:  # a broken pipe or OS error: say so in the run, not stderr
            failure = {"type": type(error).__name__, "message": str(error)}
            self._entries.put({"event": "error", "data": failure, "t": time.time()})
