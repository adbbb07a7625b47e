"""How traces print: short whatever their size, the same calls in text, rich and HTML."""

from __future__ import annotations

import io
import time

import pytest

from overseer_tracing.record import Recorder, TraceResult
from overseer_tracing.render import LINE_WIDTH, MAX_LINES, format_duration, render_text


def build(calls: int, stages: int = 3, cap: int | None = 10_000) -> TraceResult:
    recorder = Recorder(max_calls_per_stage=cap)
    for i in range(calls):
        stage = ("dataset_getter", "collate", "evaluation", "mine")[i % stages]
        token = recorder.begin(stage, "Pipeline.step", "step", {"i": i, "batch": [i, i + 1]})
        recorder.end(token, result=i)
    return recorder.result()


def best_time(action: object, repeat: int = 5) -> float:
    """The least CPU time ``action`` took in this thread, out of ``repeat`` runs.

    What the machine gives to other processes meanwhile is not counted: load does not
    stretch it.
    """
    assert callable(action)
    times = []
    for _ in range(repeat):
        start = time.thread_time()
        action()
        times.append(time.thread_time() - start)
    return min(times)


def test_a_10000_call_trace_prints_short_with_its_dropped_count() -> None:
    result = build(10_000, cap=1_000)
    text = str(result)
    assert len(text.splitlines()) < MAX_LINES
    assert "TraceResult: 10,000 calls in 3 stages, 7,000 dropped" in text
    assert "(2,333 dropped by the cap)" in text
    assert "calls not shown" in text
    assert "to_chrome_trace" in text
    assert max(len(line) for line in text.splitlines()) <= LINE_WIDTH + 10  # + indentation


def test_printing_does_not_grow_with_the_trace() -> None:
    small, large = build(30), build(10_000, cap=None)
    assert len(str(large).splitlines()) < MAX_LINES
    ratio = best_time(lambda: str(large)) / best_time(lambda: str(small))
    # 333 times the calls: a print that formatted each would take hundreds of times as long;
    # one that formats a bounded number stays within a few times (about 7 here), in CPU time,
    # which the machine's load does not stretch.
    assert ratio < 30, f"printing 10,000 calls took {ratio:.1f} times as long as 30"


def test_many_stages_still_print_under_the_limit() -> None:
    recorder = Recorder()
    for i in range(300):
        recorder.end(recorder.begin(f"stage_{i}", "f", "f", {"x": i}), result=i)
    text = str(recorder.result())
    assert len(text.splitlines()) < MAX_LINES
    assert "260 more stages not shown" in text


def test_a_small_trace_prints_every_call_with_its_values() -> None:
    text = str(build(6))
    for i in range(6):
        assert f"i: int {i}" in text
        assert f"-> int {i}" in text
    assert "not shown" not in text


def test_the_first_failed_call_is_shown_even_deep_in_a_large_stage() -> None:
    recorder = Recorder()
    for i in range(500):
        token = recorder.begin("collate", "collate_fn", "collate_fn", {"i": i})
        recorder.end(token, error=ValueError("odd batch") if i == 250 else None)
    text = str(recorder.result())
    assert "[250] collate_fn" in text
    assert "ERROR ValueError: odd batch" in text
    assert "1 not ok" in text


def test_a_call_prints_on_one_line_in_repr_and_a_few_lines_in_str() -> None:
    recorder = Recorder()
    params = {f"p{i}": i for i in range(10)}
    outer = recorder.begin("evaluation", "Model.forward", "forward", params)
    recorder.end(recorder.begin("custom", "Block.run", "block", {"x": "a\nb"}), result=1)
    recorder.end(outer, result=2.5)
    trace = recorder.result()
    one = repr(trace.evaluation[0])
    assert "\n" not in one
    assert "evaluation/forward(p0=int 0" in one
    assert "-> float 2.5" in one
    lines = str(trace.evaluation[0]).splitlines()
    assert lines[0].startswith("[0] forward (Model.forward)")
    assert "  ... 4 more arguments" in lines
    assert lines[-1] == "  -> float 2.5"
    assert "in [0]" in repr(trace.custom[0])  # the parent call


def test_a_stage_prints_alone() -> None:
    text = str(build(40, stages=1).dataset_getter)
    assert text.startswith("dataset_getter: 40 calls")
    assert "[0] step (Pipeline.step)" in text
    assert "[39] step" in text


def test_html_shows_the_same_calls_escaped_in_foldable_stages() -> None:
    recorder = Recorder()
    recorder.end(recorder.begin("collate", "f.<locals>.<lambda>", "<lambda>", {"s": "<b>"}))
    page = recorder.result()._repr_html_()
    assert page.count("<details") == 1
    assert "collate: 1 call" in page
    assert "&lt;lambda&gt;" in page
    assert "<lambda>" not in page
    assert "<b>" not in page


def test_rich_prints_the_same_rows_in_colour() -> None:
    pytest.importorskip("rich")
    from rich.console import Console

    console = Console(file=io.StringIO(), record=True, width=200, color_system="truecolor")
    result = build(10_000, cap=1_000)
    console.print(result)
    text = console.export_text(clear=False)
    assert text.rstrip("\n") == render_text(result)
    assert "\x1b[" in console.export_text(styles=True)


@pytest.mark.parametrize(
    ("ns", "text"),
    [(812, "812 ns"), (12_345, "12.3 us"), (4_560_000, "4.56 ms"), (2_000_000_000, "2 s")],
)
def test_durations_read_in_the_best_unit(ns: int, text: str) -> None:
    assert format_duration(ns) == text
