"""Whether a stream is a terminal: where live displays (bars, panels) draw, and nowhere else."""

from __future__ import annotations

from typing import Any


def is_terminal(stream: Any) -> bool:
    """``stream.isatty()``, False for a stream without one or a closed one."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
