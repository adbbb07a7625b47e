"""What a value looks like: a stable fingerprint and a small, lazy summary.

:func:`fingerprint` digests a value's content (blake2b, 16 bytes, hex): it changes with the
order of items, the dtype and the shape, and is the same in every process (no salted
``hash()``) and for the same data in numpy, torch on the CPU and torch on a GPU.
:func:`summarise` says what a value is (kind, shape, dtype, device, length) at once and
leaves the costly parts (statistics, fingerprint) to the first caller who asks.

numpy and torch are never imported here: a value can only be an array of a library that is
already loaded, so ``sys.modules`` tells which ones to look for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["StatValue", "Summary", "fingerprint", "summarise"]

#: One statistic: a number, a count, None where undefined (min of nothing), or a flag.
StatValue = float | int | bool | str | None
_Description = tuple[str, tuple[int, ...] | None, str | None, str | None, int | None]

# short() fits one line of a terminal; containers look at this many items to call them uniform.
SHORT_LIMIT = 100
SCAN_LIMIT = 1000
_STAT_NAMES = ("min", "max", "mean", "std")
# Values of these exact types print as their repr in short(), and are digested as a tag and
# exact bytes: float.hex keeps -0.0 apart from 0.0; ints skip str(), limited to 4300 digits.
_PLAIN: dict[type, tuple[bytes, Callable[[Any], bytes]]] = {
    bool: (b"b", lambda value: b"1" if value else b"0"),
    int: (b"i", lambda value: value.to_bytes(value.bit_length() // 8 + 1, "little", signed=True)),
    float: (b"f", lambda value: value.hex().encode()),
    complex: (b"c", lambda value: f"{value.real.hex()},{value.imag.hex()}".encode()),
    str: (b"u", lambda value: value.encode("utf-8", "surrogatepass")),
    bytes: (b"y", bytes),
    type(None): (b"N", lambda value: b""),
}
_SIZED = frozenset({str, bytes, bytearray, list, tuple, dict, set, frozenset})
# Exact types whose description cannot change after the call: summarise() defers it.
_IMMUTABLE = frozenset({bool, int, float, complex, str, bytes, tuple, type(None)})
_DESCRIBED = ("kind", "shape", "dtype", "device", "length")
# Equal ints, or equal short strings, look the same in every way: one summary serves them
# all (a trace of a long run holds fewer objects, and prints each once). Capped, then reset.
SHARED_LIMIT = 1024
_shared: dict[object, Summary] = {}
_NAMES: dict[object, str] = {}
# Default reprs hold a memory address, which differs per process: a fingerprint drops it.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_new_summary = object.__new__


def fingerprint(value: object) -> str:
    """Digest ``value``'s content: equal data, equal digest, in any process.

    Arrays and tensors count their dtype, shape and bytes (numpy and torch alike); lists and
    tuples their items in order; dicts and sets their items whatever their order; dataclasses
    their fields; anything else its type and repr (memory addresses left out).

    Examples:
        >>> fingerprint([0, 1, 1, 0]) == fingerprint([1, 0, 0, 1])
        False
    """
    digest = hashlib.blake2b(digest_size=16)
    try:
        _feed(digest, value, set())
    except Exception as error:  # a value too deep or too strange still gets a stable digest
        digest = hashlib.blake2b(digest_size=16)
        _put(digest, b"!", f"{_qualname(value)}|{type(error).__name__}".encode())
    return digest.hexdigest()


def summarise(value: object) -> Summary:
    """Describe ``value`` cheaply now; statistics and fingerprint wait for the first use.

    Never raises: what cannot be described is summarised by its type name.

    Examples:
        >>> summarise([1, 2, 3]).short()
        'list[3] [1, 2, 3]'
    """
    if type(value) in _IMMUTABLE:  # described on first use: the value cannot change
        shareable = type(value) is int or (type(value) is str and len(value) <= 64)
        if shareable:
            summary = _shared.get(value)
            if summary is not None:
                return summary
        summary = _new_summary(Summary)
        summary._value = value
        if shareable:
            if len(_shared) >= SHARED_LIMIT:
                _shared.clear()
            _shared[value] = summary
        return summary
    try:
        return Summary(value, *_describe(value))
    except Exception:  # a broken __len__ or shape must not break the caller
        return Summary(value, type(value).__name__)


class Summary:
    """What a value looked like: its kind, shape, dtype, device and length, and lazily its
    statistics and fingerprint.

    The summary keeps a reference to the value; a pickled or copied summary holds instead
    the statistics, fingerprint and short text, computed then. Both come from the value as
    it is when first asked for: a tensor changed in place since it was summarised gets
    ``"changed": True`` in its statistics. Kind, shape, dtype, device and length are read
    when the summary is made, except for values that cannot change (numbers, strings,
    bytes, tuples, None), described on first use.

    Attributes:
        kind: ``"tensor"``, ``"ndarray"``, ``"scalar"`` (numpy), or the type's name
            (``"list"``, ``"dict"``, ``"str"``, ``"int"``, ``"None"``, a class name...).
        shape: The shape of an array or tensor, else None.
        dtype: The dtype's name without ``torch.`` (``"float32"``), else None.
        device: A tensor's device (``"cpu"``, ``"cuda:0"``), else None.
        length: ``len()`` of a str, bytes, list, tuple, set or mapping, else None.
    """

    kind: str
    shape: tuple[int, ...] | None
    dtype: str | None
    device: str | None
    length: int | None
    # Class-level defaults: a summary sets only what differs, so that making one is cheap.
    _has_value = True
    _version: int | None = None
    _stats: dict[str, StatValue] | None = None
    _fingerprint: str | None = None
    _shorts: dict[bool, str] | None = None

    def __init__(
        self,
        value: object,
        kind: str,
        shape: tuple[int, ...] | None = None,
        dtype: str | None = None,
        device: str | None = None,
        length: int | None = None,
    ) -> None:
        self._value: object = value
        self.kind = kind
        self.shape = shape
        self.dtype = dtype
        self.device = device
        self.length = length
        if kind == "tensor":
            self._version = _tensor_version(value)

    def __getattr__(self, name: str) -> Any:
        # Only for a summary of an unchangeable value, made without describing it.
        if name not in _DESCRIBED or "_value" not in vars(self):
            raise AttributeError(name)
        described = dict(zip(_DESCRIBED, _describe(self._value), strict=True))
        self.__dict__.update(described)
        return described[name]

    def stats(self) -> dict[str, StatValue]:
        """``min``, ``max``, ``mean``, ``std`` (of finite items; population std), ``nan``
        and ``inf`` counts for numeric arrays and tensors, computed once; else ``{}``."""
        if self._stats is None:
            self._stats = {}
            if self._has_value and self.shape is not None:
                self._stats = _array_stats(self._value)
                if self._version is not None and _tensor_version(self._value) != self._version:
                    self._stats["changed"] = True
        return dict(self._stats)

    @property
    def fingerprint(self) -> str:
        """The value's :func:`fingerprint`, computed once."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self._value)
        return self._fingerprint

    def short(self, *, stats: bool = True) -> str:
        """One line of at most 100 characters, e.g. ``tensor float32[32, 3] cpu min=0 ...``.

        Args:
            stats: Include statistics (computing them if needed); False keeps it cheap.
        """
        if self._shorts is None:
            self._shorts = {}
        if stats not in self._shorts:
            try:
                text = self._render(stats)
            except Exception as error:  # printing a trace must survive any value
                text = f"{self.kind} <unprintable: {type(error).__name__}>"
            self._shorts[stats] = _clip(text)
        return self._shorts[stats]

    def to_json(self) -> dict[str, Any]:
        """Everything known, JSON-safe (no NaN: statistics count them instead)."""
        return {
            "kind": self.kind,
            "shape": None if self.shape is None else list(self.shape),
            "dtype": self.dtype,
            "device": self.device,
            "length": self.length,
            "stats": self.stats(),
            "fingerprint": self.fingerprint,
            "short": self.short(),
        }

    def __repr__(self) -> str:
        return f"<Summary {self.short(stats=False)}>"

    def __getstate__(self) -> dict[str, Any]:
        # A copy outlives the value (a GPU tensor, an open file): it takes what was computed.
        self.kind  # noqa: B018 (describes a value left undescribed so far)
        self.stats()
        self.short()
        self.short(stats=False)
        state = {**self.__dict__, "_value": None, "_has_value": False}
        state["_fingerprint"] = self.fingerprint
        return state

    def _render(self, stats: bool) -> str:
        head = _head(self.kind, self.shape, self.dtype, self.length)
        if not self._has_value:
            return head
        value = self._value
        if self.shape is not None:
            return " ".join(filter(None, [head, self.device, self._numbers(stats)]))
        if type(value) in _PLAIN:
            return head if value is None else f"{head} {value!r}"
        items = _items_text(value, SHORT_LIMIT - len(head) - 1)
        if items is None:
            return _repr(value)
        return f"{head}{'' if items.startswith('(') else ' '}{items}"  # Point(x=1), list[1] [1]

    def _numbers(self, stats: bool) -> str:
        if not stats:
            return ""
        if self.shape == ():
            return repr(self._value.item())  # type: ignore[attr-defined]
        numbers = self.stats()
        words = [
            f"{key}={_number(numbers[key])}" for key in _STAT_NAMES if numbers.get(key) is not None
        ]
        words += [f"{key}={numbers[key]}" for key in ("nan", "inf") if numbers.get(key)]
        return " ".join(words + ["changed-after-call"] * bool(numbers.get("changed")))


