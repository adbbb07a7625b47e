"""The runs table as a person uses it: keys move, select, sort and group what is drawn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from rich.style import Style
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from overseer_tui.model import Run
from overseer_tui.runs_table import RunsTable, format_progress, metric_mode
from overseer_tui.styles import PALETTE

NOW = 1_800_000_000.0

DriveApp = Callable[[App[Any], tuple[int, int], Callable[[Pilot[Any]], Awaitable[None]]], None]
"""conftest's ``drive_app``: runs ``app`` headless at ``size``, then awaits ``body(pilot)``."""


def make_run(
    index: int,
    *,
    lr: float | None = 0.001,
    loss: float | None = None,
    status: str = "running",
    progress: tuple[int, int] | None = None,
) -> Run:
    """Run ``index``, created ``index`` minutes after a fixed start: a higher index is newer."""
    created = NOW - 3600 + 60 * index
    args: dict[str, Any] = {} if lr is None else {"lr": lr}
    run = Run(f"{index:04x}aaaabbbb", f"run-{index:03d}", args=args, created=created)
    run.apply({"event": "start", "data": {"pid": 1000 + index}, "t": created + 1})
    data: dict[str, Any] = {"step": 10 * index}
    if loss is not None:
        data["loss"] = loss
    if progress is not None:
        data["progress"] = list(progress)
    run.apply({"event": "data", "data": data, "t": created + 2})
    if status != "running":
        returncode = 0 if status == "completed" else 1
        run.apply({"event": "end", "data": {"returncode": returncode}, "t": created + 3})
    return run


class TableApp(App[None]):
    """A screen holding only a runs table, recording the table's messages."""

    def __init__(
        self,
        runs: Sequence[Run],
        *,
        metrics: Sequence[str] = ("loss",),
        arg_columns: Sequence[str] = ("lr",),
        table: RunsTable | None = None,
    ) -> None:
        super().__init__()
        self.runs = list(runs)
        self.metrics = list(metrics)
        self.arg_columns = list(arg_columns)
        self.table = table or RunsTable(id="runs")
        self.cursor_moves: list[str | None] = []
        self.selections: list[list[str]] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        self.table.set_runs(self.runs, metrics=self.metrics, arg_columns=self.arg_columns, now=NOW)
        self.table.focus()

    def on_runs_table_cursor_moved(self, message: RunsTable.CursorMoved) -> None:
        self.cursor_moves.append(None if message.run is None else message.run.name)

    def on_runs_table_selection_changed(self, message: RunsTable.SelectionChanged) -> None:
        self.selections.append(message.sigs)


def screen_lines(table: RunsTable) -> list[str]:
    """What the table draws, one string per line of the widget."""
    return [table.render_line(y).text for y in range(table.size.height)]


def row_names(table: RunsTable) -> list[str]:
    """The names on the drawn rows, top to bottom (group headers left out)."""
    names = []
    for line in screen_lines(table)[1:]:
        for word in line.split():
            if word.startswith("run-"):
                names.append(word)
    return names


def cursor_name(table: RunsTable) -> str | None:
    """The name on the drawn row that has the cursor's background."""
    cursor = table.get_component_rich_style("runs-table--cursor")
    for y in range(1, table.size.height):
        strip = table.render_line(y)
        if any(segment.style and segment.style.bgcolor == cursor.bgcolor for segment in strip):
            return next(word for word in strip.text.split() if word.startswith("run-"))
    return None


def test_rows_show_status_name_numbers_and_newest_first(drive_app: DriveApp) -> None:
    runs = [make_run(0, loss=2.5, status="completed"), make_run(1, loss=0.125), make_run(2)]
    app = TableApp(runs)

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        header, *rows = screen_lines(table)[:4]
        assert header.split()[:3] == ["status", "name", "lr"]  # the differing argument
        assert header.split()[-2:] == ["age▲", "sig"]
        assert "age▲" in header
        assert "min loss" in header
        assert row_names(table) == ["run-002", "run-001", "run-000"]
        assert rows[0].split()[0] == "running"
        assert rows[2].split()[0] == "completed"
        assert "0.125" in rows[1]
        assert "2.5" in rows[2]
        assert "-" in rows[0].split()
        assert "59m ago" in rows[1]
        status_segment = next(s for s in table.render_line(3) if s.text.startswith("completed"))
        assert status_segment.style is not None
        assert status_segment.style.color is not None
        assert app.cursor_moves == ["run-002"]

    drive_app(app, (120, 10), body)


