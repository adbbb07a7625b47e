"""Records as strict JSON lines: values summarised, records encoded, and read back.

The stand-ins that :func:`summarise` writes for what JSON cannot hold are tabled in the
documentation of :mod:`overseer.stream`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

_REPR_LIMIT = 200
_MAX_DEPTH = 64
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}
_KEY_CONSTANTS: dict[Any, str] = {True: "true", False: "false", None: "null"}
_ENCODE_ERRORS = (TypeError, ValueError, RecursionError)


# ---------------------------------------------------------------------------- summaries


_NUMBERS_READ = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_ONE_NUMBER = ("$tensor", "$ndarray")


def read_number(value: Any) -> float | None:
    """The number a value read from the stream stands for, or None when it is not one.

    The reverse of what :func:`summarise` writes for numbers: ints and floats, the strings
    ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, and the ``value`` of a tensor or array
    stand-in that holds one number. Booleans are not numbers here.

    Example:
        >>> read_number(3), read_number("-Infinity"), read_number({"$tensor": {"value": 0.5}})
        (3.0, -inf, 0.5)
        >>> read_number(True) is None and read_number("3") is None
        True
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return _NUMBERS_READ.get(value)
    if isinstance(value, dict) and len(value) == 1:
        kind, described = next(iter(value.items()))
        if kind in _ONE_NUMBER and isinstance(described, dict) and "value" in described:
            inner = described["value"]
            return None if isinstance(inner, dict) else read_number(inner)
    return None


def summarise(value: Any) -> Any:
    """A stand-in for ``value`` that strict JSON can hold (see the table of :mod:`overseer.stream`).

    Args:
        value: anything.

    Returns:
        ``value`` itself when it is already strict JSON, else its stand-in.

    Example:
        >>> summarise({"loss": float("nan"), "pair": (1, 2), 3: {"deep": [float("inf")]}})
        {'loss': 'NaN', 'pair': [1, 2], '3': {'deep': ['Infinity']}}
        >>> summarise(object())["$repr"].startswith("<object object")
        True
    """
    return _summarise(value, 0)


