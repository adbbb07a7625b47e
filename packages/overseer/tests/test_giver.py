"""``give``: free without an overseer, giving-compatible with one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from overseer import giver
from overseer.giver import give, set_delivery


@pytest.fixture
def received() -> Any:
    got: list[dict[str, Any]] = []
    previous = set_delivery(got.append)
    yield got
    set_delivery(previous)


def test_without_an_overseer_give_returns_its_single_argument() -> None:
    assert giver._deliver is None
    assert give(5) == 5
    assert give(x=1) is None
    assert give(1, 2) is None


def test_keywords_are_delivered_as_one_dict(received: list[dict[str, Any]]) -> None:
    give(loss=0.5, step=3)
    assert received == [{"loss": 0.5, "step": 3}]


def test_positional_arguments_are_named_after_their_expressions(
    received: list[dict[str, Any]],
) -> None:
    loss, step = 0.25, 7
    # Not inside an assert: on Python 3.10, varname cannot find a call that pytest rewrote.
    give(loss)
    give(loss, step)
    # As in giving, the value given on the right of an assignment is named after its target.
    returned = give(loss)
    assert returned == 0.25
    assert received == [{"loss": 0.25}, {"loss": 0.25, "step": 7}, {"returned": 0.25}]


def test_inherit_adds_keys_inside_the_block(received: list[dict[str, Any]]) -> None:
    with give.inherit(task="train"):
        give(loss=1.0)
    give(loss=2.0)
    assert received == [{"task": "train", "loss": 1.0}, {"loss": 2.0}]


def test_wrap_marks_the_beginning_and_end_of_a_block(received: list[dict[str, Any]]) -> None:
    with give.wrap("step", batch=4) as extra:
        give(loss=1.0)
        extra["done"] = True
    begin, inside, end = received
    assert begin["$wrap"]["step"] == "begin"
    assert end["$wrap"] == {**begin["$wrap"], "step": "end"}
    assert begin["batch"] == end["batch"] == 4
    assert inside == {"loss": 1.0}
    assert end["done"] is True


def test_wrap_inherit(received: list[dict[str, Any]]) -> None:
    with give.wrap_inherit("W", a=1):
        give(b=2)
    assert [r.get("a") for r in received] == [1, 1, 1]
    assert received[1] == {"a": 1, "b": 2}


def test_a_spawned_worker_of_an_overseen_process_warns_once(tmp_path: Path) -> None:
    program = tmp_path / "spawned.py"
    program.write_text("import multiprocessing\nfrom overseer import give\ngive(a=1)\ngive(b=2)\n")
    env = {**os.environ, "OVERSEER_RUN_PID": "1"}
    done = subprocess.run(
        [sys.executable, str(program)], env=env, capture_output=True, text=True, check=True
    )
    assert done.stderr.count("is dropped") == 1
    assert "spawn" in done.stderr
