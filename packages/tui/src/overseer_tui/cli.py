"""The ``tui`` command: ``suite tui`` and ``python -m overseer_tui``.

::

    suite tui                          # the runs of the XP store the XP manager uses
    suite tui rl-study                 # the store in ./rl-study
    suite tui -g scaling               # one grid of it
    suite tui -1                       # the latest run; also a signature, a name, a glob
    suite tui 'lr=3e-4' 'status!=failed'
    suite tui -- train.py --lr 0.1     # run a script under the overseer and watch it live

The store is the first word that names a folder holding ``xps/``; else ``$OVERSEER_XP_DIR``;
else ``./outputs`` (the XP manager's default), or the current folder when it holds ``xps/``.
Every other word picks runs (see :mod:`overseer_tui.selector`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import TuiError

if TYPE_CHECKING:
    from .model import Source

__all__ = ["default_store", "main"]

DEFAULT_DIR = "outputs"
DIR_ENV = "OVERSEER_XP_DIR"


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``suite tui``."""
    parser = argparse.ArgumentParser(
        prog="suite tui",
        description="A live terminal monitor of runs, grids, plots, GPUs and logs.",
        epilog="`suite tui -- script.py ARGS` runs a script under the overseer and watches it.",
    )
    parser.add_argument(
        "words",
        nargs="*",
        metavar="[ROOT] [SELECTOR ...]",
        help="the XP store's folder, then runs to show: -1 (latest), a signature, a name, "
        "a glob such as '*neat-funds', or filters such as lr=3e-4 and status!=failed",
    )
    parser.add_argument("-g", "--grid", help="show only the runs of this grid")
    parser.add_argument(
        "-m",
        "--metric",
        action="append",
        default=[],
        help="a metric to show in the table and plot (repeat for more; default: the losses)",
    )
    parser.add_argument(
        "--interval",
        type=_positive_seconds,
        default=1.0,
        help="seconds between looks at the files (default 1)",
    )
    return parser


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.05 <= value <= 3600:
        message = f"--interval {text!r} is not a number of seconds from 0.05 to 3600"
        raise argparse.ArgumentTypeError(message)
    return value


def default_store(cwd: Path | None = None) -> Path:
    """The store ``suite tui`` opens when none is named.

    Returns:
        ``$OVERSEER_XP_DIR`` when set; else ``./outputs`` when it holds ``xps/``; else the
        current folder when it does; else ``./outputs``, for the error to name.
    """
    cwd = Path.cwd() if cwd is None else cwd
    explicit = os.environ.get(DIR_ENV)
    if explicit:
        return Path(explicit)
    outputs = cwd / DEFAULT_DIR
    if not (outputs / "xps").is_dir() and (cwd / "xps").is_dir():
        return cwd
    return outputs


def split_words(words: Sequence[str], cwd: Path | None = None) -> tuple[Path, list[str]]:
    """The store's root and the selectors among the positional words."""
    cwd = Path.cwd() if cwd is None else cwd
    if words and (cwd / words[0] / "xps").is_dir():
        return cwd / words[0], list(words[1:])
    if words and "/" in words[0] and not (cwd / words[0]).exists():
        message = f"folder {words[0]!r} does not exist: name the folder that holds xps/"
        raise TuiError(message)
    if words and (cwd / words[0]).is_dir() and not words[0].startswith("-"):
        message = (
            f"folder {words[0]!r} holds no XP store (no xps/ in it): name the folder "
            "that runs were recorded in, such as rl-study or outputs"
        )
        raise TuiError(message)
    return default_store(cwd), list(words)


def make_source(options: argparse.Namespace, script: list[str]) -> Source:
    """The source of runs the command line asks for."""
    if script:
        from .live_source import LiveSource

        if options.words or options.grid:
            message = "a script to run (after --) is watched alone: drop the store and selectors"
            raise TuiError(message)
        return LiveSource(script)
    from .store_source import StoreSource

    root, selectors = split_words(options.words)
    # A bad selector, store or grid fails here, before the screen changes.
    return StoreSource(root, grid=options.grid, selectors=selectors)


def main(argv: list[str] | None = None) -> int:
    """Run ``suite tui``; return the exit status (2 for bad input, with one line on stderr)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    script: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, script = argv[:split], argv[split + 1 :]
        if not script:
            print("suite tui: nothing after --: give the script and its arguments", file=sys.stderr)
            return 2
    options = build_parser().parse_intermixed_args(argv)
    try:
        source = make_source(options, script)
    except TuiError as error:
        print(f"suite tui: {error}", file=sys.stderr)
        return 2
    from .app import MonitorApp

    app = MonitorApp(source, metrics=options.metric, interval=options.interval)
    try:
        app.run()
    finally:
        source.close()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