def _describe(value: object) -> _Description:
    """kind, shape, dtype, device, length: cheap, read from the value without computing."""
    if type(value) in _SIZED:  # common exact types first: no ABC check, no module lookup
        return type(value).__name__, None, None, None, len(value)  # type: ignore[arg-type]
    if type(value) in _PLAIN:
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


def _head(kind: str, shape: tuple[int, ...] | None, dtype: str | None, length: int | None) -> str:
    if kind == "scalar":
        return str(dtype)
    if shape is not None:
        return f"{kind} {dtype}[{', '.join(map(str, shape))}]"
    return kind if length is None else f"{kind}[{length}]"


def _items_text(value: object, budget: int) -> str | None:
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
    if len(heads) == 1 and type(first[0]) not in _PLAIN:
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
    if type(value) in _PLAIN:
        return _clip(repr(value), 40)
    return _head_of(value)


def _head_of(value: object) -> str:
    kind, shape, dtype, _, length = _describe(value)
    return _head(kind, shape, dtype, length)


def _clip(text: str, limit: int = SHORT_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _repr(value: object) -> str:
    try:
        return repr(value)
    except Exception as error:  # a broken __repr__ is the user's, not a reason to fail
        return f"<{_qualname(value)}: repr failed: {type(error).__name__}>"


def _number(number: StatValue) -> str:
    return "none" if number is None else f"{number:.4g}"


def _qualname(value: object) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}"


