"""Between launcher calls and an argparse command line: option items, defaults, hints.

``launcher(lr=0.01, fast=True, no_cuda=False)`` becomes ``--lr=0.01 --fast``: a flag is
written only when it changes something, so ``store_true`` options given False are left out
(argparse would reject ``--fast=False``), ``BooleanOptionalAction`` ones given False read
``--no-NAME``, and every option is spelled as the parser spells it.
"""

from __future__ import annotations

import argparse
import difflib
from typing import Any

from .errors import ArgumentError

__all__ = ["action_defaults", "close_options", "option_items"]


def option_items(action: argparse.Action, name: str, value: Any) -> list[str]:
    """The command-line items that give ``action``'s destination the value ``value``.

    Raises:
        ArgumentError: ``value`` cannot be written for this action (a flag's value that is
            neither its constant nor its default).

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> fast = parser.add_argument("--fast", action="store_true")
        >>> option_items(fast, "fast", True), option_items(fast, "fast", False)
        (['--fast'], [])
    """
    if not action.option_strings:
        return [str(item) for item in _as_list(value)]
    flag = _option_string(action)
    if isinstance(action, argparse.BooleanOptionalAction):
        return [flag if value else f"--no-{flag[2:]}"]
    if isinstance(action, argparse._StoreConstAction):
        return _const_items(name, value, action, flag)
    if isinstance(action, argparse._CountAction):
        return [flag] * int(value)
    if isinstance(action, argparse._AppendAction) and isinstance(value, (list, tuple)):
        return [f"{flag}={item}" for item in value]
    if isinstance(value, (list, tuple)) and action.nargs not in (None, "?"):
        return [flag, *(str(item) for item in value)]
    if value is None and action.default is None:
        return []
    return [f"{flag}={value}"]


def action_defaults(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """Each destination's default as parsing would set it, without parsing anything.

    For parsers with required arguments, where an empty command line is an error.
    """
    values: dict[str, Any] = {}
    for action in parser._actions:
        if action.dest == argparse.SUPPRESS or action.default == argparse.SUPPRESS:
            continue
        value = parser.get_default(action.dest)
        if isinstance(value, str) and callable(action.type):
            value = action.type(value)
        values[action.dest] = value
    return values


def close_options(parser: argparse.ArgumentParser, unknown: list[str]) -> str:
    """`` (--lrr=0.1: did you mean --lr?)`` for the unknown items that look like an option."""
    known = [option for action in parser._actions for option in action.option_strings]
    hints = []
    for item in unknown:
        close = difflib.get_close_matches(item.split("=", 1)[0], known, n=3)
        if close:
            hints.append(f"{item}: did you mean {' or '.join(close)}?")
    return f" ({'; '.join(hints)})" if hints else ""


def _option_string(action: argparse.Action) -> str:
    options = [o for o in action.option_strings if not o.startswith("--no-")]
    for option in options:
        if option.lstrip("-").replace("-", "_") == action.dest:
            return option
    long = [option for option in options if option.startswith("--")]
    return (long or options or action.option_strings)[0]


def _const_items(name: str, value: Any, action: argparse.Action, flag: str) -> list[str]:
    if value == action.const:
        return [flag]
    if value == action.default or (value is None and not action.default):
        return []
    message = (
        f"launcher argument {name}={value!r} cannot be written on the command line: {flag} "
        f"sets {action.const!r} and its default is {action.default!r}"
    )
    raise ArgumentError(message)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]
