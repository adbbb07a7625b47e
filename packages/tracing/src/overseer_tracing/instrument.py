"""The ``trace`` instrument of the overseer: ``overseer --trace N script.py`` traces N items.

Installed through the entry point ``trace`` of the group ``overseer.instruments``, it adds
three flags; any of them turns it on::

    $ overseer --trace 2 --trace-json trace.json --trace-chrome trace.perfetto.json train.py

The script's imports and definitions run untraced (the ``load_script`` phase); its main part
runs inside ``TraceContext(trace=N)``: each traced stage records its first N calls (and any
later one that raises), torch DataLoaders stop after N items (whole batches), and the rest
of the script runs to its end untraced. After it ends, however it ends, the trace is printed on
stderr, saved beside the data stream as the control record ``{"$event": "trace", "$data":
...}`` (the JSON layout of :func:`overseer_tracing.export.trace_to_dict`), and written to the
files asked for. This module never imports the overseer: ``ov`` is whatever instrument
protocol object runs it (``argparser``, ``options``, ``phases``, ``log``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import TraceResult

__all__ = ["command_line"]

#: The items traced by ``--trace-json`` or ``--trace-chrome`` without ``--trace``.
DEFAULT_ITEMS = 1


def command_line(ov: Any) -> Generator[Any, Any, None]:
    """Trace the data pipeline of the script for N items and save the trace."""
    add = ov.argparser.add_argument
    add(
        "--trace",
        type=_items,
        metavar="N",
        help=(
            "trace N items: each traced stage records its first N calls, then the script"
            " goes on untraced; torch DataLoaders stop after N items; the trace prints on"
            " stderr"
        ),
    )
    alone = f"(alone: traces {DEFAULT_ITEMS} item)"
    add("--trace-json", metavar="PATH", help=f"write the whole trace as JSON to PATH {alone}")
    add("--trace-chrome", metavar="PATH", help=f"write a Chrome trace file to PATH {alone}")
    yield ov.phases.parse_args
    options = ov.options
    if options.trace is None and not options.trace_json and not options.trace_chrome:
        return
    from .context import TraceContext

    yield ov.phases.load_script
    items = options.trace or DEFAULT_ITEMS
    context = TraceContext(items, {"max_calls_per_stage": items, "first_only": True})
    context.__enter__()
    try:
        yield ov.phases.run_script
    finally:
        # The script's exception (thrown in here at the yield) goes on after the report.
        context.__exit__(None, None, None)
        if context.result is not None:
            _report(ov, context.result, options.trace_json, options.trace_chrome)


def _items(text: str) -> int:
    """``--trace``'s value: a positive whole number (argparse turns the error into usage)."""
    if not text.isdigit() or int(text) < 1:
        message = f"{text!r} is not a number of items: give a positive whole number, e.g. 4"
        raise argparse.ArgumentTypeError(message)
    return int(text)


def _report(ov: Any, result: TraceResult, json_path: str | None, chrome_path: str | None) -> None:
    """Print, log and save the trace; a file that cannot be written is said, not raised."""
    from .export import save_files, trace_to_dict

    print(result, file=sys.stderr, flush=True)
    ov.log({"$event": "trace", "$data": trace_to_dict(result)})
    error = save_files(result, json_path, chrome_path)
    if error is not None:
        print(f"overseer: trace: cannot save the trace: {error}", file=sys.stderr)
