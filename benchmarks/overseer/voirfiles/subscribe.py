"""One listener on everything given, as voir documents it.

With ``BENCH_CHECK=1`` it counts the values that carry ``x`` instead, and prints the count
when the script is done, so the benchmark can check that the gives really arrive.
"""

import os
from collections.abc import Iterator
from typing import Any


def instrument_listen(ov: Any) -> Iterator[Any]:
    yield ov.phases.init
    if not os.environ.get("BENCH_CHECK"):
        ov.given.subscribe(lambda values: None)
        return
    seen: list[dict[str, Any]] = []
    ov.given.where("x").subscribe(seen.append)
    yield ov.phases.run_script
    print(f"BENCH-SEEN {len(seen)}", flush=True)
