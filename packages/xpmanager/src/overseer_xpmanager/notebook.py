"""A notebook's view of the XP store, as pavlov has it: ``runs()``, ``monitor(-1)``,
``review(-1)``::

    from overseer_xpmanager import monitor, review, runs

    runs()  # every XP of the store, oldest first: a table (HTML in a notebook)
    runs("*-funds")  # those a selector names: -1, a signature, an alias, a glob
    monitor(-1)  # the latest XP's latest values, refreshed until its job ends
    review(-1)  # a figure of each of its metrics, shown inline in a notebook
    review("exact-nutmeg", path="run.png")  # the same, saved as a PNG

The store is ``root=`` when given, else ``$OVERSEER_XP_DIR``, else ``./outputs`` (the XP
manager's default). A run's metrics are the numbers of its history (``xp.link.push_metrics``)
and those it gave to the overseer's data stream (``events.jsonl``), each plotted against its
``step`` (else its ``epoch``) when the record has one, else against its rank.
"""

from __future__ import annotations

import html
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from overseer.stream import read_number

from ._format import format_duration, format_value
from ._text_table import Column, argument_columns, render
from .errors import StoreError, XPManagerError
from .job import JobState
from .jsonl import JsonlTail
from .main import DIR_ENV
from .store import XP, Store

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Review", "RunReader", "RunSummary", "RunTable", "monitor", "review", "runs"]

DEFAULT_DIR = "outputs"  # the default dir= of argparse_main and hydra_main
#: Keys of a record that describe it rather than measure something.
NOT_METRICS = frozenset({"step", "epoch", "task", "units", "progress", "batch", "gpudata"})
_CLEAR_SCREEN = "\x1b[H\x1b[2J"


@dataclass
class RunSummary:
    """One XP as the notebook shows it.

    Attributes:
        xp: the XP itself (its folder, arguments, history).
        state: its job's state (``"RUNNING"``, ``"COMPLETED"`` ...), ``"-"`` without a job.
        metrics: every metric's points, ``(step, value)``, in the order they came.
        ended: whether its event stream holds the end of its program.
    """

    xp: XP
    state: str
    metrics: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    ended: bool = False

    @property
    def latest(self) -> dict[str, float]:
        """Each metric's last value."""
        return {name: points[-1][1] for name, points in self.metrics.items() if points}

    @property
    def done(self) -> bool:
        """Whether the run is over: its job ended, or its program did."""
        return self.ended or (self.state != "-" and JobState(self.state).done)


@dataclass
class RunTable(Sequence[RunSummary]):
    """Runs in a table: text in a terminal, HTML in a notebook; a sequence of
    :class:`RunSummary` otherwise (``runs()[-1].latest["loss"]``)."""

    rows: list[RunSummary]

    def __getitem__(self, index: Any) -> Any:
        return self.rows[index]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[RunSummary]:
        return iter(self.rows)

    def columns(self) -> list[Column]:
        """The table's columns: alias, signature, state, age, the arguments that differ
        between the runs (an argument left at its default shows that default), then the
        latest value of every metric."""
        xps = [row.xp for row in self.rows]
        now = time.time()
        metrics = sorted({name for row in self.rows for name in row.metrics})
        return [
            Column("alias", [xp.alias for xp in xps]),
            Column("sig", [xp.sig for xp in xps]),
            Column("state", [row.state for row in self.rows]),
            Column("age", [format_duration(now - xp.created) for xp in xps]),
            *argument_columns([(xp.delta, xp.config) for xp in xps]),
            *(
                Column(name, [format_value(row.latest.get(name)) for row in self.rows], True)
                for name in metrics
            ),
        ]

    def cells(self) -> tuple[list[str], list[list[str]]]:
        """The header and the rows as text, as :meth:`columns` has them."""
        columns = self.columns()
        body = [list(cells) for cells in zip(*(column.cells for column in columns), strict=True)]
        return [column.header for column in columns], body

    def __str__(self) -> str:
        if not self.rows:
            return "no XP"
        return "\n".join(render(self.columns()))

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        header, body = self.cells()
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"
            for cells in body
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def runs(*selectors: str | int, root: str | os.PathLike[str] | None = None) -> RunTable:
    """The XPs the selectors name (every XP without one), oldest first.

    Raises:
        XPManagerError: no store at the root, or a selector that names no XP.
    """
    store = _store(root)
    if not selectors:
        chosen = store.xps()
    else:
        seen: dict[str, XP] = {}
        for selector in selectors:
            found = store.select(str(selector))
            if not found:
                message = f"runs({selector!r}): no XP matches it in {store.root}"
                raise XPManagerError(message + ": give -1, a signature, an alias or a glob")
            seen.update((xp.sig, xp) for xp in found)
        chosen = sorted(seen.values(), key=lambda xp: xp.created)
    return RunTable([summarise(xp) for xp in chosen])


def monitor(
    selector: str | int = -1,
    *,
    root: str | os.PathLike[str] | None = None,
    interval: float = 2.0,
    timeout: float | None = None,
    out: TextIO | None = None,
) -> RunSummary:
    """Show the run's latest values, refreshed every ``interval`` seconds until it is over
    (or ``timeout`` seconds passed, or Ctrl-C). In a notebook the table is updated in place;
    elsewhere it is printed to ``out`` (standard output), the screen cleared on a terminal.

    Returns:
        The run as it last was.

    Raises:
        XPManagerError: no store, or ``selector`` does not name exactly one XP.
    """
    if not interval > 0:
        raise XPManagerError(f"monitor(interval={interval!r}): give a number of seconds above 0")
    reader = RunReader(_store(root).find(str(selector)))
    shown = _Display(out)
    deadline = None if timeout is None else time.monotonic() + timeout
    summary = reader.refresh()
    try:
        while True:
            shown.show(RunTable([summary]))
            if summary.done or (deadline is not None and time.monotonic() >= deadline):
                return summary
            time.sleep(interval)
            summary = reader.refresh()
    except KeyboardInterrupt:
        return summary


