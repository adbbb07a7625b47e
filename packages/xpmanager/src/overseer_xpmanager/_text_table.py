"""Plain-text tables of XPs, shared by ``grid --monitor`` and the notebook's ``runs()``.

::

    columns = [
        Column("alias", ["exact-nutmeg", "broad-robin"], shrink=10),
        *argument_columns([(xp.delta, xp.config) for xp in xps]),
    ]
    print("\\n".join(render(columns, width=100)))

Columns are aligned by a gap of two spaces; numbers (arguments that are all numbers,
metrics) are right-aligned. When the table is wider than ``width``, the columns that may
shrink lose a character at a time, the widest first, and their cells end in ``…``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._format import format_value
from .signature import MISSING

__all__ = ["Column", "argument_columns", "argument_value", "is_number", "render"]

GAP = "  "


@dataclass
class Column:
    """A column: its header and its cells, top to bottom.

    Attributes:
        header: the text over the column.
        cells: one text per row.
        right: whether the cells are right-aligned (numbers).
        shrink: the narrowest this column gets when the table is too wide; None: never
            narrowed.
    """

    header: str
    cells: list[str]
    right: bool = False
    shrink: int | None = None


def is_number(value: Any) -> bool:
    """Whether ``value`` is an int or a float (a bool is not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def argument_value(delta: Mapping[str, Any], config: Mapping[str, Any], key: str) -> Any:
    """The value an XP runs with for ``key``: its delta's, else its configuration's default;
    None for an argument it does not have."""
    value = delta[key] if key in delta else config.get(key)
    return None if value == MISSING else value


def argument_columns(
    arguments: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], *, shrink: int = 5
) -> list[Column]:
    """A column for each argument whose value differs between the XPs.

    Args:
        arguments: each XP's ``(delta, config)``: what its command line set, and its
            project's defaults. The columns are the keys of the deltas, in the order they
            first appear.
        shrink: the narrowest an argument column gets.
    """
    keys = dict.fromkeys(key for delta, _ in arguments for key in delta)
    columns = []
    for key in keys:
        values = [argument_value(delta, config, key) for delta, config in arguments]
        if len({json.dumps(value, sort_keys=True, default=str) for value in values}) > 1:
            numeric = all(is_number(value) for value in values)
            columns.append(Column(key, [format_value(value) for value in values], numeric, shrink))
    return columns


def render(columns: list[Column], width: int | None = None) -> list[str]:
    """The table's lines: the headers, a rule of dashes, then one line per row.

    Args:
        columns: the columns, left to right; each holds as many cells as the others.
        width: the widest a line may be (None: as wide as the cells need).
    """
    widths = [max([len(column.header), *map(len, column.cells)]) for column in columns]
    if width is not None:
        _fit(columns, widths, width)
    headers = [_abridge(column.header, size) for column, size in zip(columns, widths, strict=True)]
    rows: list[Sequence[str]] = [headers, ["-" * size for size in widths]]
    rows.extend(zip(*(column.cells for column in columns), strict=True))
    return [
        GAP.join(
            _cell(text, size, column.right)
            for text, size, column in zip(row, widths, columns, strict=True)
        ).rstrip()
        for row in rows
    ]


def _abridge(header: str, size: int) -> str:
    """A header cut in its middle, so that ``..._loss_0`` and ``..._loss_1`` stay apart."""
    if len(header) <= size:
        return header
    tail = (size - 1) // 2
    return f"{header[: size - 1 - tail]}…{header[len(header) - tail :]}"


def _fit(columns: list[Column], widths: list[int], width: int) -> None:
    excess = sum(widths) + len(GAP) * (len(widths) - 1) - width
    while excess > 0:
        narrowable = [
            index
            for index, column in enumerate(columns)
            if column.shrink is not None and widths[index] > column.shrink
        ]
        if not narrowable:
            return
        widest = max(narrowable, key=widths.__getitem__)
        widths[widest] -= 1
        excess -= 1


def _cell(text: str, size: int, right: bool) -> str:
    if len(text) > size:
        text = text[: size - 1] + "…"
    return text.rjust(size) if right else text.ljust(size)
