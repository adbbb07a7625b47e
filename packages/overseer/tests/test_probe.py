"""Probes on real functions: every selector form, uninstalling, and every error a user can hit.

The functions probed live in ``tests/programs/probe_subjects.py``, imported as the module
``probe_subjects`` so that ``/probe_subjects/f`` selectors find them.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import timeit
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from overseer.errors import ProbeError, SelectorSyntaxError
from overseer.probe import ProbeSet, ProbeStream, check_syntax

PROGRAMS = Path(__file__).parent / "programs"

# ptera itself uses ast names that Python 3.12+ deprecates; ProbeSet hides that, ptera does not.
PTERA_WARNINGS = pytest.mark.filterwarnings(r"ignore:ast\.\w+ is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def subjects() -> Iterator[ModuleType]:
    """The module ``probe_subjects``, importable by name while the tests run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(PROGRAMS))
        yield importlib.import_module("probe_subjects")


@pytest.fixture
def probes() -> Iterator[ProbeSet]:
    """An active probe set, closed after the test."""
    with ProbeSet() as probe_set:
        yield probe_set


def probe_error(selector: str, **options: Any) -> str:
    """The message of the ProbeError that probing ``selector`` raises."""
    with ProbeSet() as probe_set, pytest.raises(ProbeError) as caught:
        probe_set.probe(selector, **options)
    message = str(caught.value)
    assert selector in message
    assert "\n" not in message
    return message


