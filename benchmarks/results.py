"""Shared by every benchmark: medians and ranges, and its own section of RESULTS.md.

A benchmark folder's ``run.py`` puts ``benchmarks/`` on ``sys.path`` and imports this::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from results import RESULTS, spread, write_section

Each section sits between two HTML comments named after its title, so re-running one
benchmark replaces its own section and leaves the others alone.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = (
    "# Benchmark results\n\n"
    "Each section is written by one `benchmarks/<name>/run.py` (all of them: `nox -s bench`\n"
    "or `python benchmarks/run.py`). Numbers come from one run on the machine named in the\n"
    "section; re-running a benchmark replaces its section.\n"
)


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """Median, minimum and maximum of ``values``.

    >>> spread([3.0, 1.0, 2.0])
    (2.0, 1.0, 3.0)
    """
    return statistics.median(values), min(values), max(values)


def machine(python: str | None = None) -> dict[str, Any]:
    """What a section says of the machine: CPU model, cores, platform and Python version.

    Args:
        python: the version of the interpreter measured, when it is not this one.
    """
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    cpu_count = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpu_count
    return {
        "cpu": cpu,
        "cores": usable,
        "cpu_count": cpu_count,
        "platform": platform.platform(),
        "python": python or platform.python_version(),
    }


def describe_machine(found: dict[str, Any]) -> str:
    """The line a section prints for :func:`machine`'s answer."""
    return (
        f"{found['cpu']}, {found['cores']} cores usable ({found['cpu_count']} online),"
        f" {found['platform']}; Python {found['python']}"
    )


def publish(
    title: str, writer: str, body: str, raw: dict[str, Any], raw_path: Path, *, write: bool
) -> None:
    """End a benchmark: keep its raw results, print its section, and (``write``) put it in
    RESULTS.md; a ``--quick`` run prints without writing.
    """
    raw_path.parent.mkdir(parents=True, exist_ok=True)
    raw_path.write_text(json.dumps(raw, indent=2))
    print(body)
    if write:
        write_section(title, writer, body)
        print(f"bench: wrote {RESULTS.relative_to(RESULTS.parents[1])}", file=sys.stderr)


def markers(title: str, writer: str) -> tuple[str, str]:
    """The comments that open and close the section ``title`` written by ``writer``."""
    return f"<!-- {title}: begin (written by {writer}) -->", f"<!-- {title}: end -->"


def write_section(title: str, writer: str, body: str, path: Path = RESULTS) -> None:
    """Put ``body`` into ``path`` as the section ``title``, replacing an earlier one.

    Args:
        title: the section's name, e.g. ``"overseer-core vs voir"``.
        writer: the script that writes it, e.g. ``"benchmarks/overseer/run.py"``.
        body: the section's Markdown, its heading included.
    """
    begin, end = markers(title, writer)
    section = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = path.read_text() if path.is_file() else HEADER
    start = text.find(f"<!-- {title}: begin")
    if start >= 0 and end in text[start:]:
        stop = text.index(end, start) + len(end)
        after = text[stop:].lstrip("\n")
        text = text[:start] + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
