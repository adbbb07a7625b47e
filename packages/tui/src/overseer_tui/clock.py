"""Where the monitor reads the time, so that tests can hold it still.

Code that needs "now" takes a :class:`Clock`; the app passes a :class:`SystemClock`, tests
and snapshots a :class:`FakeClock` they move by hand::

    clock = FakeClock(start=100.0)
    clock.advance(2.5)
    assert clock.now() == 102.5
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the time."""

    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    """The real time: :func:`time.time`."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()


class FakeClock:
    """A clock that moves only when told to, for deterministic tests.

    Args:
        start: The time it shows first, in seconds since the epoch (default: early 2027,
            a round number that makes dates in snapshots stable).
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        """The time set by ``start`` and every :meth:`advance` since."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self._now += seconds
