"""The ``argparse`` instrument: the options the script parsed, given once and written.

The script is not changed: while it runs, argparse's parsing methods are wrapped so that the
first time one of the script's parsers returns, its namespace is given as
``options={"lr": 0.1, "epochs": 10, ...}`` and written to the data stream. Later parses
(a second parser, a parse repeated) give nothing more; the overseer's own flags never appear.

From the command line, ``--argparse``; from a voirfile::

    from overseer_instruments import script_options


    def instrument_main(ov):
        ov.require(script_options())
        ov.given.where("options").print("options: {options}")
"""

from __future__ import annotations

import argparse
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .forwarding import forward

__all__ = ["command_line", "script_options"]

Instrument = Callable[[Any], Any]

# Every public way to parse. Depending on the Python version some call others (parse_args
# calls parse_known_args): only the outermost call of a thread counts.
_METHODS = (
    "parse_args",
    "parse_known_args",
    "parse_intermixed_args",
    "parse_known_intermixed_args",
)


def script_options() -> Instrument:
    """An instrument giving the script's parsed argparse options once, as ``options``.

    The record ``{"options": {...}}`` is given when the first of the script's
    ``ArgumentParser`` objects returns from ``parse_args`` (or ``parse_known_args``, or an
    intermixed variant), and is written to the data stream. Values that are not JSON
    (paths, enums) are summarised by the stream.

    Example::

        def instrument_main(ov):
            ov.require(script_options())
    """

    def script_options_instrument(ov: Any) -> Iterator[Any]:
        yield ov.phases.parse_args
        forward(ov, "options")
        patch = _ParsePatch(ov.give, exclude=ov.argparser)
        patch.install()
        try:
            yield ov.phases.run_script
        finally:
            patch.remove()

    return script_options_instrument


def command_line(ov: Any) -> Iterator[Any]:
    """Give and write the options the script's own argparse parser returns, once."""
    ov.argparser.add_argument(
        "--argparse",
        action="store_true",
        help="give the script's parsed argparse options once, as options={...}, and write them",
    )
    yield ov.phases.parse_args
    if ov.options.argparse:
        ov.require(script_options())


class _ParsePatch:
    """Wraps ArgumentParser's parsing methods; gives the first namespace the script gets."""

    def __init__(self, give: Callable[..., Any], exclude: Any) -> None:
        self._give = give
        # ov.argparser may be a view on the overseer's parser: compare the parser itself.
        self._exclude = getattr(exclude, "_parser", exclude)
        self._originals: dict[str, Any] = {}
        self._wrappers: dict[str, Any] = {}
        self._depth = threading.local()
        self._lock = threading.Lock()
        self._done = False

    def install(self) -> None:
        """Wrap the methods of ``argparse.ArgumentParser``."""
        for name in _METHODS:
            original = getattr(argparse.ArgumentParser, name, None)
            if original is None:
                continue
            wrapper = self._wrap(original)
            self._originals[name] = original
            self._wrappers[name] = wrapper
            setattr(argparse.ArgumentParser, name, wrapper)

    def remove(self) -> None:
        """Put the methods back, unless something wrapped them since (then ours passes by)."""
        self._done = True
        for name, original in self._originals.items():
            if vars(argparse.ArgumentParser).get(name) is self._wrappers[name]:
                setattr(argparse.ArgumentParser, name, original)

    def _wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def parse(parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
            if self._done or parser is self._exclude:
                return original(parser, *args, **kwargs)
            depth = getattr(self._depth, "value", 0)
            self._depth.value = depth + 1
            try:
                result = original(parser, *args, **kwargs)
            finally:
                self._depth.value = depth
            if depth == 0:
                self._give_once(result)
            return result

        return parse

    def _give_once(self, result: Any) -> None:
        namespace = result[0] if isinstance(result, tuple) else result
        with self._lock:
            if self._done:
                return
            self._done = True
        self._give(options=dict(vars(namespace)))
