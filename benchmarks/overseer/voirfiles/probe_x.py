"""Probe every assignment of ``x`` in the script's function ``f``.

With ``BENCH_CHECK=1`` it counts the probed values instead, and prints the count when the
script is done, so the benchmark can check that the probe really fires.
"""

import os
from collections.abc import Iterator
from typing import Any


def instrument_probe(ov: Any) -> Iterator[Any]:
    yield ov.phases.load_script
    if not os.environ.get("BENCH_CHECK"):
        ov.probe("//f > x").subscribe(lambda values: None)
        return
    seen: list[dict[str, Any]] = []
    ov.probe("//f > x").subscribe(seen.append)
    yield ov.phases.run_script
    print(f"BENCH-SEEN {len(seen)}", flush=True)