def test_arrow_keys_and_vim_keys_move_the_cursor(drive_app: DriveApp) -> None:
    app = TableApp([make_run(index) for index in range(5)])

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        assert cursor_name(table) == "run-004"
        await pilot.press("down", "j")
        assert cursor_name(table) == "run-002"
        assert table.cursor_run is not None
        assert table.cursor_run.name == "run-002"
        await pilot.press("k")
        assert cursor_name(table) == "run-003"
        await pilot.press("up", "up", "up")
        assert cursor_name(table) == "run-004"  # stops at the first row
        await pilot.click(RunsTable, offset=(12, 3))  # the third row, under the header
        assert cursor_name(table) == "run-002"
        assert app.cursor_moves == [
            "run-004",
            "run-003",
            "run-002",
            "run-003",
            "run-004",
            "run-002",
        ]

    drive_app(app, (100, 10), body)


def test_page_and_home_end_keys_jump_and_scroll(drive_app: DriveApp) -> None:
    app = TableApp([make_run(index) for index in range(50)])

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        await pilot.press("pagedown")
        await pilot.pause()
        paged = cursor_name(table)
        assert paged is not None
        assert int(paged[4:]) <= 49 - 7
        await pilot.press("end")
        await pilot.pause()
        assert cursor_name(table) == "run-000"
        assert row_names(table)[-1] == "run-000"  # scrolled to the bottom
        assert "run-049" not in row_names(table)
        await pilot.press("pageup")
        await pilot.pause()
        assert int(str(cursor_name(table))[4:]) >= 7
        await pilot.press("home")
        await pilot.pause()
        assert row_names(table)[0] == "run-049"
        assert cursor_name(table) == "run-049"

    drive_app(app, (100, 12), body)


def test_space_selects_runs_with_palette_swatches_in_selection_order(drive_app: DriveApp) -> None:
    app = TableApp([make_run(index) for index in range(3)])

    def swatch_color(table: RunsTable, y: int) -> str | None:
        for segment in table.render_line(y):
            if segment.text.startswith("●") and segment.style and segment.style.color:
                return str(segment.style.color.name)
        return None

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        assert "●" not in "".join(screen_lines(table))
        await pilot.press("space", "down", "space")
        assert table.selected == ["0002aaaabbbb", "0001aaaabbbb"]
        assert swatch_color(table, 1) == PALETTE[0]
        assert swatch_color(table, 2) == PALETTE[1]
        assert table.color_of("0001aaaabbbb") == 1
        await pilot.press("up", "space")  # unselect the first: the second takes colour 0
        assert table.selected == ["0001aaaabbbb"]
        assert swatch_color(table, 1) is None
        assert swatch_color(table, 2) == PALETTE[0]
        assert app.selections[-1] == ["0001aaaabbbb"]
        assert len(app.selections) == 3

    drive_app(app, (100, 8), body)


def test_s_sorts_by_the_next_column_and_S_reverses_with_missing_last(drive_app: DriveApp) -> None:
    runs = [make_run(0, loss=3.0), make_run(1, loss=1.0), make_run(2), make_run(3, loss=2.0)]
    app = TableApp(runs)

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        await pilot.press("s")  # from age, the last column but one, to the signature
        assert table.sort_key == "sig"
        assert "sig▲" in screen_lines(table)[0]
        for _ in range(8):
            if table.sort_key == "step":
                break
            await pilot.press("s")
        assert table.sort_key == "step"
        assert "step▲" in screen_lines(table)[0]
        assert row_names(table) == ["run-000", "run-001", "run-002", "run-003"]
        await pilot.press("s", "s")
        assert table.sort_key == "latest:loss"
        assert row_names(table) == ["run-001", "run-003", "run-000", "run-002"]
        await pilot.press("S")
        assert "loss▼" in screen_lines(table)[0]
        assert row_names(table) == ["run-000", "run-003", "run-001", "run-002"]

    drive_app(app, (120, 8), body)


