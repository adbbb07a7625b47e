"""What a value is, read without computing anything, and the pieces of its one-line text.

:func:`describe` gives a value's kind, shape, dtype, device and length; :func:`head`,
:func:`items_text` and :func:`clip` build the line that :meth:`Summary.short` prints. numpy
and torch are looked up in ``sys.modules``, never imported.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: kind, shape, dtype, device, length.
Description = tuple[str, tuple[int, ...] | None, str | None, str | None, int | None]

# short() fits one line of a terminal; containers look at this many items to call them uniform.
SHORT_LIMIT = 100
SCAN_LIMIT = 1000
# Values of these exact types print as their repr in short(), and are digested as a tag and
# exact bytes: float.hex keeps -0.0 apart from 0.0; ints skip str(), limited to 4300 digits.
PLAIN: dict[type, tuple[bytes, Callable[[Any], bytes]]] = {
    bool: (b"b", lambda value: b"1" if value else b"0"),
    int: (b"i", lambda value: value.to_bytes(value.bit_length() // 8 + 1, "little", signed=True)),
    float: (b"f", lambda value: value.hex().encode()),
    complex: (b"c", lambda value: f"{value.real.hex()},{value.imag.hex()}".encode()),
    str: (b"u", lambda value: value.encode("utf-8", "surrogatepass")),
    bytes: (b"y", bytes),
    type(None): (b"N", lambda value: b""),
}
_SIZED = frozenset({str, bytes, bytearray, list, tuple, dict, set, frozenset})
_NAMES: dict[object, str] = {}


def describe(value: object) -> Description:
    """kind, shape, dtype, device, length: cheap, read from the value without computing."""
    if type(value) in _SIZED:  # common exact types first: no ABC check, no module lookup
        return type(value).__name__, None, None, None, len(value)  # type: ignore[arg-type]
    if type(value) in PLAIN:
        return ("None" if value is None else type(value).__name__), None, None, None, None
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return "tensor", tuple(value.shape), _name(value.dtype), _name(value.device), None
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, (numpy.ndarray, numpy.generic)):
        kind = "ndarray" if isinstance(value, numpy.ndarray) else "scalar"
        return kind, tuple(value.shape), _name(value.dtype), None, None
    sized = isinstance(value, (*_SIZED, Mapping))
    length = len(value) if sized else None  # type: ignore[arg-type]
    return type(value).__name__, None, None, None, length


def _name(thing: object) -> str:
    """``str()`` of a dtype or device, remembered: a numpy dtype's takes 2.5 us each time."""
    name = _NAMES.get(thing)
    if name is None:
        name = str(thing).removeprefix("torch.")
        if len(_NAMES) < 1024:  # dtypes and devices are few; odd structured ones are not kept
            _NAMES[thing] = name
    return name


def head(kind: str, shape: tuple[int, ...] | None, dtype: str | None, length: int | None) -> str:
    """The start of a value's line: ``tensor float32[8, 3]``, ``list[4]``, ``int``."""
    if kind == "scalar":
        return str(dtype)
    if shape is not None:
        return f"{kind} {dtype}[{', '.join(map(str, shape))}]"
    return kind if length is None else f"{kind}[{length}]"


def items_text(value: object, budget: int) -> str | None:
    """A container's items, elided to fit ``budget``; None for a value that is no container."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [field.name for field in dataclasses.fields(value)]
        return _bracket((f"{n}={_inline(getattr(value, n))}" for n in names), "()", budget)
    if isinstance(value, Mapping):
        pairs = (f"{_inline(key)}: {_inline(item)}" for key, item in value.items())
        return _bracket(pairs, "{}", budget)
    if not isinstance(value, list | tuple | set | frozenset):
        return None
    first = list(itertools.islice(value, SCAN_LIMIT))
    heads = {_head_of(item) for item in first}
    if len(heads) == 1 and type(first[0]) not in PLAIN:
        return f"of {heads.pop()}" + (f" (first {SCAN_LIMIT})" if len(value) > SCAN_LIMIT else "")
    return _bracket(
        map(_inline, value), "{}" if isinstance(value, set | frozenset) else "[]", budget
    )


def _bracket(parts: Iterable[str], brackets: str, budget: int) -> str:
    """``[a, b, ...]``: as many parts as fit in ``budget`` characters, then an ellipsis."""
    text = brackets[0]
    for index, part in enumerate(parts):
        piece = part if index == 0 else f", {part}"
        if len(text) + len(piece) + 6 > budget:  # room left for ", ..." and the bracket
            return f"{text}{', ...' if index else '...'}{brackets[1]}"
        text += piece
    return text + brackets[1]


def _inline(value: object) -> str:
    """An item inside a container: plain values as their repr, others by their head."""
    if type(value) in PLAIN:
        return clip(repr(value), 40)
    return _head_of(value)


def _head_of(value: object) -> str:
    kind, shape, dtype, _, length = describe(value)
    return head(kind, shape, dtype, length)


def clip(text: str, limit: int = SHORT_LIMIT) -> str:
    """``text`` on one line, cut to ``limit`` characters with ``...`` when longer."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def safe_repr(value: object) -> str:
    """``repr(value)``, or a placeholder naming the type when its ``__repr__`` fails."""
    try:
        return repr(value)
    except Exception as error:  # a broken __repr__ is the user's, not a reason to fail
        return f"<{qualname(value)}: repr failed: {type(error).__name__}>"


def qualname(value: object) -> str:
    """The module and qualified name of ``value``'s type."""
    return f"{type(value).__module__}.{type(value).__qualname__}"
