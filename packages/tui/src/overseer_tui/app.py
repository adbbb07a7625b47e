"""The monitor: a Textual app over one :class:`~overseer_tui.model.Source` of runs.

::

    from pathlib import Path

    from overseer_tui.app import MonitorApp
    from overseer_tui.store_source import StoreSource

    MonitorApp(StoreSource(Path("rl-study"))).run()

The app polls its source every ``interval`` seconds and repaints only what changed: rows of
the runs table, the plot when a plotted run got points, the log when the run under the
cursor wrote lines. When nothing changed, a poll is a few ``stat`` calls and nothing is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Static

from .clock import Clock, SystemClock
from .entries import RunStatus
from .gpu import GpuHistory, read_local_gpus, readings_from_gpudata
from .gpu_view import GpuView
from .help_screen import HelpScreen
from .log_view import LogView
from .plot_view import PlotView
from .runs_table import RunsTable

if TYPE_CHECKING:
    from .model import Run, Source

__all__ = ["MonitorApp"]

#: Below this many columns the panels stack and plot and log take turns.
NARROW_COLUMNS = 100
#: Table rows' ages are redrawn this often even when no file changed.
AGE_REFRESH_SECONDS = 10.0


class MonitorApp(App[None]):
    """Runs table, plot, log and GPU panels over a source of runs.

    Args:
        source: where the runs come from (an XP store, a live script, fake data).
        metrics: the metrics the table shows and the plot starts on (default: the losses,
            else the first metric).
        interval: seconds between polls of the source.
        clock: the time used for ages and ETAs (a fake one in tests).
        local_gpus: read this machine's GPUs through NVML too (off in tests).
    """

    TITLE = "overseer tui"
    CSS_PATH = "monitor.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("slash", "filter", "Filter"),
        Binding("enter", "plot_only", "Plot only", show=False),
        Binding("m", "next_metric", "Metric"),
        Binding("M", "previous_metric", "Prev metric", show=False),
        Binding("x", "cycle_axis", "X axis"),
        Binding("l", "toggle_log_y", "Log y"),
        Binding("e", "cycle_smoothing", "Smooth"),
        Binding("plus,equals_sign", "zoom_in", "Zoom", key_display="+"),
        Binding("minus", "zoom_out", "Unzoom", show=False),
        Binding("left_square_bracket", "pan(-0.25)", "Pan left", show=False),
        Binding("right_square_bracket", "pan(0.25)", "Pan right", show=False),
        Binding("0", "reset_view", "Reset view", show=False),
        Binding("p", "toggle_panel('plot')", "Plot"),
        Binding("o", "toggle_panel('log')", "Log"),
        Binding("G", "toggle_panel('gpu')", "GPU", show=False),
        Binding("v", "cycle_level", "Level", show=False),
        Binding("ctrl+f", "search", "Search", show=False),
        Binding("n", "next_match", "Next match", show=False),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(
        self,
        source: Source,
        *,
        metrics: Sequence[str] = (),
        interval: float = 1.0,
        clock: Clock | None = None,
        local_gpus: bool = True,
    ) -> None:
        super().__init__()
        self.source = source
        self.clock: Clock = clock or SystemClock()
        self.interval = interval
        self.chosen_metrics = list(metrics)
        self.metric_names: list[str] = []
        self.gpu_history = GpuHistory()
        self._gpu_records: dict[str, int] = {}  # each run's gpu_records when last added
        self.local_gpus = local_gpus
        self.hidden_panels: set[str] = set()
        self.input_mode: str | None = None
        self._auto_hidden: str | None = None
        self._membership = -1  # the run set's membership the table was built for
        self._ages_drawn = 0.0
        self.polls = 0
        self.frames = 0

    def compose(self) -> ComposeResult:
        yield Static(self.source.title, id="title")
        with Horizontal(id="body"):
            yield RunsTable(id="runs")
            with Vertical(id="side"):
                yield PlotView(id="plot")
                yield LogView(id="log")
        yield GpuView(id="gpu")
        yield Input(id="prompt", classes="hidden")
        yield Footer()

    @property
    def table(self) -> RunsTable:
        """The runs table."""
        return self.query_one(RunsTable)

    @property
    def plot(self) -> PlotView:
        """The plot panel."""
        return self.query_one(PlotView)

    @property
    def log_view(self) -> LogView:
        """The log panel."""
        return self.query_one(LogView)

    @property
    def gpu_view(self) -> GpuView:
        """The GPU panel."""
        return self.query_one(GpuView)

    def on_mount(self) -> None:
        self.query_one("#gpu").display = False
        self._apply_layout(self.size.width)
        self.table.focus()
        self.poll_source()
        self.set_interval(self.interval, self.poll_source)
        if self.local_gpus:
            self.set_interval(max(self.interval, 1.0), self._read_local_gpus)

    def on_resize(self, event: Any) -> None:
        self._apply_layout(event.size.width)

    def _apply_layout(self, width: int) -> None:
        narrow = width < NARROW_COLUMNS
        self.screen.set_class(narrow, "narrow")
        if narrow and not self.hidden_panels & {"plot", "log"}:
            # Stacked, plot and log take turns: the plot first.
            self.hidden_panels.add("log")
            self._auto_hidden = "log"
        elif not narrow and self._auto_hidden is not None:
            self.hidden_panels.discard(self._auto_hidden)
            self._auto_hidden = None
        self._show_panels()

    def _show_panels(self) -> None:
        self.plot.display = "plot" not in self.hidden_panels
        self.log_view.display = "log" not in self.hidden_panels
        has_gpu = bool(self.gpu_history.devices())
        self.gpu_view.display = has_gpu and "gpu" not in self.hidden_panels
        side = self.query_one("#side")
        side.display = self.plot.display or self.log_view.display

    # -- data ------------------------------------------------------------------------------

    def poll_source(self) -> None:
        """Take what the source has new and repaint what it touched."""
        self.polls += 1
        changed = self.source.poll()
        if getattr(self.source, "loading", False):
            self.set_timer(0.001, self.poll_source)
        now = self.clock.now()
        if changed:
            self._take_changes(now)
        elif now - self._ages_drawn >= AGE_REFRESH_SECONDS:
            self.table.update_runs(list(self.source.runs.runs), now)
            self._ages_drawn = now

    def _take_changes(self, now: float) -> None:
        runs = self.source.runs
        sigs = runs.take_changes()
        metric_names = runs.metric_names()
        if runs.membership != self._membership or metric_names != self.metric_names:
            self._membership = runs.membership
            self.metric_names = metric_names
            self._reset_table(now)
        else:
            self.table.update_runs(sigs, now)
        self._gather_gpus(sigs, now)
        self._show_plot()
        if any(sig in sigs for sig in self.plot_sigs()):
            self.plot.refresh_data()
        cursor = self.table.cursor_run
        if cursor is not None and cursor.sig in sigs:
            self.log_view.refresh_lines()
        self._update_title()

    def _reset_table(self, now: float) -> None:
        runs = list(self.source.runs.runs.values())
        self.table.set_runs(
            runs,
            metrics=self.table_metrics(),
            arg_columns=self.source.runs.differing_args(),
            now=now,
        )
        self._ages_drawn = now
        if self.plot.state.metric is None and self.metric_names:
            self.plot.state.metric = self.table_metrics()[0] if self.table_metrics() else None
        self.log_view.show(self.table.cursor_run)

    def table_metrics(self) -> list[str]:
        """The metrics the table shows: those asked for, else the losses, else the first."""
        known = self.metric_names
        if self.chosen_metrics:
            return [name for name in self.chosen_metrics if name in known] or self.chosen_metrics
        losses = [name for name in known if "loss" in name]
        return losses[:3] or known[:1]

    def _gather_gpus(self, sigs: set[str], now: float) -> None:
        runs = self.source.runs.runs
        for sig in sigs:
            run = runs.get(sig)
            # A run changes with every value it gets; its GPUs only with a gpudata record.
            if run is not None and run.gpus and run.gpu_records != self._gpu_records.get(sig):
                self._gpu_records[sig] = run.gpu_records
                self.gpu_history.add(readings_from_gpudata(run.gpus), now)
        if self.gpu_history.devices():
            self.gpu_view.update(self.gpu_history, runs)
            self._show_panels()

    def _read_local_gpus(self) -> None:
        readings = read_local_gpus()
        if not readings:
            # No NVML or no device: stop asking.
            self.local_gpus = False
            return
        self.gpu_history.add(readings, self.clock.now())
        self.gpu_view.update(self.gpu_history, self.source.runs.runs)
        self._show_panels()

    def _update_title(self) -> None:
        runs = self.source.runs.runs.values()
        live = sum(1 for run in runs if run.status is RunStatus.RUNNING)
        shown = self.table.visible_count
        total = len(self.source.runs.runs)
        count = f"{total} run" if total == 1 else f"{total} runs"
        if shown != total:
            count = f"{shown} of {count}"
        metric = self.plot.state.metric or "-"
        parts = [self.source.title, count, f"{live} running", f"plot: {metric}"]
        self.query_one("#title", Static).update(" · ".join(parts))

    # -- plot ------------------------------------------------------------------------------

    def plot_sigs(self) -> list[str]:
        """The runs the plot shows: those selected, else the one under the cursor."""
        if self.table.selected:
            return list(self.table.selected)
        cursor = self.table.cursor_run
        return [cursor.sig] if cursor is not None else []

    def _show_plot(self) -> None:
        runs = self.source.runs.runs
        shown: list[tuple[Run, int]] = []
        for index, sig in enumerate(self.plot_sigs()):
            run = runs.get(sig)
            if run is None:
                continue
            color = self.table.color_of(sig)
            shown.append((run, index if color is None else color))
        self.plot.show(shown)

    def on_runs_table_cursor_moved(self, message: RunsTable.CursorMoved) -> None:
        self.log_view.show(message.run)
        self._show_plot()

    def on_runs_table_selection_changed(self, message: RunsTable.SelectionChanged) -> None:
        self._show_plot()

    def action_plot_only(self) -> None:
        """Plot the run under the cursor alone."""
        cursor = self.table.cursor_run
        self.table.select_only([] if cursor is None else [cursor.sig])
        self._show_plot()

    def _cycle_metric(self, step: int) -> None:
        names = self.metric_names
        if not names:
            self.notify("no metric yet: the runs have given no numbers", severity="warning")
            return
        current = self.plot.state.metric
        index = names.index(current) + step if current in names else 0
        self.plot.state.metric = names[index % len(names)]
        self.plot.state.reset()
        self._show_plot()
        self.plot.refresh_view()
        self._update_title()

    def action_next_metric(self) -> None:
        """Plot the next metric, in name order."""
        self._cycle_metric(1)

    def action_previous_metric(self) -> None:
        """Plot the previous metric."""
        self._cycle_metric(-1)

    def _change_plot(self, change: str, *args: Any) -> None:
        getattr(self.plot.state, change)(*args)
        self.plot.refresh_view()

    def action_cycle_axis(self) -> None:
        """Step, then time since the start, then wall-clock time on x."""
        self._change_plot("cycle_axis")

    def action_toggle_log_y(self) -> None:
        """Linear or logarithmic y."""
        self._change_plot("toggle_log")

    def action_cycle_smoothing(self) -> None:
        """No smoothing, then 0.6, 0.9, 0.99 (TensorBoard's debiased EMA)."""
        self._change_plot("cycle_smoothing")

    def action_zoom_in(self) -> None:
        """Halve the x window around its centre."""
        self._change_plot("zoom_in")

    def action_zoom_out(self) -> None:
        """Double the x window."""
        self._change_plot("zoom_out")

    def action_pan(self, fraction: float) -> None:
        """Move the x window by a fraction of its width."""
        self._change_plot("pan", fraction)

    def action_reset_view(self) -> None:
        """The whole x range, linear, as first shown."""
        self._change_plot("reset")

    # -- panels, filter, search, help ------------------------------------------------------

    def action_toggle_panel(self, panel: str) -> None:
        """Show or hide a panel; when narrow, plot and log take turns."""
        if panel in self.hidden_panels:
            self.hidden_panels.discard(panel)
            if self.screen.has_class("narrow") and panel in ("plot", "log"):
                # The other one steps aside, and comes back when the screen widens.
                self._auto_hidden = "log" if panel == "plot" else "plot"
                self.hidden_panels.add(self._auto_hidden)
        else:
            self.hidden_panels.add(panel)
            if panel == self._auto_hidden:
                self._auto_hidden = None
        if panel == "gpu" and not self.gpu_history.devices():
            self.notify("no GPU: neither the runs nor this machine report one")
        self._show_panels()

    def action_cycle_level(self) -> None:
        """Show every log line, then info and above, warnings and above, errors only."""
        self.log_view.cycle_level()

    def action_next_match(self) -> None:
        """Scroll the log to the next line matching the search."""
        self.log_view.next_match()

    def _prompt(self, mode: str, placeholder: str, value: str) -> None:
        prompt = self.query_one("#prompt", Input)
        self.input_mode = mode
        prompt.placeholder = placeholder
        prompt.value = value
        prompt.remove_class("hidden")
        # At once, not at the next idle: keys typed right after the / are the filter's.
        self.set_focus(prompt)

    def action_filter(self) -> None:
        """Ask for a filter: text in names and arguments, or selectors such as lr=3e-4."""
        self._prompt("filter", "filter runs: text, lr=3e-4, status!=failed, *glob", "")

    def action_search(self) -> None:
        """Ask for text to find in the log."""
        self.hidden_panels.discard("log")
        self._show_panels()
        self._prompt("search", "search the log", "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._close_prompt(event.value)

    def _close_prompt(self, value: str) -> None:
        prompt = self.query_one("#prompt", Input)
        prompt.add_class("hidden")
        if self.input_mode == "filter":
            self.table.set_filter(value)
            self._update_title()
        elif self.input_mode == "search":
            self.log_view.set_search(value)
        self.input_mode = None
        self.table.focus()

    def key_escape(self) -> None:
        if self.input_mode is not None:
            self._close_prompt("")

    def action_help(self) -> None:
        """Every key, in a window that any key closes."""
        self.push_screen(HelpScreen(self.BINDINGS))
