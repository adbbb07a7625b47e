"""The ``progress`` instrument: live progress bars on the terminal for ``progress`` records.

Every given record holding ``progress=(i, n)`` moves the bar of its ``task`` (``"progress"``
when it has none); ``n`` may be ``None`` for a total not known yet. ``early_stop`` gives such
records, so ``overseer --progress --early-stop-n 500 train.py`` shows how far the run is from
its stop. In a script::

    from overseer import give

    for step in range(steps):
        give(task="train", progress=(step + 1, steps))

From the command line, ``--progress``; from a voirfile, ``ov.require(progress())``. When the
stream (stderr by default) is not a terminal, the instrument does nothing and rich is never
imported: logs and pipes stay clean.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from ._terminal import is_terminal

__all__ = ["command_line", "progress"]

Instrument = Callable[[Any], Any]

#: The bar of records that hold no ``task``.
UNNAMED = "progress"


def progress(*, stream: TextIO | None = None) -> Instrument:
    """An instrument drawing one bar per task of the records holding ``progress=(i, n)``.

    Args:
        stream: where the bars are drawn (``sys.stderr`` when the run starts, by default).
            Nothing is drawn unless it is a terminal.

    Example::

        def instrument_main(ov):
            ov.require(progress())
    """

    def progress_instrument(ov: Any) -> Iterator[Any]:
        yield ov.phases.parse_args
        target = stream if stream is not None else sys.stderr
        if not is_terminal(target):
            return
        bars = _Bars(target)
        subscription = ov.given.where("progress").subscribe(bars.update)
        try:
            yield ov.phases.run_script
        finally:
            subscription.dispose()
            bars.close()

    return progress_instrument


def command_line(ov: Any) -> Iterator[Any]:
    """Show a progress bar on the terminal for records holding progress=(i, n)."""
    ov.argparser.add_argument(
        "--progress",
        action="store_true",
        help="draw a bar per task for records holding progress=(i, n), on a terminal",
    )
    yield ov.phases.parse_args
    if ov.options.progress:
        ov.require(progress())


class _Bars:
    """The rich progress display, started at the first record so a run without any draws
    nothing; updated from any thread (rich's Progress holds its own lock).
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._display: Any = None
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._closed = False

    def update(self, values: dict[str, Any]) -> None:
        """Move the bar of the record's task; a record whose progress is not (i, n) is ignored."""
        position = _position(values.get("progress"))
        if position is None:
            return
        done, total = position
        name = str(values.get("task", UNNAMED))
        with self._lock:
            if self._closed:
                return
            display = self._display or self._start()
            task = self._tasks.get(name)
            if task is None:
                task = self._tasks[name] = display.add_task(name, total=total, completed=done)
        display.update(task, completed=done, total=total)

    def close(self) -> None:
        """Draw the bars a last time and give the terminal back."""
        with self._lock:
            self._closed = True
            if self._display is not None:
                self._display.stop()

    def _start(self) -> Any:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        # Lines the script prints are drawn above the bars, but stdout is moved onto the
        # bars' stream only when both are the terminal: a piped stdout stays in its pipe.
        both = is_terminal(sys.stdout)
        display = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(file=self._stream),
            redirect_stdout=both,
            redirect_stderr=self._stream is sys.stderr,
        )
        display.start()
        self._display = display
        return display


def _position(value: Any) -> tuple[float, float | None] | None:
    """``(done, total)`` from a ``progress`` value, or ``None`` if it is not one."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return None
    done, total = value
    if not _is_number(done) or not (total is None or _is_number(total)):
        return None
    return done, total


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
