"""The ``overseer`` command: ``overseer [OPTIONS] script.py ARGS...``.

Also ``overseer [OPTIONS] -m module[:function] ARGS...``, ``python -m overseer ...`` and
``suite run ...``. Options come before the script; ``overseer --help`` lists every
instrument found (voirfile and installed packages) with its flags.

``overseer --dash [OPTIONS] script.py ARGS...`` shows what the script gives, live, as
``voir --dash`` does: in the monitor of overseer-tui (the same view as ``suite tui --
script.py``) when it is installed, else in the live panel of overseer-instruments
(``--dash-panel``).
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

from .discovery import (
    InstrumentSpec,
    entry_point_instruments,
    find_voirfiles,
    guess_script,
    load_voirfile,
)
from .errors import OverseerError
from .overseer import Overseer

__all__ = ["command", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the overseer command line and return its exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if DASH in _options_part(arguments):
        arguments.remove(DASH)
        return _dash(arguments)
    try:
        overseer = Overseer(_find_instruments(arguments))
        overseer._parser.epilog = _describe(overseer)
        return overseer.run(arguments)
    except OverseerError as error:
        print(f"overseer: error: {error}", file=sys.stderr)
        return 2


DASH = "--dash"
PANEL = "--dash-panel"  # the dash_panel instrument's flag


def _options_part(arguments: list[str]) -> list[str]:
    """The words before the script (or ``-m``): the overseer's own options."""
    for index, word in enumerate(arguments):
        if word.startswith("-m") or (word.endswith(".py") and Path(word).is_file()):
            return arguments[:index]
    return arguments


def _dash(arguments: list[str]) -> int:
    """Watch the script in the ``tui`` command's monitor, else in the ``dash_panel``
    instrument's live panel; both are found by their entry points."""
    from importlib.metadata import entry_points

    monitor = [point for point in entry_points(group="overseer.commands") if point.name == "tui"]
    if monitor:
        # The monitor runs the script under a child overseer and watches its stream.
        return int(monitor[0].load()(["--", *arguments]) or 0)
    if any(point.name == "dash_panel" for point in entry_points(group="overseer.instruments")):
        return main([PANEL, *arguments])
    message = (
        "overseer: error: --dash shows the run in overseer-tui (pip install overseer-tui),"
        " or in a plain panel with overseer-instruments (pip install overseer-instruments)"
    )
    print(message, file=sys.stderr)
    return 2


def command(argv: list[str]) -> int:
    """Run a Python script or module under the overseer's instruments."""
    return main(argv)


def _find_instruments(argv: list[str]) -> list[InstrumentSpec]:
    specs: list[InstrumentSpec] = []
    for index, path in enumerate(find_voirfiles(guess_script(argv), Path.cwd())):
        specs.extend(load_voirfile(path, index))
    installed, problems = entry_point_instruments()
    for problem in problems:
        print(f"overseer: warning: {problem}", file=sys.stderr)
    return specs + installed


def _describe(overseer: Overseer) -> str:
    specs = overseer._pending
    if not specs:
        return "instruments: none found (add a voirfile.py beside the script)"
    width = max(shutil.get_terminal_size().columns - 2, 60)
    name_width = min(max(len(spec.name) for spec in specs), 20)
    indent = " " * (name_width + 4)
    lines = ["instruments found (voirfiles, then installed packages):"]
    for spec in specs:
        text = f"  {spec.name:<{name_width}}  {spec.summary or ''} ({spec.origin})"
        lines.append(textwrap.fill(text, width, subsequent_indent=indent))
    return "\n".join(lines)