def _tensor_version(tensor: Any) -> int | None:
    """A tensor's count of in-place changes."""
    try:
        return int(tensor._version)
    except Exception:  # inference-mode tensors keep no counter
        return None


def _array_stats(value: Any) -> dict[str, StatValue]:
    """Statistics of a numeric array or tensor over its finite items; ``{}`` otherwise."""
    try:
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor):
            return _tensor_stats(torch, value.detach())
        return _ndarray_stats(sys.modules["numpy"], sys.modules["numpy"].asarray(value))
    except Exception as error:  # statistics are a nicety: say why they are missing
        return {"error": f"{type(error).__name__}: {error}"[:200]}


def _tensor_stats(torch: Any, tensor: Any) -> dict[str, StatValue]:
    if tensor.is_complex() or tensor.is_quantized or tensor.is_sparse:
        return {}
    finite_mask = torch.isfinite(tensor)
    nan, non_finite = int(torch.isnan(tensor).sum()), int((~finite_mask).sum())
    finite = tensor[finite_mask].double() if non_finite else tensor.double()
    numbers: list[float | None] = [None] * 4
    if finite.numel():
        together = torch.stack(
            [finite.min(), finite.max(), finite.mean(), finite.std(correction=0)]
        )
        numbers = together.tolist()  # one transfer from the device, not four
    return _stats_dict(numbers, nan, non_finite - nan)


def _ndarray_stats(numpy: Any, array: Any) -> dict[str, StatValue]:
    if array.dtype.kind not in "biuf":
        return {}
    with numpy.errstate(all="ignore"):
        finite_mask = numpy.isfinite(array)
        nan, non_finite = int(numpy.isnan(array).sum()), int(array.size - finite_mask.sum())
        finite = (array[finite_mask] if non_finite else array).astype(numpy.float64)
        numbers: list[float | None] = [None] * 4
        if finite.size:
            numbers = [float(f(finite)) for f in (numpy.min, numpy.max, numpy.mean, numpy.std)]
    return _stats_dict(numbers, nan, non_finite - nan)


