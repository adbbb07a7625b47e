"""``ov.given``: giving's operators, the common ones run without importing giving."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from overseer.given import Given, LogStream

VALUES: list[Any] = [
    {"x": 1},
    {"x": 2, "y": 0},
    {"y": 3},
    {"x": -4, "z": None},
    "not a dict",
    {"x": 5, "y": 5},
]

# Chains of the operators run natively, each applied to ov.given and to giving's given().
CHAINS: dict[str, Callable[[Any], Any]] = {
    "where key": lambda s: s.where("x"),
    "where absent key": lambda s: s.where("x", "!y"),
    "where value": lambda s: s.where(y=5),
    "where predicate": lambda s: s.where(x=lambda v: v > 0),
    "where none": lambda s: s.where(z=None),
    "filter": lambda s: s.filter(lambda d: isinstance(d, dict) and len(d) == 2),
    "map": lambda s: s.where("x").map(lambda d: d["x"] * 10),
    "map then filter": lambda s: s.where("x").map(lambda d: d["x"]).filter(lambda v: v % 2),
    "then giving's kmap": lambda s: s.where("x").kmap(lambda x: x + 1),
    "then giving's item": lambda s: s.where("y")["y"],
}


def through_giving(chain: Callable[[Any], Any]) -> list[Any]:
    from giving import give, given

    received: list[Any] = []
    with given() as stream:
        chain(stream) >> received
        for value in VALUES:
            if isinstance(value, dict):
                give(**value)
    return received


def through_overseer(chain: Callable[[Any], Any]) -> list[Any]:
    stream = Given()
    received: list[Any] = []
    chain(stream) >> received
    for value in VALUES:
        if isinstance(value, dict):
            stream.push(dict(value))
    stream.complete()
    return received


@pytest.mark.parametrize("name", list(CHAINS))
def test_each_chain_gives_what_giving_gives(name: str) -> None:
    expected = through_giving(CHAINS[name])
    assert expected, "a chain that lets nothing through compares nothing"
    assert through_overseer(CHAINS[name]) == expected


def test_values_that_are_not_dicts_are_filtered_by_where_as_in_giving() -> None:
    stream = Given()
    seen: list[Any] = []
    stream.where("x") >> seen
    stream.push("x")  # type: ignore[arg-type]
    stream.push({"x": 1})
    assert seen == [{"x": 1}]


def test_reductions_emit_when_the_stream_completes() -> None:
    stream = Given()
    best: list[Any] = []
    stream["?loss"].min() >> best
    for loss in (3.0, 1.0, 2.0):
        stream.push({"loss": loss})
    assert best == []
    stream.complete()
    assert best == [1.0]


def test_dispose_ends_a_subscription() -> None:
    stream = Given()
    seen: list[Any] = []
    subscription = stream.where("x").subscribe(seen.append)
    stream.push({"x": 1})
    subscription.dispose()
    stream.push({"x": 2})
    assert seen == [{"x": 1}]


def test_a_raising_subscriber_detaches_its_instrument_only() -> None:
    owner = ["a"]
    errors: list[tuple[str | None, str]] = []
    stream = Given(owner=lambda: owner[0], on_error=lambda who, e: errors.append((who, str(e))))
    of_a: list[Any] = []
    of_b: list[Any] = []
    stream.map(lambda d: 1 / d["x"]).subscribe(lambda v: None)
    stream.subscribe(of_a.append)  # the same instrument: detached with it
    owner[0] = "b"
    stream >> of_b
    stream.push({"x": 0})
    stream.push({"x": 1})
    assert errors == [("a", "division by zero")]
    assert of_a == [{"x": 0}]
    assert of_b == [{"x": 0}, {"x": 1}]


def test_a_stream_piped_into_the_log_writes_and_feeds_its_subscribers() -> None:
    written: list[dict[str, Any]] = []
    log = LogStream(written.append)
    echoed: list[Any] = []
    log.subscribe(echoed.append)
    stream = Given()
    stream.where("loss") >> log
    stream.push({"loss": 1.0})
    stream.push({"acc": 0.5})
    assert written == [{"loss": 1.0}]
    assert echoed == [{"loss": 1.0}]


def test_native_operators_do_not_import_giving() -> None:
    code = (
        "import sys\n"
        "from overseer.given import Given, LogStream\n"
        "stream, out = Given(), []\n"
        "log = LogStream(out.append)\n"
        "stream.where('x', y=1).filter(bool).map(dict).subscribe(print)\n"
        "stream.where('x') >> log\n"
        "stream.push({'x': 1, 'y': 1})\n"
        "assert out == [{'x': 1, 'y': 1}], out\n"
        "print(sorted(m for m in ('giving', 'reactivex') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["{'x': 1, 'y': 1}", "[]"]
