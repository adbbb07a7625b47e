"""How a trace prints: plain text (the default), rich, and HTML for notebooks.

Whatever the trace's size, a print stays under :data:`MAX_LINES` lines: each stage shows a
header with its totals, then its first and last calls (and its first failed call) as far as
its share of the lines allows, and says how many it left out. The full record goes to JSON
and Chrome trace files (:mod:`overseer_tracing.export`). All three renderings share one list
of rows, so they always show the same calls::

    print(result)  # plain text
    result  # HTML in a notebook, through _repr_html_
    rich.print(result)  # colours, through __rich__
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .model import TraceCall, TraceResult, TraceStage
    from .values import Summary

__all__ = [
    "LINE_WIDTH",
    "MAX_LINES",
    "Row",
    "call_lines",
    "call_summary_line",
    "format_duration",
    "render_html",
    "render_rich",
    "render_stage_text",
    "render_text",
    "short",
]

MAX_LINES = 200  # the promise: no print of a trace is longer
TEXT_BUDGET = 190  # lines a text print aims at, under MAX_LINES
HTML_BUDGET = 400  # HTML folds stages: it can afford more calls
STAGES_SHOWN = 40  # past this many stages, the rest are only counted
CALLS_SHOWN = 20  # calls shown per stage at most, whatever the room
PARAMS_SHOWN = 6  # arguments shown per call; the rest are counted
LINE_WIDTH = 160  # characters per line, longer ones are cut


class Row(NamedTuple):
    """One line of a rendered trace: its nesting depth, what it is, and its text."""

    depth: int
    kind: str  # title, stage, call, error, param, result, gap, hint
    text: str


def format_duration(ns: int) -> str:
    """A duration in the unit that reads best: ``812 ns``, ``12.3 us``, ``4.56 ms``, ``1.2 s``."""
    for unit, scale in (("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns} ns"


def short(summary: Summary | None) -> str:
    """A summary's one line; a summary that fails to print says so instead of raising."""
    if summary is None:
        return "None"
    try:
        return summary.short()
    except Exception as error:
        return f"<summary unprintable: {type(error).__name__}>"


def call_summary_line(call: TraceCall) -> str:
    """A call on one line: ``[3] collate/collate_fn(batch=list[4]) -> tensor ... 12 us``."""
    params = ", ".join(f"{key}={short(value)}" for key, value in call.params.items())
    text = f"[{call.index}] {call.stage}/{call.display_name}({params})"
    if call.status != "error":
        text += f" -> {short(call.result)}"
    return _cut(f"{text} {_outcome(call)}")


def call_lines(call: TraceCall) -> list[str]:
    """A call on a few lines: its header, one per argument, its result or error."""
    return ["  " * row.depth + row.text for row in _call_rows(call, 0)]


def render_text(result: TraceResult, budget: int = TEXT_BUDGET) -> str:
    """The plain text print of a trace, under ``min(budget, MAX_LINES)`` lines."""
    return _join(_result_rows(result, min(budget, MAX_LINES) - 1))


def render_stage_text(stage: TraceStage, budget: int = TEXT_BUDGET) -> str:
    """The plain text print of one stage, under ``min(budget, MAX_LINES)`` lines."""
    return _join(_stage_rows(stage, min(budget, MAX_LINES) - 1, 0))


def render_html(result: TraceResult, budget: int = HTML_BUDGET) -> str:
    """An HTML block for notebooks: one foldable section per stage."""
    parts = ['<div class="overseer-trace" style="font-family: monospace; line-height: 1.4">']
    in_stage = False
    for row in _result_rows(result, budget):
        text, style = html.escape(row.text), _HTML_STYLES.get(row.kind, "")
        if row.kind == "stage":
            parts.append("</details>" if in_stage else "")
            parts.append(f'<details open><summary style="{style}">{text}</summary>')
            in_stage = True
            continue
        indent = max(row.depth - 1, 0) * 1.5 + (1.5 if in_stage else 0)
        parts.append(f'<div style="margin-left: {indent}em; {style}">{text}</div>')
    parts.append("</details></div>" if in_stage else "</div>")
    return "".join(parts)


def render_rich(result: TraceResult, budget: int = TEXT_BUDGET) -> object:
    """A rich renderable (a Group of styled lines); needs rich installed."""
    from rich.console import Group
    from rich.text import Text

    rows = _result_rows(result, min(budget, MAX_LINES) - 1)
    lines = [
        Text("  " * row.depth + row.text, style=_RICH_STYLES.get(row.kind, "")) for row in rows
    ]
    return Group(*lines)


