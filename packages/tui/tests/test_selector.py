"""Run selectors: every form, how several combine, and the one-line errors."""

from __future__ import annotations

import pytest

from overseer_tui.errors import SelectorError, TuiError
from overseer_tui.model import Run, RunStatus
from overseer_tui.selector import parse_selectors, select


def make_runs() -> list[Run]:
    specs = [
        ("1dcfb3d6ca05", "modest-badger", {"lr": 0.0003, "size": 3}, 30.0, RunStatus.COMPLETED),
        ("4cf2e0e9e3a1", "dapper-heron", {"lr": 0.001, "size": 4}, 10.0, RunStatus.FAILED),
        ("5459e125e466", "cool-badger", {"lr": 0.003, "size": 5}, 20.0, RunStatus.RUNNING),
        ("7f00e8e59d7b", "solid-nectar", {"lr": 0.001, "amp": True}, 40.0, RunStatus.RUNNING),
    ]
    runs = []
    for sig, name, args, created, status in specs:
        run = Run(sig, name, args=args, config={**args, "optim": {"name": "adam"}}, created=created)
        run.status = status
        runs.append(run)
    return runs


def names(*texts: str) -> list[str]:
    return [run.name for run in select(make_runs(), parse_selectors(texts))]


def test_no_selector_keeps_every_run_in_order() -> None:
    assert names() == ["modest-badger", "dapper-heron", "cool-badger", "solid-nectar"]


def test_minus_n_picks_the_nth_latest_by_creation() -> None:
    assert names("-1") == ["solid-nectar"]
    assert names("-2") == ["modest-badger"]
    assert names("-9") == []


def test_a_sig_a_sig_prefix_or_a_name_picks_one_run() -> None:
    assert names("4cf2e0e9e3a1") == ["dapper-heron"]
    assert names("5459") == ["cool-badger"]
    assert names("modest-badger") == ["modest-badger"]
    assert names("no-such-run") == []


def test_a_glob_matches_names_and_sigs() -> None:
    assert names("*badger") == ["modest-badger", "cool-badger"]
    assert names("7f00*") == ["solid-nectar"]
    assert names("d?pper-*") == ["dapper-heron"]


def test_filters_compare_numbers_as_numbers() -> None:
    assert names("lr=3e-4") == ["modest-badger"]
    assert names("lr>0.001") == ["cool-badger"]
    assert names("lr<0.001") == ["modest-badger"]
    assert names("size>=4") == ["dapper-heron", "cool-badger"]
    assert names("size!=3") == ["dapper-heron", "cool-badger", "solid-nectar"]


def test_filters_on_status_name_config_and_flags() -> None:
    assert names("status=running") == ["cool-badger", "solid-nectar"]
    assert names("status!=RUNNING") == ["modest-badger", "dapper-heron"]
    assert names("name=cool-badger") == ["cool-badger"]
    assert names("optim.name=adam") == names()
    assert names("amp=true") == ["solid-nectar"]


def test_picks_are_ored_and_filters_anded_on_top() -> None:
    assert names("-1", "*badger") == ["modest-badger", "cool-badger", "solid-nectar"]
    assert names("-1", "*badger", "lr>=0.001") == ["cool-badger", "solid-nectar"]
    assert names("lr=0.001", "status=failed") == ["dapper-heron"]


def test_a_string_alone_counts_as_one_selector() -> None:
    assert [s.kind for s in parse_selectors("-1")] == ["latest"]


@pytest.mark.parametrize("text", ["", "   ", "lr=", "=3", "-0", "-x", "two words", "a/b"])
def test_bad_selectors_say_so_in_one_line_with_the_forms(text: str) -> None:
    with pytest.raises(SelectorError) as caught:
        parse_selectors(["-1", text])
    message = str(caught.value)
    assert isinstance(caught.value, TuiError)
    assert "\n" not in message
    assert repr(text) in message
    assert "-1" in message
    assert "key=value" in message
    assert "glob" in message
