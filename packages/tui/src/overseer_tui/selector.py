"""Run selectors: which runs to show, as written on the command line or in the filter box.

::

    selectors = parse_selectors(["-1", "*badger", "lr=3e-4", "status!=failed"])
    shown = select(runs, selectors)

The forms:

- ``-1`` the latest run (by creation time), ``-2`` the one before...;
- a signature or a prefix of one (4 hex digits or more), or a run's name (``modest-badger``);
- a glob on names and signatures (``*badger``, ``1dcf*``);
- a filter ``key=value``, ``key!=value``, ``key<value``, ``key>value`` (also ``<=``, ``>=``)
  where ``key`` is an argument (from the run's args, then its config), ``status``, ``name``
  or ``sig``. Values compare as numbers when both read as numbers (``lr=3e-4`` matches
  0.0003), else as text (case-insensitive for status and booleans).

Names, globs and latest picks are OR-ed together (none: every run); filters are AND-ed on top.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from .entries import RunStatus
from .errors import SelectorError
from .model import Run

__all__ = ["FORMS", "Selector", "parse_selectors", "select"]

FORMS = (
    "-1 (latest), a sig or sig prefix (4+ hex digits), a name, a glob (*badger),"
    " or a filter key=value, key!=value, key<value, key>value"
)
Kind = Literal["latest", "sig", "name", "glob", "filter"]

_LATEST = re.compile(r"-([1-9]\d*)")
_SIG_PREFIX = re.compile(r"[0-9a-f]{4,}")
_NAME = re.compile(r"[\w.:+@-]+")
_FILTER = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*(!=|<=|>=|=|<|>)\s*(\S.*?)\s*")
_GLOB_CHARACTERS = frozenset("*?[")
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_MISSING = object()


@dataclass(frozen=True)
class Selector:
    """One parsed selector.

    Attributes:
        text: what was written.
        kind: ``"latest"``, ``"sig"``, ``"name"``, ``"glob"`` or ``"filter"``.
        key: the filtered key (filters only).
        op: the comparison, ``"="``, ``"!="``, ``"<"``... (filters only).
        value: the value compared to, or the name, prefix or pattern.
        rank: 1 for ``-1``, 2 for ``-2`` (latest only).
    """

    text: str
    kind: Kind
    key: str = ""
    op: str = ""
    value: str = ""
    rank: int = 0

    @property
    def picks(self) -> bool:
        """Whether this selector picks runs (OR-ed) rather than filters them (AND-ed)."""
        return self.kind != "filter"


def parse_selector(text: str) -> Selector:
    """Parse one selector.

    Raises:
        SelectorError: ``text`` has none of the forms (the message lists them).
    """
    stripped = text.strip()
    latest = _LATEST.fullmatch(stripped)
    if latest:
        return Selector(text, "latest", rank=int(latest.group(1)))
    matched = _FILTER.fullmatch(stripped)
    if matched:
        key, op, value = matched.groups()
        _check_status(text, key, value)
        return Selector(text, "filter", key=key, op=op, value=value)
    if stripped and _GLOB_CHARACTERS & set(stripped) and not set("=<>!") & set(stripped):
        return Selector(text, "glob", value=stripped)
    if _SIG_PREFIX.fullmatch(stripped):
        return Selector(text, "sig", value=stripped)
    if _NAME.fullmatch(stripped) and not stripped.startswith("-"):
        return Selector(text, "name", value=stripped)
    message = f"selector {text!r} is not understood: give {FORMS}"
    raise SelectorError(message)


def _check_status(text: str, key: str, value: str) -> None:

    words = [status.value.lower() for status in RunStatus]
    if key == "status" and value.lower() not in words:
        message = f"selector {text!r} names no status: give one of {', '.join(words)}"
        raise SelectorError(message)


def parse_selectors(texts: Sequence[str]) -> list[Selector]:
    """Parse every selector of ``texts`` (see :func:`parse_selector`)."""
    if isinstance(texts, str):
        texts = [texts]
    return [parse_selector(text) for text in texts]


def select(runs: Sequence[Run], selectors: Sequence[Selector]) -> list[Run]:
    """The runs that ``selectors`` keep, in the order of ``runs``.

    Example::

        select(runs, parse_selectors(["*badger", "-1", "size>3"]))
        # the runs named like *badger, and the latest run, whose size is above 3
    """
    picks = [each for each in selectors if each.picks]
    filters = [each for each in selectors if not each.picks]
    kept = list(runs)
    if picks:
        latest = _latest_sigs(runs, [each.rank for each in picks if each.kind == "latest"])
        kept = [run for run in kept if run.sig in latest or any(_picks(s, run) for s in picks)]
    return [run for run in kept if all(_passes(each, run) for each in filters)]


def _latest_sigs(runs: Sequence[Run], ranks: list[int]) -> set[str]:
    if not ranks:
        return set()
    newest_first = sorted(runs, key=lambda run: run.created, reverse=True)
    return {newest_first[rank - 1].sig for rank in ranks if rank <= len(newest_first)}


def _picks(selector: Selector, run: Run) -> bool:
    if selector.kind == "sig":
        return run.sig.startswith(selector.value) or run.name == selector.value
    if selector.kind == "name":
        return run.name == selector.value or run.sig == selector.value
    if selector.kind == "glob":
        return fnmatchcase(run.name, selector.value) or fnmatchcase(run.sig, selector.value)
    return False


def _passes(selector: Selector, run: Run) -> bool:
    found = _value_of(run, selector.key)
    if found is _MISSING:
        return selector.op == "!="
    compare = _COMPARISONS[selector.op]
    wanted = selector.value
    left, right = _number(found), _number(wanted)
    if left is not None and right is not None:
        return compare(left, right)
    text = _text(found)
    if selector.key == "status" or isinstance(found, bool) or found is None:
        text, wanted = text.lower(), wanted.lower()
    return compare(text, wanted)


def _value_of(run: Run, key: str) -> Any:
    if key == "status":
        return run.status.value
    if key in ("name", "sig"):
        return getattr(run, key)
    if key in run.args:
        return run.args[key]
    if key in run.config:
        return run.config[key]
    return _nested(run.config, key.split("."))


def _nested(config: Any, parts: list[str]) -> Any:
    """``optim.lr`` in a config that nests its sections ({"optim": {"lr": ...}})."""
    for part in parts:
        if not isinstance(config, dict) or part not in config:
            return _MISSING
        config = config[part]
    return config


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    return str(value)
