"""Colours shared by the views: the run palette and the status styles.

The runs table and the plot must agree on colours: the run selected first is drawn in
``PALETTE[0]``, the second in ``PALETTE[1]`` and so on, cycling past eight.

Example:
    >>> from overseer_tui.styles import PALETTE, palette_color
    >>> palette_color(0) == PALETTE[0]
    True
    >>> palette_color(len(PALETTE)) == PALETTE[0]
    True
"""

from __future__ import annotations

from .model import RunStatus

__all__ = [
    "FAINT_PALETTE",
    "PALETTE",
    "STATUS_STYLE",
    "faint_palette_color",
    "palette_color",
    "status_style",
]

# Mid-luminance, saturated hues: each stays readable on a black and on a white
# background, and neighbours in the cycle differ in hue as much as possible.
PALETTE: tuple[str, ...] = (
    "#3b9ae1",  # blue
    "#f28e2b",  # orange
    "#2eaa5c",  # green
    "#e15759",  # red
    "#a66bd3",  # purple
    "#17a9a9",  # teal
    "#c9a000",  # gold
    "#e36fb8",  # pink
)

_GREY = (128, 128, 128)


def _toward_grey(color: str, amount: float = 0.55) -> str:
    """Mix a ``#rrggbb`` colour with mid grey: the same hue, less saturated."""
    channels = [int(color[index : index + 2], 16) for index in (1, 3, 5)]
    mixed = [
        round(value * (1 - amount) + grey * amount)
        for value, grey in zip(channels, _GREY, strict=True)
    ]
    return "#" + "".join(f"{value:02x}" for value in mixed)


# Mixing with grey (not darkening) keeps a faint line visible on both themes.
FAINT_PALETTE: tuple[str, ...] = tuple(_toward_grey(color) for color in PALETTE)

STATUS_STYLE: dict[RunStatus, str] = {
    RunStatus.PENDING: "yellow",
    RunStatus.RUNNING: "bold green",
    RunStatus.COMPLETED: "blue",
    RunStatus.FAILED: "bold red",
    RunStatus.CANCELLED: "magenta",
    RunStatus.UNKNOWN: "dim",
}


def palette_color(index: int) -> str:
    """The colour of the run at ``index`` in the selection order (cycles past the end)."""
    return PALETTE[index % len(PALETTE)]


def faint_palette_color(index: int) -> str:
    """The faint colour matching ``palette_color(index)``, for raw lines behind smoothed ones."""
    return FAINT_PALETTE[index % len(FAINT_PALETTE)]


def status_style(status: RunStatus) -> str:
    """The Rich style of a status word; unknown statuses are dim."""
    return STATUS_STYLE.get(status, "dim")
