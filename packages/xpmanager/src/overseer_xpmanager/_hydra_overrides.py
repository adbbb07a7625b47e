"""Hydra overrides for the decorated main: written from values, parsed once, classified.

``override_value`` writes a Python value so hydra's override parser reads it back
unchanged, which is how ``launcher(lr=0.01, name="run 1", layers=[1, 2])`` becomes
``lr=0.01 'name=run 1' layers=[1, 2]``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .errors import ArgumentError

if TYPE_CHECKING:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import Override

__all__ = ["has_key", "is_hydra_key", "needs_composition", "override_value", "parse_override"]

_PLAIN = re.compile(r"[A-Za-z_][\w\-./]*")
_RESERVED = frozenset({"true", "false", "null", "nan", "inf"})
_QUOTE_OR_END = re.compile(r"(\\*)('|$)")


def override_value(value: Any) -> str:
    """``value`` written in hydra's override grammar.

    Example:
        >>> override_value([1, "a b", None]), override_value("adam"), override_value(True)
        ("[1, 'a b', null]", 'adam', 'true')
    """
    if type(value).__module__ == "numpy":
        value = value.item()
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
            return value
        return "'" + _QUOTE_OR_END.sub(_escape, value) + "'"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {override_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(override_value(item) for item in value) + "]"
    message = f"{value!r} ({type(value).__name__}) has no hydra override form: pass a str"
    raise ArgumentError(message)


def _escape(match: re.Match[str]) -> str:
    # Backslashes are literal in hydra's quoted strings except before a quote (or the end).
    return match.group(1) * 2 + ("\\'" if match.group(2) else "")


@functools.lru_cache(maxsize=1)
def _overrides_parser() -> OverridesParser:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create()


@functools.lru_cache(maxsize=2**16)
def parse_override(text: str) -> Override:
    # Grids repeat the same overrides (model=large) many times: each is parsed once.
    from hydra.errors import HydraException

    try:
        return _overrides_parser().parse_override(text)
    except HydraException as error:
        message = f"cannot parse override {text!r}: {' '.join(str(error).split())}"
        raise ArgumentError(message) from None


def needs_composition(override: Override) -> bool:
    # Additions and deletions follow hydra's own rules: compose for real.
    return bool(override.is_add() or override.is_force_add() or override.is_delete())


def is_hydra_key(key: str) -> bool:
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))


def has_key(config: Any, key: str) -> bool:
    from omegaconf import DictConfig, ListConfig, OmegaConf

    parent, _, leaf = key.rpartition(".")
    node = OmegaConf.select(config, parent, default=None) if parent else config
    if isinstance(node, DictConfig):
        # `in node` is False for a mandatory value (???), which an override may still set.
        return leaf in node.keys()  # noqa: SIM118
    if isinstance(node, ListConfig):
        return leaf.isdigit() and int(leaf) < len(node)
    return False
