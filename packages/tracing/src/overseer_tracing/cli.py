"""The ``suite trace`` command: run a script with tracing on, then print and save its trace.

``suite trace [-n N] [--json PATH] [--chrome PATH] [--all-threads] script.py ARGS...`` runs
the script as ``python script.py ARGS...`` would, inside ``TraceContext(trace=N)``, prints
the trace on stdout and writes the files asked for; ``-m module ARGS...`` runs a module as
``python -m`` does::

    $ suite trace -n 4 --chrome trace.json train.py --epochs 1

N is the number of items to trace: each stage records its first N calls (and any later one
that raises), and the torch DataLoaders the script iterates stop after N items (whole
batches). The script itself runs to its end; past the first N calls, a stage's calls run
untraced. The exit status is the script's own: 1 after an exception (its traceback, then
the trace so far), 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import runpy
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .context import TraceContext

if TYPE_CHECKING:
    from .model import TraceResult

__all__ = ["main"]

PROGRAM = "suite trace"
# Frames of these files are the tool's, not the script's: left out of its traceback.
_OWN_FILES = (os.path.dirname(os.path.abspath(__file__)) + os.sep, runpy.__file__, "<frozen runpy>")


class _BadInput(Exception):
    """A command line that cannot run; the message names the thing and the fix."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # raises, never returns
        raise _BadInput(f"{message}; see {PROGRAM} --help")


def main(argv: list[str]) -> int:
    """Run a Python script or module with tracing on, then print or save its trace.

    Args:
        argv: the arguments after ``suite trace``.

    Returns:
        The script's exit status; 1 when it raised, 2 for a bad command line.

    Examples:
        >>> main(["-n", "2", "--json", "trace.json", "pipeline.py"])  # doctest: +SKIP
    """
    try:
        options = _parser().parse_args(argv)
        run = _runner(options)
        for path in (options.json, options.chrome):
            _check_writable(path)
    except _BadInput as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    # N items: a stage keeps its first N calls, and the rest of the script runs untraced.
    config = {"max_calls_per_stage": options.n, "first_only": True}
    context = TraceContext(options.n, {**config, "all_threads": options.all_threads})
    with context:
        status = _run_as_python(run)
    if context.result is not None:
        print(context.result, flush=True)
        if not _save(context.result, options.json, options.chrome):
            return status or 1
    return status


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROGRAM,
        usage=f"{PROGRAM} [OPTIONS] SCRIPT [ARGS...] | {PROGRAM} [OPTIONS] -m MODULE [ARGS...]",
        description="Run a Python script or module with tracing on, then print its trace.",
        allow_abbrev=False,
    )
    items = (
        "trace N items: each stage records its first N calls, then the script goes on"
        " untraced; torch DataLoaders stop after N items (default: 1)"
    )
    parser.add_argument("-n", type=_items, default=1, metavar="N", help=items)
    parser.add_argument("--json", metavar="PATH", help="write the whole trace as JSON to PATH")
    parser.add_argument(
        "--chrome", metavar="PATH", help="write a Chrome trace file to PATH (opens in Perfetto)"
    )
    parser.add_argument(
        "--all-threads", action="store_true", help="record the calls of every thread"
    )
    parser.add_argument("SCRIPT", nargs="?", help="the script to run")
    parser.add_argument("ARGV", nargs=argparse.REMAINDER, help="the script's arguments")
    parser.add_argument(
        "-m",
        dest="MODULE",
        nargs=argparse.REMAINDER,
        metavar="MODULE ...",
        help="-m MODULE ARGS...: run a module as `python -m` does",
    )
    return parser


def _items(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        message = f"-n {text!r} is not a number of items: give a positive whole number, e.g. -n 4"
        raise _BadInput(message)
    return int(text)


def _runner(options: argparse.Namespace) -> Callable[[], object]:
    """What runs the script or module as python would."""
    if options.MODULE:
        return _module_runner(*options.MODULE)
    if options.SCRIPT is None:
        raise _BadInput("nothing to run: pass a script (suite trace script.py) or -m MODULE")
    path = Path(options.SCRIPT)
    if not path.is_file():
        why = "it is a directory" if path.is_dir() else "no such file"
        raise _BadInput(f"cannot run script {options.SCRIPT!r}: {why}; pass a Python file")
    argv, folder = [options.SCRIPT, *options.ARGV], str(path.resolve().parent)
    script = functools.partial(runpy.run_path, str(path), run_name="__main__")
    return functools.partial(_with_sys, argv, folder, script)


def _module_runner(name: str, *args: str) -> Callable[[], object]:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        raise _BadInput(f"no module named {name!r}: check the name, or install its package")
    argv = [spec.origin, *args]  # python -m: the module's file, then its arguments
    module = functools.partial(runpy.run_module, name, run_name="__main__", alter_sys=True)
    return functools.partial(_with_sys, argv, os.getcwd(), module)


def _with_sys(argv: list[str], path0: str, run: Callable[[], object]) -> object:
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = argv
    sys.path.insert(0, path0)
    try:
        return run()
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


def _check_writable(path: str | None) -> None:
    """Fail before the script runs, not after, when a file asked for cannot be written."""
    if path is not None and not Path(path).resolve().parent.is_dir():
        folder = Path(path).resolve().parent
        raise _BadInput(f"cannot write {path!r}: no folder {str(folder)!r}; create it first")


def _save(result: TraceResult, json_path: str | None, chrome_path: str | None) -> bool:
    """Write the files asked for; False (and why, on stderr) when one cannot be written."""
    from .export import save_files

    error = save_files(result, json_path, chrome_path)
    if error is not None:
        print(f"{PROGRAM}: error: cannot save the trace: {error}", file=sys.stderr)
    return error is None


def _run_as_python(run: Callable[[], object]) -> int:
    """Run the script; its exit status, as python's (its traceback printed on an error)."""
    try:
        run()
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        print(exit_.code, file=sys.stderr)
        return 1
    except BaseException as error:  # the script's error: shown, then the trace so far
        _print_script_traceback(error)
        return 130 if isinstance(error, KeyboardInterrupt) else 1
    return 0


def _print_script_traceback(error: BaseException) -> None:
    report = traceback.TracebackException.from_exception(error)
    frames = [f for f in report.stack if not f.filename.startswith(_OWN_FILES)]
    report.stack = traceback.StackSummary.from_list(frames)
    print("".join(report.format()), end="", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
