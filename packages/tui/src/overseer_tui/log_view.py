"""The log panel: the lines of the run under the cursor, following the tail.

Drawn line by line (only the lines on screen are styled), so a run's 10,000 lines cost
nothing until scrolled into view. A first, fixed line says whose log it is, the level shown
and the search. Lines written on stderr carry a red ``!`` in the gutter.

::

    log = LogView(id="log")
    log.show(run)  # another run: start again at its last line
    log.refresh_lines()  # the same run wrote more: take only the new lines
    log.cycle_level()  # all -> info+ -> warning+ -> error -> all
    log.set_search("nan")  # highlight, and scroll to the first match
    log.next_match()  # and the next one (wraps)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .model import LOG_LEVELS, LogLine, Run

__all__ = ["LEVEL_LABELS", "LogView"]

LEVEL_LABELS = {"debug": "all", "info": "info+", "warning": "warning+", "error": "errors"}
"""What the header says for each lowest level shown."""
GUTTER = 2
KEEP_LINES = 10_000
"""Like the run's own log, the view keeps the newest lines only."""
KEEP_SLACK = 1_000
"""Lines kept beyond KEEP_LINES before trimming, so trimming happens once in a while."""
_LEVEL_RANK = {level: rank for rank, level in enumerate(LOG_LEVELS)}
_LEVEL_STYLES = {
    "error": Style(color="red"),
    "warning": Style(color="yellow"),
    "debug": Style(dim=True),
}
_STDERR_MARK = Style(color="red", dim=True)
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _printable(text: str) -> str:
    """Tabs expanded and control characters replaced: they would break the layout."""
    return _CONTROL_CHARACTERS.sub("\ufffd", text.expandtabs())


