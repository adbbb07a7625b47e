"""The ``log`` instrument: given records whose keys match patterns go to the data stream.

From the command line, ``--log PATTERNS`` (fnmatch patterns, ``--log 'loss*,rate'``, or the
flag repeated) and ``--log-context KEYS`` (keys kept beside a match, ``task`` by default).
From a voirfile::

    from overseer_instruments import log


    def instrument_main(ov):
        ov.require(log("loss", "acc*", context=("task", "epoch")))

A record ``{"loss": 0.5, "epoch": 2, "images": batch}`` given in the script becomes
``{"loss": 0.5, "epoch": 2}`` in the stream: the matching keys and the context keys it holds.
With ``--log-given`` every record is written whole already, and ``log`` writes nothing more.

Other instruments use :func:`forward` to put their own records in the stream.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ._flag_types import names
from .errors import ConfigurationError

__all__ = ["command_line", "forward", "log"]

Instrument = Callable[[Any], Any]


def log(*patterns: str, context: Iterable[str] = ("task",)) -> Instrument:
    """An instrument writing the given records that hold a key matching ``patterns``.

    Args:
        patterns: fnmatch patterns on keys (``"loss"``, ``"acc*"``, ``"*_rate"``).
        context: keys kept beside the matching ones when the record holds them.

    Raises:
        ConfigurationError: no pattern, or a pattern that is not a string.
    """
    if not patterns:
        raise ConfigurationError("log() needs at least one key pattern, e.g. log('loss', 'acc*')")
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern:
            message = f"log() patterns are non-empty strings of key names, not {pattern!r}"
            raise ConfigurationError(message)
    select = _selector(patterns, tuple(context))

    def log_instrument(ov: Any) -> Iterator[Any]:
        yield ov.phases.parse_args
        if _logs_everything(ov):
            return
        ov.given.map(select).filter(bool) >> ov.log

    return log_instrument


def forward(ov: Any, *keys: str) -> None:
    """Write every given record holding one of ``keys`` to the data stream, whole.

    For instruments that give their own records (``ov.give(cpudata=...)``) so that both other
    instruments and the stream see them. Call it after ``parse_args``; with ``--log-given``
    it does nothing, every record being written already.
    """
    if _logs_everything(ov):
        return
    wanted = frozenset(keys)
    ov.given.filter(lambda values: not wanted.isdisjoint(values)) >> ov.log


def command_line(ov: Any) -> Iterator[Any]:
    """Write given records whose keys match --log patterns to the data stream."""
    ov.argparser.add_argument(
        "--log",
        action="append",
        type=names,
        metavar="PATTERN[,PATTERN...]",
        help="write the given records with a key matching a PATTERN (fnmatch) to the stream;"
        " repeat or separate with commas",
    )
    ov.argparser.add_argument(
        "--log-context",
        type=names,
        metavar="KEY[,KEY...]",
        default=["task"],
        help="keys kept beside the matching ones (default: task)",
    )
    yield ov.phases.parse_args
    if ov.options.log:
        patterns = [pattern for group in ov.options.log for pattern in group]
        ov.require(log(*patterns, context=ov.options.log_context))


def _logs_everything(ov: Any) -> bool:
    return bool(getattr(ov.options, "log_given", False))


def _selector(
    patterns: tuple[str, ...], context: tuple[str, ...]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    matches = re.compile("|".join(fnmatch.translate(pattern) for pattern in patterns)).match
    decided: dict[str, bool] = {}

    def select(values: dict[str, Any]) -> dict[str, Any]:
        kept = {}
        for key, value in values.items():
            hit = decided.get(key)
            if hit is None:
                hit = decided[key] = matches(key) is not None
            if hit:
                kept[key] = value
        if kept:
            for key in context:
                if key in values:
                    kept.setdefault(key, values[key])
        return kept

    return select
