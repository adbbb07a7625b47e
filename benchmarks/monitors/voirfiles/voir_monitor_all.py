"""voir's ``monitor_all`` every ``$BENCH_INTERVAL`` seconds, its records written to the data fd.

voir gives them to ``ov.given`` only; writing them to the stream, as the overseer's monitors
do, makes both sides pay for the same work.
"""

import os
from collections.abc import Iterator
from typing import Any

from voir.instruments import monitor_all

KEYS = {"gpudata", "cpudata", "iodata", "netdata"}


def instrument_monitors(ov: Any) -> Iterator[Any]:
    yield ov.phases.init
    ov.require(monitor_all(poll_interval=float(os.environ.get("BENCH_INTERVAL", "1"))))
    ov.given.filter(lambda values: not KEYS.isdisjoint(values)) >> ov.log
