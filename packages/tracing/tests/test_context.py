"""A trace run: what it records, what it limits, and that it leaves nothing behind."""

from __future__ import annotations

import asyncio
import threading
import warnings
from typing import Any

import pytest

from overseer_tracing.context import TraceContext, TraceWarning, trace_verb_data
from overseer_tracing.decorators import trace_dataset_func, trace_func
from overseer_tracing.record import TraceResult, current_recorder, get_trace
from overseer_tracing.shims import shim_class


@trace_func(stage_name="collate")
def square(x: int) -> int:
    return x * x


def values(result: TraceResult | None, stage: str = "collate") -> list[str]:
    assert result is not None
    return [call.params["x"].short() for call in result[stage]]


@pytest.mark.parametrize("trace", [None, False, 0])
def test_a_false_trace_records_nothing_and_installs_nothing(trace: Any) -> None:
    class Model:
        def forward(self) -> None:
            pass

    with TraceContext(trace, shims=[(Model, "forward", "evaluation")]) as context:
        assert current_recorder() is None
        assert vars(Model)["forward"].__name__ == "forward"
        assert not hasattr(vars(Model)["forward"], "__overseer_trace__")
    assert context.result is None


def test_the_result_is_the_block_s_calls_and_config_sets_the_recorder_up() -> None:
    config = {"max_calls_per_stage": 2, "ring": True, "epochs": 10}  # epochs: not ours
    with TraceContext(config=config) as context:
        assert context.recorder is current_recorder() is not None
        for x in range(5):
            square(x)
    assert values(context.result) == ["int 3", "int 4"]
    assert context.result is not None
    assert context.result.collate.dropped == 3
    assert context.recorder is None


def test_config_first_only_keeps_the_first_calls_of_each_stage() -> None:
    # What `suite trace -n 2` and `overseer --trace 2` run the script in.
    with TraceContext(2, {"max_calls_per_stage": 2, "first_only": True}) as context:
        for x in range(5):
            square(x)
    assert values(context.result) == ["int 0", "int 1"]
    assert context.result is not None
    assert context.result.collate.dropped == 3


def test_nested_contexts_stack() -> None:
    with TraceContext() as outer:
        square(1)
        with TraceContext() as inner:
            square(2)
        square(3)
    assert values(outer.result) == ["int 1", "int 3"]
    assert values(inner.result) == ["int 2"]
    assert values(get_trace()) == ["int 1", "int 3"]


def test_a_failure_while_entering_undoes_what_was_done() -> None:
    class Model:
        def forward(self) -> None:
            pass

    before = dict(vars(Model))
    shims = [(Model, "forward", "evaluation"), (Model, "missing", "evaluation")]
    with pytest.raises(AttributeError, match="missing"), TraceContext(shims=shims):
        pass
    assert dict(vars(Model)) == before
    assert current_recorder() is None


def test_tasks_started_inside_record_and_other_threads_only_when_asked() -> None:
    def in_thread() -> None:
        square(4)

    async def in_task() -> None:
        await asyncio.create_task(asyncio.sleep(0))
        square(5)

    with TraceContext() as context:
        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join()
        asyncio.run(in_task())
        asyncio.run(asyncio.to_thread(square, 6))  # to_thread carries the context along
    assert values(context.result) == ["int 5", "int 6"]
    with TraceContext(config={"all_threads": True}) as everyone:
        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join()
    assert values(everyone.result) == ["int 4"]


def test_trace_verb_data_runs_n_items_and_returns_the_trace() -> None:
    seen: list[int | None] = []

    @trace_verb_data(n_default=3)
    def infer(items: list[int], trace_limit: int | None = None) -> list[int]:
        seen.append(trace_limit)
        return [square(x) for x in items[:trace_limit]]

    items = list(range(10))
    assert infer(items) == [x * x for x in items]
    result = infer(items, trace=2)
    assert isinstance(result, TraceResult)
    assert values(result) == ["int 0", "int 1"]
    assert values(infer(items, trace=True)) == ["int 0", "int 1", "int 2"]
    assert infer(items, trace=0) == [x * x for x in items]
    assert seen == [None, 2, 3, None]
    with pytest.raises(ValueError, match=r"trace=-1: give a number of items"):
        infer(items, trace=-1)
    with pytest.raises(ValueError, match="n_default=0"):
        trace_verb_data(n_default=0)


def test_trace_verb_data_bare_keeps_the_partial_trace_of_a_failed_run() -> None:
    class Model:
        def forward(self, x: int) -> int:
            if x == 2:
                raise ValueError("bad item")
            return x

    @trace_verb_data
    def run(items: list[int]) -> None:
        shim_class(Model, "forward", "evaluation")
        for x in items:
            Model().forward(x)

    before = dict(vars(Model))
    with pytest.raises(ValueError, match="bad item"):
        run([1, 2, 3], trace=5)
    assert dict(vars(Model)) == before
    partial = get_trace()
    assert partial is not None
    assert [call.status for call in partial.evaluation] == ["ok", "error"]


def loader(workers: int, batch_size: int = 2) -> Any:
    torch = pytest.importorskip("torch")

    class Squares(torch.utils.data.Dataset[Any]):
        def __len__(self) -> int:
            return 10

        @trace_dataset_func
        def __getitem__(self, index: int) -> Any:
            return torch.tensor([float(index)])

    collate = trace_func(torch.utils.data.default_collate, stage_name="collate")
    return torch.utils.data.DataLoader(
        Squares(), batch_size=batch_size, num_workers=workers, collate_fn=collate
    )


@pytest.mark.torch
def test_a_dataloader_with_workers_runs_in_process_with_one_warning() -> None:
    torch = pytest.importorskip("torch")
    data = loader(workers=2)
    before = dict(vars(torch.utils.data.DataLoader))

    def iterate_twice() -> TraceContext:
        with TraceContext() as context:
            assert sum(len(batch) for batch in data) == 10
            assert len(list(data)) == 5
        return context

    with pytest.warns(TraceWarning, match="num_workers=2 runs with num_workers=0") as caught:
        context = iterate_twice()
    assert len(caught) == 1
    assert caught[0].filename == __file__  # points at the loop over the loader
    assert context.result is not None
    assert len(context.result.dataset_getter) == 20  # recorded here: no worker process
    assert len(context.result.collate) == 10
    assert data.num_workers == 2
    assert dict(vars(torch.utils.data.DataLoader)) == before


@pytest.mark.torch
def test_a_trace_of_n_items_stops_a_dataloader_after_whole_batches() -> None:
    data = loader(workers=0, batch_size=2)

    @trace_verb_data
    def evaluate() -> int:
        return sum(len(batch) for batch in data)

    assert evaluate() == 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no worker: no warning
        result = evaluate(trace=3)
    assert isinstance(result, TraceResult)
    assert len(result.collate) == 2
    assert len(result.dataset_getter) == 4
    assert len(list(data)) == 5  # untouched after the trace