_HTML_STYLES = {
    "title": "font-weight: bold",
    "stage": "font-weight: bold; color: #0b7285; cursor: pointer",
    "error": "color: #c92a2a; font-weight: bold",
    "param": "color: #495057",
    "result": "color: #2b8a3e",
    "gap": "color: #868e96; font-style: italic",
    "hint": "color: #868e96",
}
_RICH_STYLES = {
    "title": "bold",
    "stage": "bold cyan",
    "error": "bold red",
    "param": "dim",
    "result": "green",
    "gap": "dim italic",
    "hint": "dim",
}


def _result_rows(result: TraceResult, budget: int) -> list[Row]:
    stages = list(result)
    shown = stages[:STAGES_SHOWN]
    calls = sum(stage.total for stage in stages)
    title = f"TraceResult: {_count(calls, 'call')} in {_count(len(stages), 'stage')}"
    rows = [Row(0, "title", title + (f", {result.dropped:,} dropped" if result.dropped else ""))]
    # Each stage gets an equal share of the lines left after the title and the two last lines.
    share = max(2, (budget - 3) // max(len(shown), 1))
    for stage in shown:
        rows += _stage_rows(stage, share, 1)
    if len(stages) > len(shown):
        rows.append(Row(1, "gap", f"... {len(stages) - len(shown):,} more stages not shown"))
    if any(row.kind == "gap" for row in rows):
        rows.append(Row(0, "hint", "all of it: result.to_json(path), result.to_chrome_trace(path)"))
    return rows


def _stage_rows(stage: TraceStage, budget: int, depth: int) -> list[Row]:
    rows = [Row(depth, "stage", _stage_header(stage))]
    calls = stage.calls
    chosen: dict[int, list[Row]] = {}
    room = budget - 2  # the header, and a last "not shown" line
    for position in _candidates(calls):
        call_rows = _call_rows(calls[position], depth + 1)
        if len(call_rows) + 1 > room:  # +1: the "not shown" line it may open before it
            break
        chosen[position] = call_rows
        room -= len(call_rows) + 1
    previous = -1
    for position in sorted(chosen):
        rows += _gap_rows(position - previous - 1, depth + 1)
        rows += chosen[position]
        previous = position
    return rows + _gap_rows(len(calls) - previous - 1, depth + 1)


def _candidates(calls: tuple[TraceCall, ...]) -> Iterable[int]:
    """Positions worth showing first: the first failed call, then the ends inwards."""
    failed = next((i for i, call in enumerate(calls) if call.status == "error"), None)
    order = [] if failed is None else [failed]
    for offset in range((len(calls) + 1) // 2):
        order += [offset, len(calls) - 1 - offset]
        if len(order) > CALLS_SHOWN:
            break
    return list(dict.fromkeys(order))[:CALLS_SHOWN]


def _gap_rows(count: int, depth: int) -> list[Row]:
    return [Row(depth, "gap", f"... {count:,} calls not shown")] if count > 0 else []


def _stage_header(stage: TraceStage) -> str:
    calls = stage.calls
    text = f"{stage.name}: {_count(stage.total, 'call')}"
    if stage.dropped:
        text += f", {len(calls):,} kept ({stage.dropped:,} dropped by the cap)"
    if calls:
        total = sum(call.duration_ns for call in calls)
        text += f", {format_duration(total)} in all, {format_duration(total // len(calls))} each"
    failed = sum(call.status != "ok" for call in calls)
    return text + (f", {failed:,} not ok" if failed else "")


def _call_rows(call: TraceCall, depth: int) -> list[Row]:
    name = call.display_name if call.display_name == call.name else f"{call.display_name} "
    name += "" if call.display_name == call.name else f"({call.name})"
    kind = "call" if call.status in ("ok", "running") else "error"
    rows = [Row(depth, kind, _cut(f"[{call.index}] {name}  {_outcome(call)}"))]
    items = list(call.params.items())
    for key, value in items[:PARAMS_SHOWN]:
        rows.append(Row(depth + 1, "param", _cut(f"{key}: {short(value)}")))
    if len(items) > PARAMS_SHOWN:
        rows.append(Row(depth + 1, "gap", f"... {len(items) - PARAMS_SHOWN} more arguments"))
    if call.status != "error":
        rows.append(Row(depth + 1, "result", _cut(f"-> {short(call.result)}")))
    return rows


def _outcome(call: TraceCall) -> str:
    where = "" if call.parent is None else f" in [{call.parent}]"
    where += "" if call.thread == "MainThread" else f" thread {call.thread}"
    if call.status == "running":
        return f"running{where}"
    text = f"{format_duration(call.duration_ns)}{where}"
    if call.exception is not None:
        kind, message = call.exception
        label = "ERROR" if call.status == "error" else "capture error"
        text += f"  {label} {kind}: {message}"
    return text


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _cut(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= LINE_WIDTH else text[: LINE_WIDTH - 3] + "..."


def _join(rows: list[Row]) -> str:
    return "\n".join("  " * row.depth + row.text for row in rows)
