"""The signature of an XP: a short, stable name hashed from the arguments it was given.

The rule, version 1 (:data:`SIGNATURE_RULE`), written down so it never changes silently:

1. The configuration is flattened to dotted keys (``{"optim": {"lr": 1}}`` -> ``optim.lr``).
2. Every value is put in canonical form (:func:`canonical`): a float with an integral value
   is the integer (``1.0`` and ``1`` are one value), numpy scalars are Python numbers,
   tuples are lists, ``NaN`` and infinities are the strings ``"nan"``, ``"inf"``, ``"-inf"``,
   paths and enums are strings.
3. The delta is every key whose canonical value differs from the default's, minus the keys
   that match one of the project's ``exclude`` patterns (:func:`fnmatch.fnmatchcase`).
   Naming a default explicitly (``model=small`` when small is the default, ``--lr=0.1`` when
   0.1 is) therefore changes nothing.
4. The signature is the first 12 hex digits (48 bits) of BLAKE2b over the canonical JSON
   (sorted keys, no spaces) of ``{"rule": 1, "delta": delta}``.

The same rule serves argparse and hydra projects. The store keeps the whole configuration
beside the delta (``argv.json``), so two deltas with one signature are detected as a
collision, and a default that changed since an XP was made is reported, not followed::

    >>> delta = config_delta({"lr": 0.1, "epochs": 10.0}, {"lr": 0.1, "epochs": 5}, [])
    >>> delta
    {'epochs': 10}
    >>> signature(delta)
    '...'
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

__all__ = [
    "MISSING",
    "SIGNATURE_LENGTH",
    "SIGNATURE_RULE",
    "canonical",
    "config_delta",
    "flatten",
    "is_excluded",
    "signature",
]

SIGNATURE_RULE = 1
SIGNATURE_LENGTH = 12
#: Stands for a key that the defaults do not have (or that a configuration removed).
MISSING = "<missing>"
_MAX_SAFE_INTEGER = 2**53


def canonical(value: Any) -> Any:
    """``value`` in the canonical, JSON-able form the signature is computed on.

    Example:
        >>> canonical(1.0), canonical(float("nan")), canonical((1, 2.5)), canonical(True)
        (1, 'nan', [1, 2.5], True)
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _canonical_float(value)
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, Mapping):
        return {str(key): canonical(item) for key, item in sorted(value.items(), key=_key)}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return canonical(item())
    return str(value)


def _key(pair: tuple[Any, Any]) -> str:
    return str(pair[0])


def _canonical_float(value: float) -> Any:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < _MAX_SAFE_INTEGER:
        return int(value)
    return value


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level of dotted keys; lists stay values.

    Example:
        >>> flatten({"optim": {"lr": 0.1, "betas": [0.9, 0.99]}, "seed": 1})
        {'optim.lr': 0.1, 'optim.betas': [0.9, 0.99], 'seed': 1}
    """
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def is_excluded(key: str, exclude: Sequence[str]) -> bool:
    """Whether the dotted ``key`` matches one of the ``exclude`` patterns."""
    return _is_excluded(key, tuple(exclude))


@functools.lru_cache(maxsize=65536)
def _is_excluded(key: str, exclude: tuple[str, ...]) -> bool:
    # A grid asks the same few keys thousands of times: matching them once is enough.
    return any(fnmatchcase(key, pattern) for pattern in exclude)


def config_delta(
    config: Mapping[str, Any], defaults: Mapping[str, Any], exclude: Sequence[str] = ()
) -> dict[str, Any]:
    """The canonical values of ``config`` that differ from ``defaults``, excluded keys left out.

    Both mappings are flattened first; a key of ``defaults`` that ``config`` lacks is in the
    delta as :data:`MISSING`.
    """
    flat_config = {key: canonical(value) for key, value in flatten(config).items()}
    flat_defaults = {key: canonical(value) for key, value in flatten(defaults).items()}
    delta = {
        key: value
        for key, value in flat_config.items()
        if flat_defaults.get(key, MISSING) != value and not is_excluded(key, exclude)
    }
    for key in flat_defaults.keys() - flat_config.keys():
        if not is_excluded(key, exclude):
            delta[key] = MISSING
    return dict(sorted(delta.items()))


def signature(delta: Mapping[str, Any]) -> str:
    """The 12-hex-digit signature of a delta (see the rule in this module's docstring)."""
    text = json.dumps(
        {"rule": SIGNATURE_RULE, "delta": canonical(delta)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=SIGNATURE_LENGTH // 2)
    return digest.hexdigest()
