"""The runs table: one row per run, drawn line by line so that 10,000 runs stay cheap.

Only the rows on screen are ever formatted: ``set_runs`` sorts and filters plain values
(O(n log n)), and a row's text and strip are built when it scrolls into view, then cached
until ``update_runs`` names that run again.

::

    table = RunsTable(id="runs")
    table.set_runs(runs, metrics=["loss"], arg_columns=["lr"], now=clock.now())
    table.update_runs(source.runs.take_changes(), now=clock.now())  # only those rows repaint
    table.set_filter("lr>1e-3")  # a selector expression, or plain text

The app reacts to ``RunsTable.CursorMoved`` (show that run's log) and
``RunsTable.SelectionChanged`` (plot those runs in colour ``table.color_of(sig)``).
The columns and the values and texts of their cells come from ``table_columns``.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .errors import SelectorError
from .model import Run
from .selector import parse_selectors, select
from .styles import palette_color, status_style
from .table_columns import (
    Column,
    GroupHeader,
    Layout,
    SortKey,
    build_columns,
    cell_text,
    column_value,
    fit,
    format_progress,
    format_value,
    metric_mode,
    run_argument,
    value_sort_key,
)

# Column, format_progress and metric_mode live in table_columns; they are re-exported here.
__all__ = ["Column", "RunsTable", "format_progress", "metric_mode"]

GAP = 2
"""Blank cells between two columns."""
SWATCH = "● "
"""Drawn before the name of a run selected for plotting, in its palette colour."""
_TIME_STEP = 5
"""Seconds: ages and ETAs of unchanged rows are formatted again when the clock crosses one."""
_SELECTOR_CHARACTERS = "=<>*"


class RunsTable(ScrollView, can_focus=True):
    """A table of runs: sort, filter, group, and pick the runs to plot.

    Keys: up/down/j/k move, pageup/pagedown/home/end jump, space selects the run under the
    cursor for plotting, ``s`` sorts by the next column, ``S`` reverses, ``g`` groups by
    the next differing argument.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("home", "cursor_first", "First", show=False),
        Binding("end", "cursor_last", "Last", show=False),
        Binding("space", "toggle_selected", "Plot"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse"),
        Binding("g", "cycle_group", "Group"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "runs-table--header",
        "runs-table--cursor",
        "runs-table--group",
    }
    DEFAULT_CSS = """
    RunsTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
    }
    RunsTable > .runs-table--header { text-style: bold; background: $panel; }
    RunsTable > .runs-table--group { text-style: bold; color: $text-accent; }
    RunsTable > .runs-table--cursor { background: $block-cursor-blurred-background; }
    RunsTable:focus > .runs-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    """

    class CursorMoved(Message):
        """The cursor landed on another run (None when the table is empty)."""

        def __init__(self, run: Run | None) -> None:
            self.run = run
            super().__init__()

    class SelectionChanged(Message):
        """The runs selected for plotting changed; their order gives their colours."""

        def __init__(self, sigs: list[str]) -> None:
            self.sigs = sigs
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.selected: list[str] = []
        self.filter_error: str | None = None
        self._sort_key = "age"
        self._sort_reverse = False
        self._filter_text = ""
        self._group_by: str | None = None
        self._runs: dict[str, Run] = {}
        self._columns = build_columns((), ())
        self._arg_columns: list[str] = []
        self._now = 0.0
        self._rows: list[Run | GroupHeader] = []
        self._run_rows: list[int] = []  # row index of each run row, in display order
        self._position: dict[str, int] = {}  # sig -> index into _run_rows
        self._order_tokens: dict[str, tuple[Any, ...]] = {}
        self._cursor = 0
        self._cursor_sig: str | None = None
        self._colors: dict[str, int] = {}
        self._cells: dict[str, tuple[str, ...]] = {}
        self._haystacks: dict[str, str] = {}
        self._strips: LRUCache[str, tuple[tuple[Any, ...], Strip]] = LRUCache(1024)
        self._layout: Layout | None = None
        self._layout_key: tuple[Any, ...] = ()
        self._paint: _Paint | None = None  # while render_lines runs
        self._version = 0  # bumped whenever a row's content or the row order changes

    # -- public state -------------------------------------------------------------------

    @property
    def cursor_run(self) -> Run | None:
        """The run under the cursor."""
        if not self._run_rows:
            return None
        row = self._rows[self._run_rows[self._cursor]]
        return row if isinstance(row, Run) else None

    def visible_runs(self) -> list[Run]:
        """The runs shown (those the filter keeps), top to bottom."""
        return [row for row in self._rows if isinstance(row, Run)]

    @property
    def visible_count(self) -> int:
        """How many runs are shown (those the filter keeps)."""
        return len(self._run_rows)

    @property
    def sort_key(self) -> str:
        """The key of the column rows are sorted by."""
        return self._sort_key

    @sort_key.setter
    def sort_key(self, key: str) -> None:
        self._sort_key = key
        self._rebuild()

    @property
    def sort_reverse(self) -> bool:
        """Largest first when True; missing values stay last either way."""
        return self._sort_reverse

    @sort_reverse.setter
    def sort_reverse(self, reverse: bool) -> None:
        self._sort_reverse = reverse
        self._rebuild()

    @property
    def filter_text(self) -> str:
        """Rows kept: text found in name/sig/args, or a selector expression (``lr>1e-3``)."""
        return self._filter_text

    @filter_text.setter
    def filter_text(self, text: str) -> None:
        self._filter_text = text.strip()
        self._rebuild()

    def set_filter(self, text: str) -> None:
        """Keep the rows that match ``text`` (see ``filter_text``); empty shows every run."""
        self.filter_text = text

    @property
    def group_by(self) -> str | None:
        """The argument whose values split the rows into groups, or None."""
        return self._group_by

    @group_by.setter
    def group_by(self, name: str | None) -> None:
        self._group_by = name
        self._rebuild()

    def color_of(self, sig: str) -> int | None:
        """The palette index of a selected run (its place in ``selected``), else None."""
        return self._colors.get(sig)

    def select_only(self, sigs: Sequence[str]) -> None:
        """Select exactly ``sigs`` (known runs only), in that order, for plotting."""
        chosen = list(dict.fromkeys(sig for sig in sigs if sig in self._runs))
        if chosen == self.selected:
            return
        touched = set(self.selected) | set(chosen)
        self.selected = chosen
        self._colors = {sig: index for index, sig in enumerate(chosen)}
        self._refresh_sigs(touched)
        self.post_message(self.SelectionChanged(list(chosen)))

    # -- data -----------------------------------------------------------------------------

    def set_runs(
        self,
        runs: Sequence[Run],
        *,
        metrics: Sequence[str],
        arg_columns: Sequence[str],
        now: float,
    ) -> None:
        """Show ``runs`` (a full refresh); selection, cursor and sort are kept where possible."""
        self._runs = {run.sig: run for run in runs}
        self._columns = build_columns(metrics, arg_columns)
        self._arg_columns = list(arg_columns)
        keys = {column.key for column in self._columns}
        if self._sort_key not in keys:
            self._sort_key = "age"
        if self._group_by is not None and self._group_by not in self._arg_columns:
            self._group_by = None
        self._now = now
        self._forget_cells()
        self._rebuild()
        if any(sig not in self._runs for sig in self.selected):
            self.select_only(self.selected)

    def update_runs(self, sigs: Iterable[str], now: float) -> None:
        """Repaint the rows of ``sigs`` (runs already shown; new runs need ``set_runs``).

        Rows move only when a run's sort value, group or filter match changed. Once the clock
        crosses a few seconds, every row's age and ETA are formatted again.
        """
        changed = [sig for sig in sigs if sig in self._runs]
        clock_moved = int(now) // _TIME_STEP != int(self._now) // _TIME_STEP
        self._now = now
        if clock_moved:
            self._forget_cells()
        for sig in changed:
            self._cells.pop(sig, None)
            self._haystacks.pop(sig, None)
            self._strips.discard(sig)
        self._version += 1
        if (clock_moved and self._sort_key == "eta") or any(
            self._order_token(self._runs[sig]) != self._order_tokens.get(sig) for sig in changed
        ):
            self._rebuild()
            return
        old_widths = self._layout.widths if self._layout else None
        if clock_moved or self._compute_layout().widths != old_widths:
            self.refresh()
        else:
            self._refresh_sigs(changed)

    def _forget_cells(self) -> None:
        self._cells.clear()
        self._haystacks.clear()
        self._strips.clear()
        self._version += 1

    # -- ordering -------------------------------------------------------------------------

    def _order_token(self, run: Run) -> tuple[Any, ...]:
        """What decides a run's place: if it is unchanged, only its row needs a repaint."""
        group = value_sort_key(run_argument(run, self._group_by)) if self._group_by else None
        return (self._sort_key_of(run), group, self._matches_text(run))

    def _sort_key_of(self, run: Run) -> SortKey | None:
        return value_sort_key(column_value(run, self._sort_key, self._now))

    def _matches_text(self, run: Run) -> bool:
        if not self._filter_text or self._uses_selectors():
            return True
        haystack = self._haystacks.get(run.sig)
        if haystack is None:
            words = [run.name, run.sig, *(f"{key}={value}" for key, value in run.args.items())]
            haystack = self._haystacks[run.sig] = " ".join(words).lower()
        return self._filter_text.lower() in haystack

    def _uses_selectors(self) -> bool:
        return any(character in self._filter_text for character in _SELECTOR_CHARACTERS)

    def _filtered_runs(self) -> list[Run]:
        runs = list(self._runs.values())
        self.filter_error = None
        if not self._filter_text:
            return runs
        if not self._uses_selectors():
            return [run for run in runs if self._order_tokens[run.sig][2]]
        try:
            selectors = parse_selectors(self._filter_text.split())
        except SelectorError as error:
            self.filter_error = str(error)
            return []
        kept = {run.sig for run in select(runs, selectors)}
        return [run for run in runs if run.sig in kept]

    def _sorted_runs(self, runs: list[Run]) -> list[Run]:
        keyed: list[tuple[SortKey, Run]] = []
        missing: list[Run] = []
        for run in runs:
            key = self._order_tokens[run.sig][0]  # computed once per rebuild
            if key is None:
                missing.append(run)
            else:
                keyed.append((key, run))
        # Python's sort is stable, also with reverse=True: ties keep discovery order.
        keyed.sort(key=lambda pair: pair[0], reverse=self._sort_reverse)
        return [run for _, run in keyed] + missing

    def _grouped_rows(self, runs: list[Run]) -> list[Run | GroupHeader]:
        if self._group_by is None:
            return list(runs)
        name = self._group_by
        groups: dict[SortKey | None, list[Run]] = {}
        labels: dict[SortKey | None, str] = {}
        for run in runs:
            value = run_argument(run, name)
            key = value_sort_key(value)
            groups.setdefault(key, []).append(run)
            labels.setdefault(key, format_value(value))
        present = sorted(key for key in groups if key is not None)
        ordered: list[SortKey | None] = [*present, None] if None in groups else [*present]
        rows: list[Run | GroupHeader] = []
        for key in ordered:
            members = groups[key]
            count = f"{len(members)} run" + ("s" if len(members) != 1 else "")
            rows.append(GroupHeader(f"▾ {name} = {labels[key]}  ({count})"))
            rows.extend(members)
        return rows

    def _rebuild(self) -> None:
        """Filter, sort and group every run, then repaint (O(n log n), no text formatting)."""
        self._order_tokens = {sig: self._order_token(run) for sig, run in self._runs.items()}
        self._rows = self._grouped_rows(self._sorted_runs(self._filtered_runs()))
        self._run_rows = []
        self._position = {}
        for index, row in enumerate(self._rows):
            if isinstance(row, Run):
                self._position[row.sig] = len(self._run_rows)
                self._run_rows.append(index)
        width = self._layout.total_width if self._layout else 0
        self.virtual_size = Size(width, len(self._rows) + 1)
        self._version += 1
        self._restore_cursor()
        self.refresh()

    # -- cursor and selection ---------------------------------------------------------------

    def _restore_cursor(self) -> None:
        if self._cursor_sig in self._position:
            self._cursor = self._position[self._cursor_sig]
        self._move_cursor(self._cursor)

    def _move_cursor(self, position: int) -> None:
        old_sig = self._cursor_sig
        self._cursor = max(0, min(position, len(self._run_rows) - 1))
        run = self.cursor_run
        self._cursor_sig = run.sig if run else None
        if self._cursor_sig != old_sig:
            self._refresh_sigs(sig for sig in (old_sig, self._cursor_sig) if sig is not None)
            self.post_message(self.CursorMoved(run))
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        if not self._run_rows or not self.is_mounted:
            return
        index = self._run_rows[self._cursor]
        visible = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if self._cursor == 0:
            self.scroll_to(y=0, animate=False)  # show the first group's header too
        elif index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + visible:
            self.scroll_to(y=index - visible + 1, animate=False)

    def _page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def _position_near_row(self, row_index: int) -> int:
        """The position of the first run row at or after ``row_index``."""
        return min(bisect.bisect_left(self._run_rows, row_index), len(self._run_rows) - 1)

    def action_cursor_up(self) -> None:
        self._move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._move_cursor(self._cursor + 1)

    def action_cursor_page_up(self) -> None:
        if self._run_rows:
            row = self._run_rows[self._cursor] - self._page_rows()
            self._move_cursor(min(self._cursor - 1, self._position_near_row(row)))

    def action_cursor_page_down(self) -> None:
        if self._run_rows:
            row = self._run_rows[self._cursor] + self._page_rows()
            self._move_cursor(max(self._cursor + 1, self._position_near_row(row)))

    def action_cursor_first(self) -> None:
        self._move_cursor(0)

    def action_cursor_last(self) -> None:
        self._move_cursor(len(self._run_rows) - 1)

    def action_toggle_selected(self) -> None:
        run = self.cursor_run
        if run is None:
            return
        if run.sig in self._colors:
            self.select_only([sig for sig in self.selected if sig != run.sig])
        else:
            self.select_only([*self.selected, run.sig])

    def action_cycle_sort(self) -> None:
        keys = [column.key for column in self._columns]
        index = keys.index(self._sort_key) if self._sort_key in keys else -1
        self.sort_key = keys[(index + 1) % len(keys)]

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self._sort_reverse

    def action_cycle_group(self) -> None:
        choices: list[str | None] = [None, *self._arg_columns]
        index = choices.index(self._group_by) if self._group_by in choices else 0
        self.group_by = choices[(index + 1) % len(choices)]

    def on_click(self, event: events.Click) -> None:
        """Move the cursor to the clicked run."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        row_index = round(self.scroll_y) + offset.y - 1
        if row_index < len(self._rows) and isinstance(run := self._rows[row_index], Run):
            self._move_cursor(self._position[run.sig])

    def notify_style_update(self) -> None:
        """Drop the strips drawn with the old styles (theme change, focus change)."""
        super().notify_style_update()
        self._strips.clear()

    # -- rendering ----------------------------------------------------------------------------

    def _refresh_sigs(self, sigs: Iterable[str]) -> None:
        """Repaint the rows of ``sigs`` that are on screen, in one refresh."""
        top, height = round(self.scroll_y), self.size.height
        positions = [self._position[sig] for sig in sigs if sig in self._position]
        lines = {self._run_rows[position] + 1 - top for position in positions}
        shown = sorted(line for line in lines if 1 <= line < height)
        if shown:
            self.refresh(*_line_regions(shown, self.size.width))

    def refresh_line(self, y: int) -> None:
        """Repaint virtual line ``y`` (the header is line 0 and never scrolls)."""
        self.refresh(Region(0, y - round(self.scroll_y), self.size.width, 1))

    def _cells_of(self, run: Run) -> tuple[str, ...]:
        cells = self._cells.get(run.sig)
        if cells is None:
            cells = tuple(cell_text(run, column.key, self._now) for column in self._columns)
            self._cells[run.sig] = cells
        return cells

    def _compute_layout(self) -> Layout:
        """Column widths from the titles and the rows on screen, each capped."""
        top, height = round(self.scroll_y), self.size.height
        key = (top, height, self._version, self._sort_key, self._sort_reverse)
        if self._layout is not None and key == self._layout_key:
            return self._layout
        widths = [
            cell_len(column.title) + (column.key == self._sort_key) for column in self._columns
        ]
        for row in self._rows[top : top + max(0, height - 1)]:
            if isinstance(row, Run):
                for index, text in enumerate(self._cells_of(row)):
                    widths[index] = max(widths[index], cell_len(text))
        capped = [
            min(width, column.width) for width, column in zip(widths, self._columns, strict=True)
        ]
        capped[1] += cell_len(SWATCH)  # the name column holds the selection swatch
        fixed = sum(capped[:2]) + 2 * GAP
        total = sum(capped) + GAP * len(capped)
        self._layout = Layout(tuple(capped), fixed, total)
        self._layout_key = key
        return self._layout

    def render_lines(self, crop: Region) -> list[Strip]:
        layout = self._compute_layout()
        if layout.total_width != self.virtual_size.width:
            self.virtual_size = Size(layout.total_width, len(self._rows) + 1)
        self._paint = self._paint_now(layout)
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None

    def render_line(self, y: int) -> Strip:
        paint = self._paint or self._paint_now(self._compute_layout())
        if y == 0:
            return self._scroll_sideways(self._header_strip(paint), paint)
        index = paint.top + y - 1
        if index >= len(self._rows):
            return Strip.blank(paint.width, paint.base)
        row = self._rows[index]
        if isinstance(row, GroupHeader):
            style = paint.base + self.get_component_rich_style("runs-table--group")
            return Strip([Segment(fit(row.label, paint.width, "left"), style)], paint.width)
        return self._run_strip(row, paint)

    def _paint_now(self, layout: Layout) -> _Paint:
        return _Paint(
            layout=layout,
            width=self.size.width,
            top=round(self.scroll_y),
            scroll_x=round(self.scroll_x),
            base=self.rich_style,
            focused=self.has_focus,
        )

    def _scroll_sideways(self, strip: Strip, paint: _Paint) -> Strip:
        width, scroll_x, fixed = paint.width, paint.scroll_x, paint.layout.fixed_width
        if scroll_x == 0 or fixed >= width:
            return strip.crop_extend(0, width, paint.base)
        start = fixed + scroll_x
        moving = strip.crop_extend(start, start + width - fixed, paint.base)
        return Strip.join([strip.crop(0, fixed), moving])

    def _header_strip(self, paint: _Paint) -> Strip:
        style = paint.base + self.get_component_rich_style("runs-table--header")
        segments: list[Segment] = []
        for column, width in zip(self._columns, paint.layout.widths, strict=True):
            title = column.title
            if column.key == self._sort_key:
                title += "▼" if self._sort_reverse else "▲"
            if column.key == "name":
                title = " " * cell_len(SWATCH) + title
            segments.append(Segment(fit(title, width, column.align) + " " * GAP, style))
        return Strip(segments, paint.layout.total_width)

    def _run_strip(self, run: Run, paint: _Paint) -> Strip:
        """The row of ``run`` as shown (scrolled sideways), cached until it changes."""
        is_cursor = run.sig == self._cursor_sig
        color = self._colors.get(run.sig)
        key = (paint.layout.widths, is_cursor, color, paint.focused, paint.width, paint.scroll_x)
        cached = self._strips.get(run.sig)
        if cached is not None and cached[0] == key:
            return cached[1]
        whole = self._build_run_strip(run, paint, is_cursor, color)
        strip = self._scroll_sideways(whole, paint)
        self._strips[run.sig] = (key, strip)
        return strip

    def _build_run_strip(
        self, run: Run, paint: _Paint, is_cursor: bool, color: int | None
    ) -> Strip:
        layout = paint.layout
        row_style = paint.base
        if is_cursor:
            row_style += self.get_component_rich_style("runs-table--cursor")
        gap = (" " * GAP, row_style)
        parts: list[tuple[str, Style]] = []
        cells = self._cells_of(run)
        for column, width, text in zip(self._columns, layout.widths, cells, strict=True):
            if column.key == "name":
                swatch_style = Style(color=palette_color(color)) if color is not None else None
                parts.append((SWATCH if color is not None else "  ", row_style + swatch_style))
                width -= cell_len(SWATCH)
            style = row_style
            if column.key == "status":
                style += Style.parse(status_style(run.status))
            parts += ((fit(text, width, column.align), style), gap)
        return Strip(_joined_segments(parts), layout.total_width)


@dataclass(frozen=True)
class _Paint:
    """What every row of one paint shares, looked up once (``rich_style`` walks the DOM)."""

    layout: Layout
    width: int
    top: int
    scroll_x: int
    base: Style
    focused: bool


def _joined_segments(parts: Iterable[tuple[str, Style]]) -> list[Segment]:
    """One segment per run of neighbouring parts in the same style: fewer segments for
    Textual to crop, filter and compose, the same cells."""
    return [
        Segment("".join(text for text, _ in group), style)
        for style, group in itertools.groupby(parts, key=operator.itemgetter(1))
    ]


def _line_regions(lines: Sequence[int], width: int) -> list[Region]:
    """Regions ``width`` wide covering ``lines`` (sorted), neighbouring lines merged."""
    regions: list[Region] = []
    for line in lines:
        if regions and regions[-1].bottom == line:
            last = regions[-1]
            regions[-1] = Region(0, last.y, width, last.height + 1)
        else:
            regions.append(Region(0, line, width, 1))
    return regions
