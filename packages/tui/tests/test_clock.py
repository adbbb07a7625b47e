"""The clocks: the system one follows time.time, the fake one moves only when told."""

from __future__ import annotations

import time

from overseer_tui.clock import Clock, FakeClock, SystemClock


def test_fake_clock_moves_only_when_advanced() -> None:
    clock = FakeClock(start=100.0)
    assert clock.now() == 100.0
    assert clock.now() == 100.0
    clock.advance(2.5)
    clock.advance(0.5)
    assert clock.now() == 103.0


def test_fake_clock_starts_at_a_fixed_date() -> None:
    assert FakeClock().now() == 1_800_000_000.0


def test_system_clock_tells_the_real_time() -> None:
    clocks: list[Clock] = [SystemClock(), FakeClock()]  # both satisfy the protocol
    before = time.time()
    now = clocks[0].now()
    assert before <= now <= time.time()
