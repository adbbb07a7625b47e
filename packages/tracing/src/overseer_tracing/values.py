"""What a value looks like: a stable fingerprint and a small, lazy summary.

:func:`fingerprint` digests a value's content (blake2b, 16 bytes, hex): it changes with the
order of items, the dtype and the shape, and is the same in every process (no salted
``hash()``) and for the same data in numpy, torch on the CPU and torch on a GPU.
:func:`summarise` says what a value is (kind, shape, dtype, device, length) at once and
leaves the costly parts (statistics, fingerprint) to the first caller who asks.

numpy and torch are never imported here: a value can only be an array of a library that is
already loaded, so ``sys.modules`` tells which ones to look for. The digest is made in
:mod:`._fingerprint`, the statistics in :mod:`._statistics`, the description and the line
of text in :mod:`._description`.
"""

from __future__ import annotations

from typing import Any

# Summary looks these up in this module's namespace (statistics and fingerprint under the
# names they always had here): what replaces them here, in a test say, is what it calls.
from ._description import PLAIN, SHORT_LIMIT, clip, head, items_text, safe_repr
from ._description import describe as _describe
from ._fingerprint import fingerprint
from ._statistics import STAT_NAMES, StatValue
from ._statistics import array_stats as _array_stats
from ._statistics import tensor_version as _tensor_version

__all__ = ["StatValue", "Summary", "fingerprint", "summarise"]

# Exact types whose description cannot change after the call: summarise() defers it.
_IMMUTABLE = frozenset({bool, int, float, complex, str, bytes, tuple, type(None)})
_DESCRIBED = ("kind", "shape", "dtype", "device", "length")
# Equal ints, or equal short strings, look the same in every way: one summary serves them
# all (a trace of a long run holds fewer objects, and prints each once). Capped, then reset.
SHARED_LIMIT = 1024
_shared: dict[object, Summary] = {}
_new_summary = object.__new__


def summarise(value: object) -> Summary:
    """Describe ``value`` cheaply now; statistics and fingerprint wait for the first use.

    Never raises: what cannot be described is summarised by its type name.

    Examples:
        >>> summarise([1, 2, 3]).short()
        'list[3] [1, 2, 3]'
    """
    kind = type(value)
    if kind is int or kind is str:  # only these are shared: True or 1.0 never find 1's
        summary = _shared.get(value)
        if summary is not None:
            return summary
    if kind in _IMMUTABLE:  # described on first use: the value cannot change
        shareable = kind is int or (kind is str and len(value) <= 64)  # type: ignore[arg-type]
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
            self._shorts[stats] = clip(text)
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
        start = head(self.kind, self.shape, self.dtype, self.length)
        if not self._has_value:
            return start
        value = self._value
        if self.shape is not None:
            return " ".join(filter(None, [start, self.device, self._numbers(stats)]))
        if type(value) in PLAIN:
            return start if value is None else f"{start} {value!r}"
        items = items_text(value, SHORT_LIMIT - len(start) - 1)
        if items is None:
            return safe_repr(value)
        return f"{start}{'' if items.startswith('(') else ' '}{items}"  # Point(x=1), list[1] [1]

    def _numbers(self, stats: bool) -> str:
        if not stats:
            return ""
        if self.shape == ():
            return repr(self._value.item())  # type: ignore[attr-defined]
        numbers = self.stats()
        words = [
            f"{key}={_number(numbers[key])}" for key in STAT_NAMES if numbers.get(key) is not None
        ]
        words += [f"{key}={numbers[key]}" for key in ("nan", "inf") if numbers.get(key)]
        return " ".join(words + ["changed-after-call"] * bool(numbers.get("changed")))


def _number(number: StatValue) -> str:
    return "none" if number is None else f"{number:.4g}"