def test_sorting_is_stable_for_equal_values(drive_app: DriveApp) -> None:
    runs = [make_run(index, lr=0.1 if index % 2 else 0.01) for index in range(6)]
    app = TableApp(runs)

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        table.sort_key = "arg:lr"
        assert [run.name for run in table.visible_runs()] == [
            "run-000",
            "run-002",
            "run-004",
            "run-001",
            "run-003",
            "run-005",
        ]
        table.sort_reverse = True
        assert [run.name for run in table.visible_runs()] == [
            "run-001",
            "run-003",
            "run-005",
            "run-000",
            "run-002",
            "run-004",
        ]

    drive_app(app, (100, 10), body)


def test_g_groups_rows_under_a_header_per_argument_value(drive_app: DriveApp) -> None:
    runs = [make_run(0, lr=0.1), make_run(1, lr=0.01), make_run(2, lr=0.1), make_run(3, lr=None)]
    app = TableApp(runs)

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        await pilot.press("g")
        lines = screen_lines(table)
        assert table.group_by == "lr"
        assert lines[1].startswith("▾ lr = 0.01  (1 run)")
        assert lines[3].startswith("▾ lr = 0.1  (2 runs)")
        assert lines[6].startswith("▾ lr = -  (1 run)")
        assert row_names(table) == ["run-001", "run-002", "run-000", "run-003"]
        assert table.cursor_run is not None
        assert table.cursor_run.name == "run-003"
        await pilot.press("home", "down")  # the cursor skips the header rows
        assert cursor_name(table) == "run-002"
        await pilot.press("g")
        assert app.table.group_by is None  # (another expression: mypy narrowed table's)
        assert "▾" not in "".join(screen_lines(table))

    drive_app(app, (100, 10), body)


def test_filter_keeps_matching_text_or_selector_expressions(drive_app: DriveApp) -> None:
    runs = [make_run(index, lr=0.001 * (index + 1)) for index in range(4)]
    app = TableApp(runs)

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        assert table.visible_count == 4
        table.set_filter("run-002")
        assert row_names(table) == ["run-002"]
        assert table.visible_count == 1
        assert table.cursor_run is not None
        assert table.cursor_run.name == "run-002"
        table.set_filter("lr>=0.003")
        assert row_names(table) == ["run-003", "run-002"]
        table.set_filter("lr=")
        assert row_names(table) == []
        assert table.filter_error
        table.set_filter("")
        assert len(row_names(table)) == 4
        assert table.filter_error is None

    drive_app(app, (100, 10), body)


def test_eta_column_draws_progress_and_metric_best_follows_its_name(drive_app: DriveApp) -> None:
    app = TableApp([make_run(0, progress=(5, 10)), make_run(1)])

    async def body(pilot: Pilot[None]) -> None:
        rows = screen_lines(app.table)[1:3]
        assert "▕████░░░░▏ 50%" in rows[1]
        assert "▕" not in rows[0]

    drive_app(app, (120, 6), body)
    assert metric_mode("val_loss") == "min"
    assert metric_mode("error_rate") == "min"
    assert metric_mode("accuracy") == "max"
    assert format_progress(8, 8) == "▕████████▏100%"
    assert format_progress(1, 4, eta=65) == "▕██░░░░░░▏ 25% 1m05s"


def test_wide_tables_scroll_sideways_keeping_status_and_name(drive_app: DriveApp) -> None:
    runs = [make_run(index, loss=1.0) for index in range(3)]
    for run in runs:
        run.args.update({f"option_{letter}": letter * 8 for letter in "abcdef"})
    arg_columns = ["lr", *(f"option_{letter}" for letter in "abcdef")]
    app = TableApp(runs, arg_columns=arg_columns)

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        assert "option_f" not in screen_lines(table)[0]
        assert table.virtual_size.width > table.size.width
        table.scroll_to(x=table.max_scroll_x, animate=False)
        await pilot.pause()
        header, first = screen_lines(table)[:2]
        assert header.split()[:2] == ["status", "name"]
        assert "option_f" in header
        assert first.split()[:2] == ["running", "run-002"]
        assert "ffffffff" in first

    drive_app(app, (80, 6), body)


class CountingTable(RunsTable):
    """Counts the rows formatted and the row strips built."""

    def __init__(self) -> None:
        super().__init__(id="runs")
        self.formatted: list[str] = []
        self.built: list[str] = []

    def _cells_of(self, run: Run) -> tuple[str, ...]:
        if run.sig not in self._cells:
            self.formatted.append(run.sig)
        return super()._cells_of(run)

    def _build_run_strip(self, run: Run, *args: Any) -> Any:
        self.built.append(run.name)
        return super()._build_run_strip(run, *args)


