"""The link between a running XP and its store: metrics pushed, history read back.

``xp.link.push_metrics({...})`` appends one line to the XP's ``history.jsonl``, an O(1)
write however long the history is, and gives the same values to overseer's stream when the
program runs under the overseer (``suite xp run`` does that), so instruments and the event
file see them too::

    from overseer_xpmanager import get_xp

    xp = get_xp()
    for epoch in range(10):
        ...
        xp.link.push_metrics({"train": {"loss": loss}, "epoch": epoch})
    xp.link.history[-1]["epoch"]  # 9
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .jsonl import append_record, read_jsonl

__all__ = ["HISTORY_FILE", "Link"]

HISTORY_FILE = "history.jsonl"


class Link:
    """Metrics of one XP, kept in ``<xp folder>/history.jsonl``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / HISTORY_FILE

    def push_metrics(self, metrics: Mapping[str, Any]) -> None:
        """Append ``metrics`` (one epoch's, usually) to the history and to overseer's stream.

        Raises:
            TypeError: ``metrics`` is not a mapping with string keys.
        """
        if not isinstance(metrics, Mapping) or not all(isinstance(k, str) for k in metrics):
            message = f"push_metrics takes a dict with str keys, not {type(metrics).__name__}"
            raise TypeError(message)
        append_record(self.path, metrics)
        from overseer import give

        give(**metrics)

    @property
    def history(self) -> list[dict[str, Any]]:
        """Every pushed entry in order; a torn last line (a push in progress) is left out."""
        return read_jsonl(self.path).records

    def __repr__(self) -> str:
        return f"Link({str(self.folder)!r})"