@dataclass
class Review:
    """A figure of a run's metrics: shown inline in a notebook, or saved.

    Attributes:
        figure: the matplotlib figure, one panel per metric.
    """

    figure: Figure

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the figure as a PNG; the path written."""
        target = Path(path)
        self.figure.savefig(target, format="png", dpi=100)
        return target

    def _repr_png_(self) -> bytes:
        from io import BytesIO

        buffer = BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def review(
    selector: str | int = -1,
    *,
    root: str | os.PathLike[str] | None = None,
    metrics: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Review:
    """A figure of the run's metrics (``metrics``: which ones; all by default), one panel
    each, against the step; saved as a PNG at ``path`` when given.

    Raises:
        XPManagerError: no store, no such XP or metric, or matplotlib is not installed.
    """
    summary = summarise(_store(root).find(str(selector)))
    names = list(metrics) if metrics is not None else sorted(summary.metrics)
    unknown = [name for name in names if name not in summary.metrics]
    if unknown or not names:
        known = ", ".join(sorted(summary.metrics)) or "none"
        what = f"no metric {unknown[0]!r}" if unknown else "no metric"
        raise XPManagerError(f"review: XP {summary.xp.alias} has {what} (its metrics: {known})")
    try:
        from matplotlib.figure import Figure
    except ImportError:
        message = "review draws with matplotlib: pip install 'overseer-xpmanager[notebook]'"
        raise XPManagerError(message) from None
    columns = min(len(names), 3)
    rows = math.ceil(len(names) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.0 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        steps, values = zip(*summary.metrics[name], strict=True)
        ax.plot(steps, values, marker="." if len(steps) < 50 else None)
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    figure.suptitle(f"{summary.xp.alias} ({summary.xp.sig}) · {summary.state}")
    result = Review(figure)
    if path is not None:
        result.save(path)
    return result


def summarise(xp: XP) -> RunSummary:
    """The XP's job state and metrics, read from its folder now."""
    return RunReader(xp).refresh()


class RunReader:
    """A run as its files grow: each :meth:`refresh` reads only the lines appended since the
    one before, so that watching a long run costs what it wrote meanwhile, not its whole
    history::

        reader = RunReader(xp)
        reader.refresh().latest  # {'loss': 0.2}
    """

    def __init__(self, xp: XP) -> None:
        self.xp = xp
        self._reset()

    def _reset(self) -> None:
        self.summary = RunSummary(self.xp, "-")
        self._history = JsonlTail(self.xp.history_path)
        self._events = JsonlTail(self.xp.events_path)
        # The (metric, step, value) points seen with a step: a value pushed to the history
        # and given to the stream too is one point.
        self._seen: set[tuple[str, float, float]] = set()

    def refresh(self) -> RunSummary:
        """The run now: its job's state, and its metrics with the points added since."""
        from .schedule import current_job

        history, events = self._history.read(), self._events.read()
        if self._history.restarted or self._events.restarted:  # a file was rewritten
            self._reset()
            history, events = self._history.read(), self._events.read()
        try:
            record = current_job(self.xp)
        except XPManagerError:
            record = self.xp.job()
        self.summary.state = record.state.value if record is not None else "-"
        for entry in history.records:
            self._add(entry)
        for entry in events.records:
            if entry.get("event") == "end":
                self.summary.ended = True
            data = entry.get("data")
            if entry.get("event") == "data" and isinstance(data, dict) and "$event" not in data:
                self._add(data)
        return self.summary

    def _add(self, record: dict[str, Any]) -> None:
        step = read_number(record.get("step", record.get("epoch")))
        for name, value in record.items():
            number = read_number(value)
            if name in NOT_METRICS or name.startswith("$") or number is None:
                continue
            points = self.summary.metrics.setdefault(name, [])
            if step is None:
                points.append((float(len(points)), number))
            elif (name, step, number) not in self._seen:
                self._seen.add((name, step, number))
                points.append((step, number))


def _store(root: str | os.PathLike[str] | None) -> Store:
    folder = Path(root if root is not None else os.environ.get(DIR_ENV) or DEFAULT_DIR)
    if not (folder / "xps").is_dir():
        message = f"no XP store at {folder.absolute()}: pass root=, or set {DIR_ENV}"
        raise StoreError(message)
    return Store(folder)


class _Display:
    """Where :func:`monitor` shows its table: a notebook's output, updated in place, or a
    text stream."""

    def __init__(self, out: TextIO | None) -> None:
        self.out = out
        self.handle: Any = None
        self.notebook = out is None and _in_ipython()

    def show(self, table: RunTable) -> None:
        if self.notebook:
            from IPython.display import display

            if self.handle is None:
                self.handle = display(table, display_id=True)  # type: ignore[no-untyped-call]
            else:
                self.handle.update(table)
            return
        stream = self.out if self.out is not None else sys.stdout
        if self.handle is not None and stream.isatty():
            stream.write(_CLEAR_SCREEN)
        self.handle = True
        stream.write(f"{table}\n")
        stream.flush()


def _in_ipython() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        return shell.get_ipython() is not None
    except AttributeError:
        return False