def _stats_dict(numbers: list[float | None], nan: int, inf: int) -> dict[str, StatValue]:
    named: dict[str, StatValue] = dict(zip(_STAT_NAMES, numbers, strict=True))
    return {**named, "nan": nan, "inf": inf}


def _put(digest: Any, tag: bytes, payload: bytes) -> None:
    """One self-delimiting record: tag, length, payload (so ``["ab"]`` != ``["a", "b"]``)."""
    digest.update(tag + len(payload).to_bytes(8, "little") + payload)


def _feed(digest: Any, value: object, open_ids: set[int]) -> None:
    """Write ``value`` into ``digest``; ``open_ids`` holds the containers being written."""
    try:
        array = _array_bytes(value)
    except Exception:  # a tensor without data (meta device) falls back to its repr
        array = None
    if array is not None:
        header, flat = array
        _put(digest, b"a", header.encode())
        if getattr(getattr(flat, "dtype", None), "hasobject", False):
            for item in flat.tolist():  # numpy object arrays hold pointers: digest each item
                _feed(digest, item, open_ids)
        else:  # one byte an element: a numpy uint8 array, or bytes where numpy is missing
            digest.update(b"d" + len(flat).to_bytes(8, "little"))
            digest.update(flat)
        return
    plain = _PLAIN.get(type(value))
    if plain is not None:
        _put(digest, plain[0], plain[1](value))
        return
    if id(value) in open_ids:  # a container inside itself: mark the loop, do not follow it
        _put(digest, b"@", b"")
        return
    open_ids.add(id(value))
    try:
        _feed_object(digest, value, open_ids)
    finally:
        open_ids.discard(id(value))


def _feed_object(digest: Any, value: object, open_ids: set[int]) -> None:
    name = _qualname(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        _put(digest, b"D", f"{name}|{len(fields)}".encode())
        for field in fields:
            _put(digest, b"s", field.name.encode())
            _feed(digest, getattr(value, field.name), open_ids)
    elif isinstance(value, Mapping | set | frozenset):
        # Unordered: items go in the order of their keys' fingerprints.
        items = value.items() if isinstance(value, Mapping) else ((item, None) for item in value)
        keyed = sorted(((fingerprint(key), item) for key, item in items), key=lambda p: p[0])
        _put(digest, b"M", f"{name}|{len(keyed)}".encode())
        for key_print, item in keyed:
            _put(digest, b"k", key_print.encode())
            _feed(digest, item, open_ids)
    elif isinstance(value, list | tuple):
        _put(digest, b"L", f"{name}|{len(value)}".encode())
        for item in value:
            _feed(digest, item, open_ids)
    else:
        _put(digest, b"r", f"{name}|{_ADDRESS.sub('', _repr(value))}".encode())


def _array_bytes(value: object) -> tuple[str, Any] | None:
    """``("dtype|shape", flat bytes)`` for a tensor or array, else None.

    The bytes are a numpy array (uint8, or object for object arrays), or ``bytes`` for a
    tensor where numpy is not installed.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous().resolve_conj().resolve_neg()
        header = f"{str(tensor.dtype).removeprefix('torch.')}|{tuple(tensor.shape)}"
        # Raw bytes through a uint8 view: bfloat16 and others numpy lacks work too.
        flat = tensor.reshape(-1).view(torch.uint8)
        try:
            return header, flat.numpy()
        except RuntimeError:  # torch without numpy ("Numpy is not available"): same bytes
            return header, bytes(flat.tolist())
    numpy = sys.modules.get("numpy")
    if numpy is None or not isinstance(value, numpy.ndarray | numpy.generic):
        return None
    array = numpy.asarray(value)
    if not array.dtype.isnative:  # same numbers, same digest, whatever the byte order
        array = array.astype(array.dtype.newbyteorder("="))
    header = f"{array.dtype}|{tuple(array.shape)}"
    flat = numpy.ascontiguousarray(array).reshape(-1)
    return header, flat if array.dtype.hasobject else flat.view(numpy.uint8)
