"""The signature rule: canonical values, deltas, exclusions, stability."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from overseer_xpmanager.signature import (
    MISSING,
    SIGNATURE_LENGTH,
    canonical,
    config_delta,
    flatten,
    signature,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1.0),
        (0.5, 0.50),
        ((1, 2), [1, 2.0]),
        (Path("x/y"), "x/y"),
        ({"b": 1, "a": 2}, {"a": 2, "b": 1.0}),
    ],
)
def test_values_that_are_one_value_have_one_canonical_form(a: object, b: object) -> None:
    assert canonical(a) == canonical(b)


def test_bools_stay_bools_and_non_finite_floats_become_strings() -> None:
    assert canonical(True) is True
    assert canonical(1) == 1
    assert canonical(1) is not True
    assert [canonical(float(x)) for x in ("nan", "inf", "-inf")] == ["nan", "inf", "-inf"]


def test_numpy_scalars_are_python_numbers() -> None:
    numpy = pytest.importorskip("numpy")
    assert canonical(numpy.float32(0.5)) == 0.5
    assert canonical(numpy.int64(3)) == 3
    assert type(canonical(numpy.int64(3))) is int


def test_delta_keeps_only_what_differs_from_the_defaults() -> None:
    defaults = {"lr": 0.1, "epochs": 5, "optim": {"name": "sgd", "momentum": 0.9}}
    config = {"lr": 0.1, "epochs": 10.0, "optim": {"name": "adam", "momentum": 0.9}}
    assert config_delta(config, defaults) == {"epochs": 10, "optim.name": "adam"}


def test_naming_a_default_explicitly_changes_nothing() -> None:
    defaults = {"lr": 0.1, "model": "small"}
    assert signature(config_delta({"lr": 0.1, "model": "small"}, defaults)) == signature({})


def test_excluded_keys_are_left_out_by_pattern() -> None:
    defaults = {"num_workers": 2, "data": {"root": "/a", "size": 1}, "lr": 0.1}
    config = {"num_workers": 8, "data": {"root": "/b", "size": 2}, "lr": 0.2}
    delta = config_delta(config, defaults, exclude=["num_workers", "data.root"])
    assert delta == {"data.size": 2, "lr": 0.2}


def test_a_key_removed_from_the_defaults_is_in_the_delta() -> None:
    assert config_delta({"a": 1}, {"a": 1, "b": 2}) == {"b": MISSING}


def test_flatten_makes_dotted_keys_and_keeps_empty_mappings() -> None:
    assert flatten({"a": {"b": {"c": 1}}, "d": {}}) == {"a.b.c": 1, "d": {}}


def test_signature_has_a_fixed_length_and_depends_on_values_not_order() -> None:
    one = signature({"lr": 0.1, "epochs": 10})
    assert len(one) == SIGNATURE_LENGTH
    assert int(one, 16) >= 0
    assert one == signature({"epochs": 10.0, "lr": 0.1})
    assert one != signature({"lr": 0.1, "epochs": 11})


def test_signature_is_the_same_in_processes_with_different_hash_seeds() -> None:
    code = (
        "from overseer_xpmanager.signature import signature; print(signature({'s': 'x', 'n': 1}))"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(result.stdout.strip())
    assert outputs == {signature({"s": "x", "n": 1})}


def test_the_rule_is_pinned() -> None:
    # The rule is a promise: a change here renames every stored XP.
    assert signature({}) == "8b6ccc8a17cc"
    assert signature({"epochs": 10}) == "63e21adfdcc3"