class LogView(ScrollView, can_focus=True):
    """Log lines of one run; see the module docstring.

    Keys: ``v`` cycles the lowest level shown, ``n`` jumps to the next search match,
    end follows the tail again.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "cycle_level", "Level", show=False),
        Binding("n", "next_match", "Next match", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-view--header",
        "log-view--match",
        "log-view--current-match",
    }
    DEFAULT_CSS = """
    LogView { background: $surface; color: $foreground; height: 1fr; }
    LogView > .log-view--header { background: $panel; text-style: bold; }
    LogView > .log-view--match { background: $warning 40%; }
    LogView > .log-view--current-match { background: $warning; color: $background; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.run: Run | None = None
        self.follow = True
        self._level = "debug"
        self._search = ""
        self._lines: list[LogLine] = []  # the lines shown: the run's, at or above the level
        self._text_width = 0
        self._taken = 0  # how many of the run's log lines were looked at
        self._last: LogLine | None = None  # the newest line looked at, to spot new ones
        self._matches: list[int] = []
        self._current_match: int | None = None  # index into _matches
        self._strips: LRUCache[int, Strip] = LRUCache(512)

    # -- what is shown ----------------------------------------------------------------------

    @property
    def lines(self) -> Sequence[LogLine]:
        """The lines shown (those at or above the level), oldest first."""
        return self._lines

    @property
    def level(self) -> str:
        """The lowest level shown: ``"debug"`` shows every line."""
        return self._level

    @level.setter
    def level(self, level: str) -> None:
        if level not in _LEVEL_RANK:
            message = f"log level {level!r} is not one of {', '.join(LOG_LEVELS)}: use one of those"
            raise ValueError(message)
        self._level = level
        self._reload()

    @property
    def search(self) -> str:
        """The text highlighted (case-insensitive); empty when not searching."""
        return self._search

    @property
    def match_count(self) -> int:
        """How many shown lines contain the search text."""
        return len(self._matches)

    def show(self, run: Run | None) -> None:
        """Show the log of ``run`` (the same run: only take its new lines)."""
        if run is not None and self.run is not None and run.sig == self.run.sig:
            self.run = run
            self.refresh_lines()
            return
        self.run = run
        self.follow = True
        self._reload()

    def refresh_lines(self, y_start: int | None = None, line_count: int = 1) -> None:
        """Take the lines the run wrote since the last look; cheap when there are none.

        With ``y_start`` this is ScrollView's: repaint ``line_count`` virtual lines.
        """
        if y_start is not None:
            super().refresh_lines(y_start, line_count)
            return
        log = self.run.log if self.run is not None else None
        if not log:
            if self._taken:
                self._reload()
            return
        if log[-1] is self._last:
            return
        new = self._new_lines(log)
        if new is None:
            self._reload()
        else:
            self._append(new)

    def _new_lines(self, log: Sequence[LogLine]) -> list[LogLine] | None:
        """The lines after the last one taken, or None when the log was restarted."""
        if self._last is None:
            return list(log)
        new: list[LogLine] = []
        # Walk back from the newest line to the last one taken: O(new lines).
        for line in reversed(log):
            if line is self._last:
                new.reverse()
                return new
            new.append(line)
        return None

    def _reload(self) -> None:
        self._lines = []
        self._text_width = 0
        self._taken = 0
        self._last = None
        self._matches = []
        self._current_match = None
        self._strips.clear()
        log = self.run.log if self.run is not None else ()
        self._append(list(log), repaint_all=True)

    def _append(self, new: list[LogLine], *, repaint_all: bool = False) -> None:
        self._taken += len(new)
        if new:
            self._last = new[-1]
        floor = _LEVEL_RANK[self._level]
        start = len(self._lines)
        for line in new:
            if _LEVEL_RANK.get(line.level, 1) >= floor:
                self._lines.append(line)
        if len(self._lines) > KEEP_LINES + KEEP_SLACK:
            excess = len(self._lines) - KEEP_LINES
            self._forget_oldest(excess)
            start, repaint_all = max(0, start - excess), True
        needle = self._search.lower()
        for index in range(start, len(self._lines)):
            line = self._lines[index]
            self._text_width = max(self._text_width, cell_len(line.text))
            if needle and needle in line.text.lower():
                self._matches.append(index)
        self.virtual_size = Size(self._text_width + GUTTER, len(self._lines) + 1)
        if self.follow:
            self._scroll_to_tail()
        if repaint_all or self.follow:
            self.refresh()
        else:
            # Only the new lines and the header (its line count) change.
            if len(self._lines) > start:
                super().refresh_lines(start + 1, len(self._lines) - start)
            self.refresh(Region(0, 0, self.size.width, 1))

    def _forget_oldest(self, count: int) -> None:
        """Drop the ``count`` oldest lines shown (the run's log dropped them too)."""
        del self._lines[:count]
        self._matches = [index - count for index in self._matches if index >= count]
        self._current_match = None
        self._strips.clear()

    # -- keys ---------------------------------------------------------------------------------

    def cycle_level(self) -> None:
        """Show every line, then info and above, warnings and above, errors only."""
        self.level = LOG_LEVELS[(_LEVEL_RANK[self._level] + 1) % len(LOG_LEVELS)]

    def set_search(self, text: str) -> None:
        """Highlight ``text`` (case-insensitive) and scroll to its first match."""
        self._search = text
        needle = text.lower()
        self._matches = [
            index
            for index, line in enumerate(self._lines)
            if needle and needle in line.text.lower()
        ]
        self._current_match = None
        self._strips.clear()
        self.refresh()
        if self._matches:
            self.next_match()

    def next_match(self) -> None:
        """Scroll to the next line holding the search text (after the last, the first)."""
        if not self._matches:
            return
        current = self._current_match
        self._current_match = 0 if current is None else (current + 1) % len(self._matches)
        self._strips.clear()
        self._scroll_to_line(self._matches[self._current_match])
        self.refresh()

    def action_cycle_level(self) -> None:
        self.cycle_level()

    def action_next_match(self) -> None:
        self.next_match()

    def _scroll_to_line(self, index: int) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if index < top or index >= top + visible:
            self.follow = False
            self.scroll_to(y=max(0, index - visible // 2), animate=False)

    def _scroll_to_tail(self) -> None:
        # force: before the first layout the widget has no scrollbar and would not move.
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def on_resize(self) -> None:
        """Keep the tail in view when the panel changes size."""
        if self.follow:
            self._scroll_to_tail()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Scrolling up stops following the tail; coming back to the end resumes it.
        self.follow = round(new_value) >= self.max_scroll_y

    # -- drawing ------------------------------------------------------------------------------

    def _header_text(self) -> str:
        if self.run is None:
            return " no run under the cursor"
        count = len(self._lines)
        lines = "1 line" if count == 1 else f"{count} lines"
        parts = [f" {self.run.name}", lines, LEVEL_LABELS[self._level]]
        if self._search:
            place = "" if self._current_match is None else f"{self._current_match + 1}/"
            parts.append(f"search {self._search!r}: {place}{len(self._matches)}")
        if not self.follow:
            parts.append("paused (end follows)")
        return " · ".join(parts)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            style = self.rich_style + self.get_component_rich_style("log-view--header")
            text = self._header_text()[:width]
            return Strip([Segment(text.ljust(width), style)], width)
        index = round(self.scroll_y) + y - 1
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        strip = self._strips.get(index)
        if strip is None:
            strip = self._strips[index] = self._line_strip(index)
        scroll_x = round(self.scroll_x)
        gutter = strip.crop(0, GUTTER)
        moving = strip.crop_extend(GUTTER + scroll_x, scroll_x + width, self.rich_style)
        return Strip.join([gutter, moving])

    def _line_strip(self, index: int) -> Strip:
        line = self._lines[index]
        base = self.rich_style
        style = base + _LEVEL_STYLES.get(line.level)
        gutter = Segment("! " if line.pipe == "stderr" else "  ", base + _STDERR_MARK)
        text = _printable(line.text)
        segments = [gutter, *self._highlighted(text, style, index)]
        return Strip(segments, GUTTER + cell_len(text))

    def _highlighted(self, text: str, style: Style, index: int) -> list[Segment]:
        needle = self._search.lower()
        if not needle or needle not in text.lower():
            return [Segment(text, style)]
        is_current = self._current_match is not None and self._matches[self._current_match] == index
        name = "log-view--current-match" if is_current else "log-view--match"
        match_style = style + self.get_component_rich_style(name)
        segments: list[Segment] = []
        lowered, position = text.lower(), 0
        while (found := lowered.find(needle, position)) >= 0:
            segments.append(Segment(text[position:found], style))
            segments.append(Segment(text[found : found + len(needle)], match_style))
            position = found + len(needle)
        segments.append(Segment(text[position:], style))
        return [segment for segment in segments if segment.text]
