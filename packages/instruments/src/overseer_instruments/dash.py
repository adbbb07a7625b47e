"""The ``dash_panel`` instrument: a live panel of everything the script gives.

Each key given gets a row: its latest value, summarised (numbers to 4 significant digits,
tensors and arrays by type, shape and dtype, ``progress=(i, n)`` as a fraction), and how many
times it was given. ``overseer --dash script.py`` shows it when overseer-tui (the full
monitor) is not installed; ``overseer --dash-panel script.py`` always does. From a voirfile::

    from overseer_instruments import dash_panel


    def instrument_main(ov):
        ov.require(dash_panel())

On a terminal the panel is redrawn four times a second on stderr, the script's own lines
printed above it; elsewhere (a log file, a pipe) it is written once, when the script ends.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from ._terminal import is_terminal

__all__ = ["command_line", "dash_panel"]

Instrument = Callable[[Any], Any]

#: How many characters of a value's summary the panel shows.
WIDTH = 60


def dash_panel(*, stream: TextIO | None = None) -> Instrument:
    """An instrument showing every key given, with its latest value, in a live panel.

    Args:
        stream: where the panel is drawn (``sys.stderr`` when the run starts, by default):
            live on a terminal, else once at the end.

    Example, the panel in a file of its own, written when the script ends::

        def instrument_main(ov):
            ov.require(dash_panel(stream=open("given.txt", "w")))
    """

    def dash_panel_instrument(ov: Any) -> Iterator[Any]:
        yield ov.phases.load_script
        target = stream if stream is not None else sys.stderr
        program = getattr(ov, "program", None)
        panel = _Panel(getattr(program, "name", "the script"))
        subscription = ov.given.subscribe(panel.record)
        live = _start_live(panel, target) if is_terminal(target) else None
        try:
            yield ov.phases.run_script
        finally:
            subscription.dispose()
            if live is not None:
                live.stop()
            else:
                _print_once(panel, target)

    return dash_panel_instrument


def command_line(ov: Any) -> Iterator[Any]:
    """Show every key the script gives, with its latest value, in a live panel."""
    ov.argparser.add_argument(
        "--dash-panel",
        action="store_true",
        help="show every key given and its latest value in a live panel (--dash without"
        " overseer-tui)",
    )
    yield ov.phases.parse_args
    if ov.options.dash_panel:
        ov.require(dash_panel())


class _Panel:
    """The latest value and the count of each key given, read and written from any thread."""

    def __init__(self, script: str) -> None:
        self.script = script
        self.started = time.monotonic()
        self.records = 0
        self._latest: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def record(self, values: dict[str, Any]) -> None:
        """Take one given record; keys starting with ``$`` (the stream's own) are left out."""
        summaries = [(key, summary(value)) for key, value in values.items() if key[:1] != "$"]
        with self._lock:
            self.records += 1
            for key, text in summaries:
                count = self._latest.get(key, ("", 0))[1]
                self._latest[key] = (text, count + 1)

    def rows(self) -> list[tuple[str, str, int]]:
        """``(key, latest value, times given)``, in the order the keys first came."""
        with self._lock:
            return [(key, text, count) for key, (text, count) in self._latest.items()]

    def render(self) -> Any:
        """The rich table of the rows, titled with the script, the time and the records."""
        from rich import box
        from rich.table import Table

        elapsed = time.monotonic() - self.started
        title = f"{self.script} · {elapsed:.0f} s · {self.records} records given"
        table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", expand=False)
        table.add_column("key", style="bold")
        table.add_column("latest", overflow="ellipsis", max_width=WIDTH)
        table.add_column("given", justify="right")
        rows = self.rows()
        for key, text, count in rows:
            table.add_row(key, text, str(count))
        if not rows:
            table.add_row("(nothing given yet)", "", "")
        return table


def summary(value: Any) -> str:
    """A short text for a given value::

    summary(0.000123456) == "0.0001235"
    summary((3, 10)) == "(3, 10)"
    summary(torch.zeros(64, 3)) == "Tensor (64, 3) float32"
    """
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        dims = tuple(int(size) for size in shape)
        dtype = str(value.dtype).removeprefix("torch.")
        if not dims:  # a scalar tensor or array: its number
            try:
                return f"{float(value):.4g} ({dtype})"
            except (TypeError, ValueError):
                pass
        return f"{type(value).__name__} {dims} {dtype}"
    if isinstance(value, (list, tuple)) and len(value) > 8:
        first = ", ".join(summary(item) for item in value[:3])
        return _clip(f"{type(value).__name__} of {len(value)}: {first}, …")
    return _clip(value if isinstance(value, str) else repr(value))


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= WIDTH else flat[: WIDTH - 1] + "…"


def _start_live(panel: _Panel, stream: TextIO) -> Any:
    from rich.console import Console
    from rich.live import Live

    # The script's lines go above the panel; stdout only when it is the terminal too.
    live = Live(
        get_renderable=panel.render,
        console=Console(file=stream),
        refresh_per_second=4,
        redirect_stdout=is_terminal(sys.stdout),
        redirect_stderr=stream is sys.stderr,
    )
    live.start()
    return live


def _print_once(panel: _Panel, stream: TextIO) -> None:
    from rich.console import Console

    Console(file=stream, width=100).print(panel.render())