def _summarise(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _NON_FINITE.get(value, "NaN")
    if depth > _MAX_DEPTH:  # a structure that contains itself
        return _repr(value)
    if isinstance(value, Mapping):
        return {_key(key): _summarise(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_summarise(item, depth + 1) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return {field.name: _summarise(getattr(value, field.name), depth + 1) for field in fields}
    return _summarise_object(value, depth)


def _summarise_object(value: Any, depth: int) -> Any:
    # Found in sys.modules, never imported: a tensor exists only if its library is loaded.
    torch = sys.modules.get("torch")
    numpy = sys.modules.get("numpy")
    try:
        if torch is not None and isinstance(value, torch.Tensor):
            summary = {
                "shape": list(value.shape),
                "dtype": str(value.dtype).removeprefix("torch."),
                "device": str(value.device),
            }
            if value.numel() == 1:
                summary["value"] = _summarise(value.item(), depth + 1)
            return {"$tensor": summary}
        if numpy is not None and isinstance(value, numpy.ndarray):
            summary = {"shape": list(value.shape), "dtype": str(value.dtype)}
            if value.size == 1:
                summary["value"] = _summarise(value.item(), depth + 1)
            return {"$ndarray": summary}
        if _holds_one_number(value):
            return _summarise(value.item(), depth + 1)
    except Exception:  # a value that fails to describe itself is shown by its repr
        pass
    return _repr(value)


def _holds_one_number(value: Any) -> bool:
    """Whether ``value`` is a scalar of an array library (numpy, jax...): ``.item()``, size 1."""
    if not callable(getattr(value, "item", None)):
        return False
    size = getattr(value, "size", None)
    if callable(size):  # torch's spelling
        size = size()
    return size == 1 or getattr(value, "shape", None) == ()


def _repr(value: Any) -> dict[str, str]:
    try:
        text = repr(value)
    except Exception as error:  # the record is written all the same
        text = f"<unrepresentable {type(value).__name__}: {error!r}>"
    return {"$repr": text[:_REPR_LIMIT]}


def _key(key: Any) -> str:
    """A dict key as JSON writes it: ``1`` -> ``"1"``, ``True`` -> ``"true"``."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return _KEY_CONSTANTS[key]
    if isinstance(key, float):
        return str(_summarise(key, 0))
    return str(key)


# ---------------------------------------------------------------------------- encoding


def _default(value: Any) -> Any:
    # What the encoder cannot write is summarised on the spot, so a record with a tensor in
    # it is still encoded in one pass.
    return _summarise(value, 0)


def _make_encoder() -> Callable[[Any, int], Any]:
    """The C encoder of :mod:`json`, configured once: ``encoder(obj, 0)`` gives the chunks.

    ``JSONEncoder.encode`` builds a new one for every call, which costs as much as the
    encoding of a small record. Where it is missing (PyPy), the same configuration in Python.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        encoder = json.JSONEncoder(
            allow_nan=False, separators=(",", ":"), ensure_ascii=False, default=_default
        )
        return lambda value, _level: (encoder.encode(value),)
    # check_circular off: a cycle ends in RecursionError, which sends it to the slow path.
    return make(  # type: ignore[no-any-return]
        None, _default, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )


_encoder = _make_encoder()


def _encode_object(values: Mapping[str, Any]) -> str:
    """``values`` as a JSON object; non-finite floats and odd keys go through :func:`summarise`."""
    try:
        return "".join(_encoder(values, 0))
    except _ENCODE_ERRORS:
        summary = _summarise(values, 0)
        if not isinstance(summary, dict):
            summary = {"$value": summary}
        return "".join(_encoder(summary, 0))


def _splice(body: str, metadata: str) -> str:
    """Put ``metadata`` (``'"$t":1.0,...'``) inside the object ``body`` as its last keys."""
    if not metadata:
        return f"{body}\n"
    separator = "," if len(body) > 2 else ""
    return f"{body[:-1]}{separator}{metadata}}}\n"


def encode_record(values: Mapping[str, Any], metadata: Mapping[str, Any]) -> str:
    """One line of the stream: ``values`` with ``metadata`` (the ``$`` keys) added.

    Args:
        values: the record's keys, user data or ``{"$event": ..., "$data": ...}``.
        metadata: the keys added last, usually ``$t``, ``$pid`` and ``$rank``.

    Returns:
        Strict JSON text ending in ``\\n``.

    Example:
        >>> encode_record({"loss": float("nan"), "step": 1}, {"$t": 1.5, "$pid": 7, "$rank": 0})
        '{"loss":"NaN","step":1,"$t":1.5,"$pid":7,"$rank":0}\\n'
    """
    return _splice(_encode_object(values), _encode_object(metadata)[1:-1])


def parse_record(line: str | bytes) -> dict[str, Any] | None:
    """The record one line holds, or ``None`` when it is torn or not a JSON object.

    Readers use it on streams still being written, where the last line may be incomplete.
    Bare ``NaN`` is accepted, as older writers (voir's) produce it.

    Example:
        >>> parse_record('{"loss": 0.5, "$t": 1.0}')
        {'loss': 0.5, '$t': 1.0}
        >>> parse_record('{"loss": 0.') is None
        True
    """
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def read_records(source: str | os.PathLike[str] | IO[str] | IO[bytes]) -> Iterator[dict[str, Any]]:
    """The records of a saved stream, in order, skipping torn and invalid lines.

    Args:
        source: a path, or a file open for reading (text or binary).

    Example:
        >>> import io
        >>> list(read_records(io.StringIO('{"a": 1}\\n{"a": 2}\\n{"a"')))
        [{'a': 1}, {'a': 2}]
    """
    if isinstance(source, (str, os.PathLike)):
        with Path(source).open("rb") as file:
            yield from read_records(file)
        return
    for line in source:
        record = parse_record(line)
        if record is not None:
            yield record