def write_module(tmp_path: Path, name: str, source: str) -> ModuleType:
    """Import ``source`` as module ``name`` from a real file (for syntax newer than 3.10)."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------- selector forms


def test_a_variable_is_given_at_each_assignment(subjects: ModuleType, probes: ProbeSet) -> None:
    stream = probes.probe("/probe_subjects/loop > x")
    values = stream.accum()
    assert subjects.loop(3) == 3
    assert values == [{"x": 0}, {"x": 2}, {"x": 4}]
    assert isinstance(stream, ProbeStream)
    assert stream.direct is True


def test_item_and_subscribe_work_as_in_giving(subjects: ModuleType, probes: ProbeSet) -> None:
    seen: list[int] = []
    probes.probe("/probe_subjects/loop > x")["x"].subscribe(seen.append)
    doubled = probes.probe("/probe_subjects/loop > x")["x"].map(lambda x: x * 10).accum()
    subjects.loop(3)
    assert seen == [0, 2, 4]
    assert doubled == [0, 20, 40]


def test_a_plain_name_is_found_where_the_probe_is_made(subjects: ModuleType) -> None:
    outer = subjects.outer
    with ProbeSet() as probe_set:
        values = probe_set.probe("outer > t")["t"].accum()
        outer(2)
    assert values == [7]


def test_nested_selector_fires_only_inside_the_outer_call(
    subjects: ModuleType, probes: ProbeSet
) -> None:
    stream = probes.probe("/probe_subjects/outer(n) > /probe_subjects/inner > x")
    values = stream.accum()
    subjects.inner(5)
    subjects.outer(2)
    assert values == [{"n": 2, "x": 6}]
    assert stream.direct is False


def test_captures_renames_and_loop_ends(subjects: ModuleType, probes: ProbeSet) -> None:
    steps = probes.probe("/probe_subjects/train(inp as batch) > #endloop_inp as step").accum()
    starts = probes.probe("/probe_subjects/train > #loop_inp")["#loop_inp"].accum()
    losses = probes.probe("/probe_subjects/train(loader) > loss as value").accum()
    subjects.train([2, 4])
    assert steps == [{"batch": 2, "step": True}, {"batch": 4, "step": True}]
    assert starts == [True, True]
    assert losses == [{"loader": [2, 4], "value": 1.0}, {"loader": [2, 4], "value": 2.0}]


def test_focus_marks_and_return_value(subjects: ModuleType, probes: ProbeSet) -> None:
    arguments = probes.probe("/probe_subjects/outer(!n)").accum()
    returned = probes.probe("/probe_subjects/outer(n) > #value").accum()
    subjects.outer(1)
    assert arguments == [{"n": 1}]
    assert returned == [{"n": 1, "#value": 4}]


def test_wrapper_probes_give_begin_and_end(subjects: ModuleType, probes: ProbeSet) -> None:
    calls = probes.probe("/probe_subjects/outer(!#enter, !!#exit)").accum()
    around = probes.probe("/probe_subjects/outer(!n, !!t)").accum()
    subjects.outer(1)
    assert [entry["$wrap"]["step"] for entry in calls] == ["begin", "end"]
    assert calls[0]["$wrap"]["id"] == calls[1]["$wrap"]["id"]
    assert calls[0]["$wrap"]["name"] == "#enter"
    assert [(entry.get("t"), entry["$wrap"]["step"]) for entry in around] == [
        (None, "begin"),
        (4, "end"),
    ]


def test_generators_are_probed(subjects: ModuleType, probes: ProbeSet) -> None:
    yielded = probes.probe("/probe_subjects/countdown > #yield")["#yield"].accum()
    counts = probes.probe("/probe_subjects/countdown > n")["n"].accum()
    assert list(subjects.countdown(3)) == [3, 2, 1]
    assert yielded == [3, 2, 1]
    assert counts == [3, 2, 1, 0]


def test_methods_are_probed_by_class_path(subjects: ModuleType, probes: ProbeSet) -> None:
    outs = probes.probe("/probe_subjects/Model/forward > out")["out"].accum()
    assert subjects.Model().forward(1) == 2
    assert outs == [2]


def test_raw_gives_ptera_captures(subjects: ModuleType, probes: ProbeSet) -> None:
    captures = probes.probe("/probe_subjects/loop > x", raw=True)["x"].accum()
    subjects.loop(2)
    assert [(capture.name, capture.value) for capture in captures] == [("x", 0), ("x", 2)]


@PTERA_WARNINGS
def test_the_direct_path_gives_what_ptera_gives(subjects: ModuleType) -> None:
    from ptera import probing

    with ProbeSet() as probe_set:
        direct = probe_set.probe("/probe_subjects/twin_direct > x as y").accum()
        subjects.twin_direct(3)
    with probing("/probe_subjects/twin_ptera > x as y") as probe:
        reference = probe.accum()
        subjects.twin_ptera(3)
    assert direct == reference == [{"y": 0}, {"y": 3}, {"y": 6}]


def test_direct_and_ptera_probes_share_a_function(subjects: ModuleType, probes: ProbeSet) -> None:
    plain = probes.probe("/probe_subjects/both > x")["x"].accum()
    paired = probes.probe("/probe_subjects/both(n) > x").accum()
    subjects.both(2)
    assert plain == [100, 101]
    assert paired == [{"n": 2, "x": 100}, {"n": 2, "x": 101}]


def test_double_slash_names_a_function_of_the_script() -> None:
    done = subprocess.run(
        [sys.executable, str(PROGRAMS / "probe_script.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result = json.loads(done.stdout)
    assert result["losses"] == [1.0, 0.5, 1 / 3]
    assert result["ends"] == [{"epochs": 3, "done": True}] * 3
    assert "'//train_epock > loss'" in result["error"]
    assert "did you mean train_epoch?" in result["error"]


# ---------------------------------------------------------------------------- lifecycle


def test_close_restores_the_function(subjects: ModuleType) -> None:
    function = subjects.restored
    code, expected = function.__code__, function(4)
    probe_set = ProbeSet()
    totals = probe_set.probe("/probe_subjects/restored > total")["total"].accum()
    paired = probe_set.probe("/probe_subjects/restored(n) > total").accum()
    largest = probe_set.probe("/probe_subjects/restored > total")["total"].max().accum()
    probe_set.activate()
    assert function.__code__ is not code
    assert function(4) == expected
    probe_set.close()
    assert function.__code__ is code
    assert not hasattr(function, "__ptera_stack__")
    assert function(4) == expected
    assert totals == [0, 0, 1, 3, 6]
    assert len(paired) == 5
    assert largest == [6]


def test_probes_made_before_activation_install_at_activation(subjects: ModuleType) -> None:
    probe_set = ProbeSet()
    values = probe_set.probe("/probe_subjects/noisy > x")["x"].accum()
    subjects.noisy(2)
    assert values == []
    with probe_set:
        subjects.noisy(2)
    subjects.noisy(2)
    assert values == [0, 1]
    with pytest.raises(ProbeError, match="closed"):
        probe_set.probe("/probe_subjects/noisy > x")


def test_a_bad_probe_made_before_activation_is_reported_there(subjects: ModuleType) -> None:
    reported: list[tuple[str, str]] = []
    probe_set = ProbeSet(on_error=lambda selector, error: reported.append((selector, str(error))))
    probe_set.probe("/json/nosuchfunc > s")
    values = probe_set.probe("/probe_subjects/noisy > x")["x"].accum()
    with probe_set:
        subjects.noisy(1)
    assert values == [0]
    assert [selector for selector, _ in reported] == ["/json/nosuchfunc > s"]
    strict = ProbeSet()
    strict.probe("/json/nosuchfunc > s")
    with pytest.raises(ProbeError, match="nosuchfunc"):
        strict.activate()
    strict.close()


def test_a_failing_subscriber_is_detached_and_reported(subjects: ModuleType) -> None:
    reported: list[str] = []

    def boom(value: Any) -> None:
        raise RuntimeError("subscriber bug")

    with ProbeSet(on_error=lambda selector, error: reported.append(str(error))) as probe_set:
        probe_set.probe("/probe_subjects/noisy > x").subscribe(boom)
        assert subjects.noisy(3) == 3
    assert reported == ["subscriber bug"]
    with ProbeSet() as probe_set:
        probe_set.probe("/probe_subjects/noisy > x").subscribe(boom)
        with pytest.raises(RuntimeError, match="subscriber bug"):
            subjects.noisy(3)


def test_probes_fire_in_the_context_that_activated_them(subjects: ModuleType) -> None:
    with ProbeSet() as probe_set:
        values = probe_set.probe("/probe_subjects/threaded > x")["x"].accum()
        worker = threading.Thread(target=subjects.threaded, args=(1,))
        worker.start()
        worker.join()
        subjects.threaded(2)
    assert values == [2]


@PTERA_WARNINGS
def test_the_direct_path_is_much_cheaper_than_ptera(subjects: ModuleType) -> None:
    from ptera import probing

    def cost(function: Callable[[int], int]) -> float:
        # CPU time of this thread: what a loaded machine gives to other processes meanwhile
        # would otherwise land on whichever of the two happened to be timed then.
        timed = timeit.repeat(lambda: function(20_000), number=1, repeat=5, timer=time.thread_time)
        return statistics.median(timed)

    base = cost(subjects.hot)
    with ProbeSet() as probe_set:
        probe_set.probe("/probe_subjects/hot > x").subscribe(lambda data: None)
        direct = cost(subjects.hot) - base
    with probing("/probe_subjects/hot_ptera > x") as probe:
        probe.subscribe(lambda data: None)
        interpreted = cost(subjects.hot_ptera) - base
    assert interpreted > 3 * direct


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("selector", "column", "reason"),
    [
        ("train > ", 6, "'>' must be followed by a name"),
        ("train(loss", 5, "'(' is never closed"),
        ("train > loss)", 12, "')' closes nothing"),
        ("> loss", 0, "'>' must follow a name"),
        ("train loss", 6, "two names in a row"),
        ("train ; loss", 6, "unexpected character ';'"),
        ("", 0, "the selector is empty"),
    ],
)
def test_a_selector_that_does_not_parse_points_at_the_column(
    selector: str, column: int, reason: str
) -> None:
    with pytest.raises(SelectorSyntaxError) as caught:
        ProbeSet().probe(selector)
    assert caught.value.column == column
    first, text, pointer = str(caught.value).splitlines()
    assert f"{selector!r} at column {column}: {reason}" in first
    assert text == f"    {selector}"
    assert pointer == " " * (4 + column) + "^"
    check_syntax("train(inp as batch) > #endloop_inp as step")


def test_missing_modules_and_functions_are_named(subjects: ModuleType) -> None:
    assert "cannot import module 'nosuchmod'" in probe_error("/nosuchmod/f > x")
    assert "module 'json' has no 'nosuchfunc'" in probe_error("/json/nosuchfunc > x")
    assert "did you mean loop?" in probe_error("/probe_subjects/lopo > x")
    assert "'undefined_name' is not defined where the probe was made" in probe_error(
        "undefined_name > x"
    )


def test_a_missing_variable_lists_the_real_ones(subjects: ModuleType) -> None:
    message = probe_error("/probe_subjects/loop > nosuchvar")
    assert message.endswith("loop has no variable 'nosuchvar'; its variables are: i, n, x")


def test_functions_without_python_source_are_refused(subjects: ModuleType) -> None:
    assert "built-in written in C" in probe_error("/math/sqrt > x")
    assert "built-in written in C" in probe_error("/builtins/len > x")
    assert "source is not available" in probe_error("/probe_subjects/dynamic > x")
    assert "is a class" in probe_error("/probe_subjects/Model > x")


@pytest.mark.parametrize(
    ("selector", "reason"),
    [
        ("/probe_subjects/fetch > a", "async function"),
        ("/probe_subjects/classify > u", "bound by a `case` pattern"),
        ("/probe_subjects/recover > fallback", "inside an `except` block"),
        ("/probe_subjects/opened > handle", "`with ... as`"),
        ("/probe_subjects/nested > r", "nested function 'helper'"),
        ("/probe_subjects/no_return > #value", "has no return statement"),
        ("/probe_subjects/loop > #loop_x", "no for loop over 'x' (its loops are over: i)"),
        ("/probe_subjects/unpacks > rest", "unpacks with *"),
        ("/probe_subjects/where_walrus > w", "set by := inside the value of an assignment"),
        ("/probe_subjects/outer(!!t)", "needs a ! focus"),
        ("!!outer", "names no function"),
    ],
)
def test_what_ptera_cannot_probe_is_an_error(
    subjects: ModuleType, selector: str, reason: str
) -> None:
    assert reason in probe_error(selector)


@pytest.mark.parametrize("variable", ["y", "k", "s", "g"])
def test_comprehension_variables_are_an_error(subjects: ModuleType, variable: str) -> None:
    message = probe_error(f"/probe_subjects/squares > {variable}")
    assert f"{variable!r} in squares (line" in message
    assert "is a comprehension variable" in message


def test_the_error_leaves_the_function_untouched(subjects: ModuleType) -> None:
    code = subjects.classify.__code__
    probe_error("/probe_subjects/classify > u")
    assert subjects.classify.__code__ is code
    assert subjects.classify((1, 2)) == "pair"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="except* is Python 3.11+ syntax")
def test_except_star_variables_are_an_error(tmp_path: Path) -> None:
    module = write_module(
        tmp_path,
        "probe_except_star",
        """
        def grouped():
            try:
                raise ExceptionGroup("several", [ValueError(1), ValueError(2)])
            except* ValueError as group:
                count = len(group.exceptions)
            return count
        """,
    )
    try:
        assert "inside an `except*` block" in probe_error("/probe_except_star/grouped > count")
        assert module.grouped() == 2
    finally:
        del sys.modules["probe_except_star"]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="def f[T] is Python 3.12+ syntax")
def test_generic_functions_are_an_error(tmp_path: Path) -> None:
    module = write_module(
        tmp_path,
        "probe_generic",
        """
        def first[T](items: list[T]) -> T:
            head = items[0]
            return head
        """,
    )
    try:
        assert "type parameters" in probe_error("/probe_generic/first > head")
        assert module.first([5]) == 5
    finally:
        del sys.modules["probe_generic"]


# ---------------------------------------------------------------------------- under the overseer


def test_probe_values_reach_the_overseer_stream(run_overseer: Callable[..., Any]) -> None:
    finished = run_overseer("--log-given", "probe_train.py", env={"VOIRFILE": "probe_voirfile.py"})
    assert finished.returncode == 0, finished.stderr
    assert finished.data("x") == [0, 2, 4]


def test_double_slash_probes_the_script_under_the_overseer(
    run_overseer: Callable[..., Any],
) -> None:
    finished = run_overseer("--log-given", "probe_train.py", env={"VOIRFILE": "probe_voirfile.py"})
    assert finished.events("instrument_error") == []
    assert finished.data("loss") == [1.0, 0.5]


@pytest.mark.torch
def test_a_probe_after_torch_is_imported_prints_no_warning_of_torch_s(
    run_overseer: Callable[..., Any], workdir: Path
) -> None:
    pytest.importorskip("torch")
    (workdir / "torch_train.py").write_text(
        "import torch\n\n"
        "def train(n):\n"
        "    for i in range(n):\n"
        "        loss = float(torch.tensor(1.0) / (i + 1))\n\n"
        "train(2)\n"
    )
    (workdir / "torch_voirfile.py").write_text(
        "def instrument_probe(ov):\n"
        "    yield ov.phases.load_script\n"
        "    ov.probe('//train > loss').give()\n"
    )
    # Importing torch takes seconds, many more on a loaded machine: the timeout bounds a hang.
    finished = run_overseer(
        "--log-given", "torch_train.py", env={"VOIRFILE": "torch_voirfile.py"}, timeout=300
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.data("loss") == [1.0, 0.5]
    # torch may warn at its own import (no numpy); what the probe read must not warn.
    assert "reduce_op" not in finished.stderr
    assert "FutureWarning" not in finished.stderr
