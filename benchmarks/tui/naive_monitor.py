"""The peer of the terminal measures: a monitor written the obvious way with stock Textual.

::

    python benchmarks/tui/naive_monitor.py .bench/tui-work/live

Every 0.1 s it reads every ``xps/*/events.jsonl`` from the start, parses every line, clears
a ``DataTable`` and refills it with one row per run (name, signature, status, step, latest
and best loss, latest accuracy, entries). The cursor row is kept across refills; ``j`` and
``k`` move it, as in overseer-tui. This is the "re-read everything at 10 Hz into a
DataTable" design the issue measured (60% of a core, 185-279 ms from a key to the screen).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

COLUMNS = ("name", "sig", "status", "step", "loss", "best loss", "accuracy", "entries")
REFRESH_SECONDS = 0.1


def read_run(folder: Path) -> tuple[Any, ...]:
    """One row: everything re-read and re-parsed from the run's files."""
    meta = json.loads((folder / "meta.json").read_text())
    job = json.loads((folder / "job.json").read_text())
    step: Any = "-"
    loss = accuracy = best = math.nan
    entries = 0
    events = folder / "events.jsonl"
    if events.is_file():
        for line in events.read_text().splitlines():
            entry = json.loads(line)
            entries += 1
            data = entry.get("data")
            if entry.get("event") != "data" or not isinstance(data, dict):
                continue
            step = data.get("step", step)
            loss = data.get("loss", loss)
            accuracy = data.get("accuracy", accuracy)
            if isinstance(loss, float):
                best = loss if math.isnan(best) else min(best, loss)
    cells = (loss, best, accuracy)
    numbers = [f"{value:.4g}" if isinstance(value, float) else str(value) for value in cells]
    return (meta["alias"], folder.name, job["state"], str(step), *numbers, str(entries))


class NaiveMonitor(App[None]):
    """A DataTable cleared and refilled from every events file, ten times a second."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("j", "down", "Down"),
        Binding("k", "up", "Up"),
    ]

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        self.refill()
        self.set_interval(REFRESH_SECONDS, self.refill)

    def refill(self) -> None:
        """Read everything again and rebuild the table, keeping the cursor row."""
        rows = [read_run(folder) for folder in sorted((self.root / "xps").iterdir())]
        rows.sort(key=lambda row: row[0])
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        table.add_rows(rows)
        table.move_cursor(row=cursor, animate=False)

    def action_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()


if __name__ == "__main__":
    NaiveMonitor(Path(sys.argv[1])).run()
