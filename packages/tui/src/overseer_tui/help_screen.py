"""The help window: every key of the monitor and what it does; Escape closes it.

::

    app.push_screen(HelpScreen(MonitorApp.BINDINGS))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["TABLE_KEYS", "HelpScreen", "describe_keys"]

#: The runs table's own keys, shown with the app's.
TABLE_KEYS = (
    ("up/down j/k", "move the cursor"),
    ("pgup/pgdn home/end", "move by a page, to the ends"),
    ("space", "select the run for the plot (colour = its line)"),
    ("s / S", "sort by the next column / reverse"),
    ("g", "group by the next differing argument"),
    ("tab", "next panel"),
    ("left/right", "pan the plot (when it has the focus)"),
)

_KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "plus": "+",
    "equals_sign": "=",
    "minus": "-",
    "enter": "enter",
}


def describe_keys(bindings: Sequence[BindingType]) -> list[tuple[str, str]]:
    """``(keys, what they do)`` for each binding, keys as a person types them."""
    rows: list[tuple[str, str]] = []
    for binding in bindings:
        if not isinstance(binding, Binding) or binding.key == "ctrl+c":
            continue
        keys = " ".join(_KEY_NAMES.get(key, key) for key in binding.key.split(","))
        rows.append((keys, binding.description or binding.action))
    return rows


class HelpScreen(ModalScreen[None]):
    """A window listing the keys; Escape, q, ? or a click closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,enter,space", "dismiss", "Close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: auto; max-width: 90%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    HelpScreen Static { width: auto; }
    """

    def __init__(self, bindings: Sequence[BindingType]) -> None:
        super().__init__()
        self.rows = [*describe_keys(bindings), *TABLE_KEYS]

    def compose(self) -> ComposeResult:
        width = max(len(keys) for keys, _ in self.rows)
        lines = [f"{keys:>{width}}  {what}" for keys, what in self.rows]
        with Vertical():
            yield Static("keys (escape closes)\n\n" + "\n".join(lines), markup=False)

    async def on_click(self, event: events.Click) -> None:
        await self.action_dismiss()