def test_ten_thousand_runs_format_only_the_rows_on_screen(drive_app: DriveApp) -> None:
    runs = [make_run(index, loss=1.0 / (index + 1)) for index in range(10_000)]
    table = CountingTable()
    app = TableApp(runs, table=table)

    async def body(pilot: Pilot[None]) -> None:
        assert row_names(table)[:2] == ["run-9999", "run-9998"]
        assert 0 < len(set(table.formatted)) <= 24  # one screenful, not 10,000
        await pilot.press("end")
        await pilot.pause()
        assert row_names(table)[-1] == "run-000"
        assert len(set(table.formatted)) <= 48
        table.sort_key = "latest:loss"  # all 10,000 compared
        await pilot.pause()
        assert row_names(table)[-1] == "run-000"  # the cursor's run, largest loss, is last
        await pilot.press("home")
        await pilot.pause()
        assert row_names(table)[0] == "run-9999"
        assert len(set(table.formatted)) <= 72

    drive_app(app, (120, 24), body)


def test_update_runs_repaints_only_the_changed_rows(drive_app: DriveApp) -> None:
    runs = [make_run(index, loss=1.0) for index in range(6)]
    table = CountingTable()
    app = TableApp(runs, table=table)

    async def body(pilot: Pilot[None]) -> None:
        assert "run-003" in table.built
        table.built.clear()
        runs[3].apply({"event": "data", "data": {"loss": 0.5}, "t": NOW})
        table.update_runs(["0003aaaabbbb"], now=NOW)
        await pilot.pause()
        assert table.built == ["run-003"]
        line = screen_lines(table)[3]
        assert "run-003" in line
        assert "0.5" in line.split()
        table.built.clear()
        table.sort_key = "latest:loss"
        runs[5].apply({"event": "data", "data": {"loss": 0.25}, "t": NOW})
        table.update_runs(["0005aaaabbbb", "unknown"], now=NOW)  # its place changes
        assert row_names(table)[:2] == ["run-005", "run-003"]
        assert "55m ago" in screen_lines(table)[1]
        table.update_runs([], now=NOW + 600)  # nothing changed but the clock: ages move on
        assert "1h ago" in screen_lines(table)[1]

    drive_app(app, (120, 10), body)


def test_cursor_and_selection_survive_a_full_refresh(drive_app: DriveApp) -> None:
    runs = [make_run(index) for index in range(4)]
    app = TableApp(runs)

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        await pilot.press("down", "space")
        table.set_runs(runs[1:], metrics=["loss"], arg_columns=["lr"], now=NOW + 1)
        assert table.cursor_run is not None
        assert table.cursor_run.name == "run-002"
        assert table.selected == ["0002aaaabbbb"]
        table.set_runs(runs[:2], metrics=["loss"], arg_columns=["lr"], now=NOW + 2)
        await pilot.pause()
        assert table.selected == []
        assert app.selections[-1] == []
        assert table.cursor_run is not None
        assert table.cursor_run.name in ("run-000", "run-001")

    drive_app(app, (100, 8), body)


def test_the_header_stays_when_rows_scroll(drive_app: DriveApp) -> None:
    app = TableApp([make_run(index) for index in range(30)])

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        table.scroll_to(y=10, animate=False)
        await pilot.pause()
        lines = screen_lines(table)
        assert lines[0].split()[:2] == ["status", "name"]
        assert row_names(table)[0] == "run-019"

    drive_app(app, (100, 8), body)


def test_cursor_row_is_highlighted_only_there(drive_app: DriveApp) -> None:
    app = TableApp([make_run(index) for index in range(3)])

    async def body(pilot: Pilot[None]) -> None:
        table = app.table
        cursor = table.get_component_rich_style("runs-table--cursor")
        styles: list[Style | None] = [next(iter(table.render_line(y))).style for y in (1, 2)]
        assert styles[0] is not None
        assert styles[0].bgcolor == cursor.bgcolor
        assert styles[1] is not None
        assert styles[1].bgcolor != cursor.bgcolor

    drive_app(app, (100, 6), body)
