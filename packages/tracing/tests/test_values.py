"""What a value looks like: fingerprints that tell data apart and summaries that stay short."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from overseer_tracing import values
from overseer_tracing.values import Summary, fingerprint, summarise


@pytest.fixture
def np() -> Any:
    """numpy, or a skip: the package's own test environments may lack it."""
    return pytest.importorskip("numpy")


@dataclass
class Point:
    x: int
    y: object


class BrokenRepr:
    def __repr__(self) -> str:
        message = "no repr today"
        raise ValueError(message)


# ------------------------------------------------------------------------------ fingerprint


def test_fingerprint_is_a_32_digit_hex_digest() -> None:
    digest = fingerprint([1, "a"])
    assert len(digest) == 32
    int(digest, 16)


def test_the_same_content_gives_the_same_fingerprint() -> None:
    assert fingerprint([1, {"a": (2.5, None)}]) == fingerprint([1, {"a": (2.5, None)}])


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ([0, 1, 1, 0], [0, 0, 0, 0]),  # an XOR reduction makes these equal
        ([0, 1, 1, 0], [1, 0, 0, 1]),
        ([1, 2, 3], [3, 2, 1]),
        (["ab"], ["a", "b"]),
        (["au", "b"], ["a", "ub"]),  # items are delimited, not just tagged and concatenated
        ("ab", b"ab"),
        ([1, 2], (1, 2)),
        (1, 1.0),
        (1, True),
        (0.0, -0.0),
        (1, "1"),
        (None, "None"),
        ([], {}),
        ({"a": 1}, {"a": 2}),
        ({"a": 1}, {"b": 1}),
        ({1, 2}, {1, 3}),
        ([[1, 2], [3]], [[1], [2, 3]]),
        (Point(1, [2]), Point(1, [3])),
        (Point(1, 2), (1, 2)),
    ],
)
def test_different_content_gives_different_fingerprints(first: object, second: object) -> None:
    assert fingerprint(first) != fingerprint(second)


def test_dicts_and_sets_do_not_depend_on_insertion_order() -> None:
    assert fingerprint({"a": 1, "b": [2]}) == fingerprint({"b": [2], "a": 1})
    assert fingerprint({"x", "y", "z"}) == fingerprint({"z", "y", "x"})


def test_strings_are_digested_as_utf8_text() -> None:
    assert fingerprint("é") != fingerprint("e")
    assert fingerprint("\ud800") != fingerprint("")  # a lone surrogate still digests


def test_huge_ints_digest_without_the_str_conversion_limit() -> None:
    assert fingerprint(10**5000) != fingerprint(10**5000 + 1)


def test_a_container_inside_itself_digests_without_recursing_forever() -> None:
    loop: list[object] = [1]
    loop.append(loop)
    assert fingerprint(loop) == fingerprint(loop)
    assert fingerprint(loop) != fingerprint([1, [1]])


def test_other_objects_digest_by_type_and_repr_without_their_address() -> None:
    class Plain:
        pass

    assert fingerprint(Plain()) == fingerprint(Plain())
    assert fingerprint(Plain()) != fingerprint(object())


def test_a_value_whose_repr_raises_still_gets_a_stable_fingerprint() -> None:
    assert fingerprint(BrokenRepr()) == fingerprint(BrokenRepr())
    assert fingerprint([BrokenRepr()]) != fingerprint([object()])


def test_a_nesting_too_deep_for_recursion_still_gets_a_fingerprint() -> None:
    deep: list[object] = []
    for _ in range(sys.getrecursionlimit() * 2):
        deep = [deep]
    assert len(fingerprint(deep)) == 32


PROBE = """
import json, sys
from overseer_tracing.values import fingerprint
values = [
    "a string", {"key": "value", "other": [1, 2.5, None]}, {"x", "y", "z"},
    ("tuple", b"bytes"), {frozenset({"a", "b"}): "frozen keys"},
]
print(json.dumps([fingerprint(value) for value in values]))
"""


