"""Keep freed memory in the process: batched search frees and reallocates large temporaries.

glibc hands blocks above its mmap threshold back to the system on ``free`` and maps them again
on the next ``malloc``, so a CPU search whose temporaries are a few megabytes pays tens of
thousands of page faults per call (measured here: about half its time). Raising the
thresholds keeps those blocks in the heap. Only the ``rl`` command calls this, for its own
process: a library must not change its host's allocator.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["keep_freed_memory"]

# mallopt parameters, from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; return whether it applied (glibc Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
