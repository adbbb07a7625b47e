"""``suite xp export`` / ``suite xp import``: move XPs from one store to another.

``export`` prints one JSON document naming each XP by its arguments; ``import`` makes those
XPs in the current project's store, where the signature is computed again (a project whose
defaults differ gives the same arguments another signature, and ``import`` says so)::

    suite xp export -1 neat-funds > xps.json
    suite xp --dir /other/store import xps.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ._cli_context import Context
from .errors import ArgumentError

__all__ = ["EXPORT_FORMAT", "export", "import_"]

EXPORT_FORMAT = "overseer-xp-export/1"


def export(context: Context) -> int:
    """Print the document ``import`` reads for the XPs named."""
    xps = [context.find_xp(selector) for selector in context.args.sigs]
    document = {
        "format": EXPORT_FORMAT,
        "xps": [
            {"sig": xp.sig, "alias": xp.alias, "argv": xp.argv, "package": xp.package} for xp in xps
        ],
    }
    print(json.dumps(document, indent=1))
    return 0


def import_(context: Context) -> int:
    """Make the XPs of an exported document in this store."""
    source = context.args.file
    text = sys.stdin.read() if source == "-" else _read(Path(source))
    for entry in _entries(text, source):
        xp = context.store.ensure(context.main.definition(list(entry["argv"])))
        same = "" if xp.sig == entry.get("sig") else f" (was {entry.get('sig')} there)"
        print(f"imported XP {xp.sig} ({xp.alias}){same}")
    return 0


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        message = f"cannot read {path}: {error.strerror}; give the file `suite xp export` wrote"
        raise ArgumentError(message) from error


def _entries(text: str, source: str) -> list[dict[str, Any]]:
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    valid = isinstance(document, dict) and document.get("format") == EXPORT_FORMAT
    entries = document.get("xps") if valid and isinstance(document, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("argv"), list) for entry in entries
    ):
        where = "standard input" if source == "-" else source
        message = f"{where} is not a document of `suite xp export` ({EXPORT_FORMAT}); export again"
        raise ArgumentError(message)
    return entries