def test_fingerprints_are_equal_across_processes_with_different_hash_seeds() -> None:
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
        )
        outputs.append(json.loads(done.stdout))
    # The seeds do change Python's own hash of a string, so the check has teeth.
    hashes = [
        subprocess.run(
            [sys.executable, "-c", "print(hash('a string'))"],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]
    assert hashes[0] != hashes[1]
    assert outputs[0] == outputs[1]


def test_digesting_plain_values_imports_neither_numpy_nor_torch() -> None:
    code = (
        "import sys\nfrom overseer_tracing.values import fingerprint, summarise\n"
        "fingerprint([1, 'a', {'b': 2.0}]); summarise([1, 'a']).to_json()\n"
        "print(sorted({'numpy', 'torch'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# ----------------------------------------------------------------------- arrays and tensors


def test_a_permuted_batch_changes_the_fingerprint(np: Any) -> None:
    batch = np.arange(24, dtype=np.float32).reshape(4, 6)
    assert fingerprint(batch) != fingerprint(batch[[1, 0, 2, 3]])
    assert fingerprint(np.array([0, 1, 1, 0])) != fingerprint(np.zeros(4, dtype=np.int64))
    assert fingerprint(np.array([0, 1, 1, 0])) != fingerprint(np.array([1, 0, 0, 1]))


def test_array_fingerprints_follow_dtype_and_shape(np: Any) -> None:
    prints = {
        fingerprint(np.zeros(6, dtype=np.float32)),
        fingerprint(np.zeros(6, dtype=np.float64)),
        fingerprint(np.zeros(6, dtype=np.int32)),
        fingerprint(np.zeros((2, 3), dtype=np.float32)),
        fingerprint(np.zeros((3, 2), dtype=np.float32)),
        fingerprint([0.0] * 6),
    }
    assert len(prints) == 6


def test_array_fingerprints_follow_values_not_memory_layout(np: Any) -> None:
    data = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert fingerprint(data.T) == fingerprint(np.ascontiguousarray(data.T))
    assert fingerprint(data.astype(">i4")) == fingerprint(data)  # byte order is no content
    assert fingerprint(np.float32(1.5)) == fingerprint(np.array(1.5, dtype=np.float32))


def test_object_arrays_digest_their_items_not_their_pointers(np: Any) -> None:
    first = np.array(["a" * 3, [1]], dtype=object)
    second = np.array(["".join(["a", "a", "a"]), [1]], dtype=object)
    assert fingerprint(first) == fingerprint(second)
    assert fingerprint(first) != fingerprint(np.array(["aaa", [2]], dtype=object))


@pytest.mark.torch
def test_numpy_and_torch_cpu_give_the_same_fingerprint(np: Any) -> None:
    torch = pytest.importorskip("torch")
    for dtype in ("float32", "float16", "int64", "uint8", "bool", "complex64"):
        data = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
        assert fingerprint(torch.from_numpy(data)) == fingerprint(data), dtype
    transposed = torch.arange(12.0).reshape(3, 4).t()  # not contiguous
    assert fingerprint(transposed) == fingerprint(np.arange(12.0, dtype=np.float32).reshape(3, 4).T)
    assert fingerprint(torch.tensor(2.0)) == fingerprint(np.array(2.0, dtype=np.float32))


@pytest.mark.torch
def test_tensor_fingerprints_ignore_autograd_and_keep_dtype() -> None:
    torch = pytest.importorskip("torch")
    weights = torch.ones(3, requires_grad=True)
    assert fingerprint(weights * 1) == fingerprint(torch.ones(3))
    assert fingerprint(torch.ones(3, dtype=torch.bfloat16)) != fingerprint(torch.ones(3))
    assert fingerprint(torch.zeros(2, device="meta")) == fingerprint(torch.zeros(2, device="meta"))


# -------------------------------------------------------------------------------- summarise


def test_summaries_say_what_plain_values_are() -> None:
    assert summarise(3).short() == "int 3"
    assert summarise(None).short() == "None"
    assert summarise("hi\nthere").short() == "str[8] 'hi\\nthere'"
    assert summarise({"a": 1, "b": [1, 2]}).short() == "dict[2] {'a': 1, 'b': list[2]}"
    assert summarise(Point(1, "y")).short() == "Point(x=1, y='y')"
    described = summarise([1, 2])
    assert (described.kind, described.length, described.shape, described.dtype) == (
        "list",
        2,
        None,
        None,
    )


@pytest.mark.parametrize(
    "value",
    [
        list(range(512)),
        [f"item {index}\nsecond line" for index in range(512)],
        [[index] * 3 for index in range(512)],
        {f"key {index}": index for index in range(512)},
        [1, "a", None] * 200,
        "x" * 5000,
    ],
)
def test_short_stays_one_line_of_at_most_100_characters(value: object) -> None:
    text = summarise(value).short()
    assert "\n" not in text
    assert len(text) <= 100
    assert "..." in text or " of " in text  # elided, or all items described at once


def test_a_512_item_list_of_arrays_prints_as_one_elided_line(np: Any) -> None:
    text = summarise([np.zeros(3, dtype=np.float32)] * 512).short()
    assert text == "list[512] of ndarray float32[3]"


def test_a_value_whose_repr_raises_still_summarises() -> None:
    summary = summarise(BrokenRepr())
    assert summary.kind == "BrokenRepr"
    assert "repr failed: ValueError" in summary.short()
    assert json.loads(json.dumps(summary.to_json()))["kind"] == "BrokenRepr"
    assert "BrokenRepr" in summarise([BrokenRepr()]).short()


def test_a_value_whose_len_raises_still_summarises() -> None:
    class BadList(list[int]):
        def __len__(self) -> int:
            message = "no length"
            raise RuntimeError(message)

    summary = summarise(BadList([1]))
    assert summary.kind == "BadList"
    assert summary.length is None
    assert "\n" not in summary.short()


def test_an_array_summary_has_its_shape_dtype_and_statistics(np: Any) -> None:
    summary = summarise(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32))
    assert (summary.kind, summary.shape, summary.dtype, summary.device) == (
        "ndarray",
        (2, 2),
        "float32",
        None,
    )
    assert summary.stats() == {
        "min": 1,
        "max": 4,
        "mean": 2.5,
        "std": 1.25**0.5,
        "nan": 0,
        "inf": 0,
    }
    assert summary.short() == "ndarray float32[2, 2] min=1 max=4 mean=2.5 std=1.118"
    assert summary.short(stats=False) == "ndarray float32[2, 2]"


def test_nan_and_inf_are_counted_and_left_out_of_the_statistics(np: Any) -> None:
    summary = summarise(np.array([1.0, np.nan, np.inf, -np.inf, 3.0]))
    stats = summary.stats()
    assert (stats["nan"], stats["inf"], stats["min"], stats["max"], stats["mean"]) == (
        1,
        2,
        1,
        3,
        2,
    )
    assert summary.short().endswith("nan=1 inf=2")
    only_nan = summarise(np.array([np.nan, np.nan])).stats()
    assert (only_nan["nan"], only_nan["min"], only_nan["mean"]) == (2, None, None)
    json.dumps(summary.to_json(), allow_nan=False)


def test_statistics_are_computed_once_and_only_when_asked(
    np: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = values._array_stats

    def counting(value: object) -> dict[str, values.StatValue]:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(values, "_array_stats", counting)
    summary = summarise(np.arange(10.0))
    summary.short(stats=False)
    assert calls == []
    first = summary.stats()
    summary.stats()
    summary.short()
    summary.to_json()
    assert len(calls) == 1
    first["min"] = 99.0  # the caller's copy: the summary keeps its own
    assert summary.stats()["min"] == 0


def test_the_fingerprint_of_a_summary_is_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = values.fingerprint

    def counting(value: object) -> str:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(values, "fingerprint", counting)
    summary = summarise([1, 2])
    assert calls == []
    assert summary.fingerprint == summary.fingerprint == real([1, 2])
    assert len(calls) == 1


@pytest.mark.torch
def test_a_tensor_summary_has_its_device_and_statistics() -> None:
    torch = pytest.importorskip("torch")
    summary = summarise(torch.tensor([[1.0, float("nan")], [3.0, float("inf")]]))
    assert (summary.kind, summary.shape, summary.dtype, summary.device) == (
        "tensor",
        (2, 2),
        "float32",
        "cpu",
    )
    assert summary.short() == "tensor float32[2, 2] cpu min=1 max=3 mean=2 std=1 nan=1 inf=1"
    assert summarise(torch.tensor(0.5)).short() == "tensor float32[] cpu 0.5"
    assert summarise(torch.tensor([1, 2, 3])).stats()["mean"] == 2
    assert summarise(torch.tensor([1j])).stats() == {}


@pytest.mark.torch
def test_a_tensor_changed_in_place_after_the_call_says_so() -> None:
    torch = pytest.importorskip("torch")
    batch = torch.zeros(3)
    summary = summarise(batch)
    batch.add_(1)
    assert summary.stats()["changed"] is True
    assert "changed-after-call" in summary.short()
    assert "changed" not in summarise(batch).stats()


# ------------------------------------------------------------------------ copy and pickle


@pytest.mark.parametrize("copier", [pickle.dumps, copy.deepcopy, copy.copy])
def test_summaries_pickle_and_copy_with_what_they_knew(np: Any, copier: Any) -> None:
    original = summarise({"batch": np.arange(4.0), "name": "x"})
    array = summarise(np.arange(4.0))
    for summary in (original, array):
        copied = copier(summary)
        if isinstance(copied, bytes):
            copied = pickle.loads(copied)
        assert isinstance(copied, Summary)
        assert copied.to_json() == summary.to_json()
        assert copied.short(stats=False) == summary.short(stats=False)
        assert "_value" not in vars(copied) or copied._value is None


def test_a_summary_of_an_unpicklable_value_still_pickles() -> None:
    summary = summarise([lambda: None, BrokenRepr()])
    restored = pickle.loads(pickle.dumps(summary))
    assert restored.fingerprint == summary.fingerprint
    assert restored.short() == summary.short()
    assert "Summary" in repr(restored)


@pytest.mark.parametrize("value", [3, 2.5, "hi", b"raw", (1, [2]), None, True])
def test_a_summary_of_an_unchangeable_value_copies_with_its_description(value: object) -> None:
    summary = summarise(value)
    restored = pickle.loads(pickle.dumps(summary))
    described = (summary.kind, summary.shape, summary.dtype, summary.device, summary.length)
    assert (restored.kind, restored.shape, restored.dtype, restored.device, restored.length) == (
        described
    )
    assert restored.short() == summary.short()
    assert not hasattr(summary, "colour")


def test_a_container_changed_after_the_call_keeps_its_length_at_the_call() -> None:
    batch = [1, 2]
    summary = summarise(batch)
    batch.append(3)
    assert summary.length == 2
