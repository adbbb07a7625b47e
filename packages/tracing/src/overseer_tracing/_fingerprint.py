"""A value's content digested: blake2b, 16 bytes, stable across processes and libraries.

Each part of a value goes into the digest as a self-delimiting record (a tag, a length, the
bytes), so that nesting and order count. Arrays and tensors go in as dtype, shape and raw
bytes: the same data in numpy, torch on the CPU and torch on a GPU give the same digest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import sys
from collections.abc import Mapping
from typing import Any

from ._description import PLAIN, qualname, safe_repr

# Default reprs hold a memory address, which differs per process: a fingerprint drops it.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


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
        _put(digest, b"!", f"{qualname(value)}|{type(error).__name__}".encode())
    return digest.hexdigest()


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
    plain = PLAIN.get(type(value))
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
    name = qualname(value)
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
        _put(digest, b"r", f"{name}|{_ADDRESS.sub('', safe_repr(value))}".encode())


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
