"""Synthetic runs: deterministic, varied, and growing only where they are live."""

from __future__ import annotations

from typing import Any

from overseer_tui.clock import FakeClock
from overseer_tui.fake_source import FakeSource
from overseer_tui.model import Run, RunStatus


def snapshot(run: Run) -> dict[str, Any]:
    return {
        "sig": run.sig,
        "name": run.name,
        "args": run.args,
        "status": run.status,
        "created": run.created,
        "progress": run.progress,
        "gpus": run.gpus,
        "log": list(run.log),
        "metrics": {
            name: (series.x_values("wall").tolist(), series.y_values().tolist())
            for name, series in run.metrics.items()
        },
    }


def build(seed: int = 0, **options: Any) -> FakeSource:
    source = FakeSource(6, clock=FakeClock(), seed=seed, gpus=1, **options)
    source.advance(3.5)
    source.advance(2.5, rate=2.0)
    return source


def test_the_same_seed_and_clock_steps_give_identical_runs() -> None:
    first, second = build(), build()
    assert [snapshot(run) for run in first.runs.runs.values()] == [
        snapshot(run) for run in second.runs.runs.values()
    ]
    other = build(seed=1)
    assert [snapshot(run) for run in other.runs.runs.values()] != [
        snapshot(run) for run in first.runs.runs.values()
    ]


def test_runs_have_names_differing_args_and_a_mix_of_statuses() -> None:
    source = FakeSource(6, clock=FakeClock())
    runs = list(source.runs.runs.values())
    assert len({run.sig for run in runs}) == 6
    assert all(
        run.name.count("-") == 2 and run.name.endswith(f"-{i}") for i, run in enumerate(runs)
    )
    assert source.runs.differing_args() == ["batch_size", "lr", "optimizer"]
    statuses = [run.status for run in runs]
    assert statuses[-2:] == [RunStatus.RUNNING, RunStatus.RUNNING]
    assert RunStatus.FAILED in statuses
    assert RunStatus.COMPLETED in statuses
    failed = runs[statuses.index(RunStatus.FAILED)]
    assert failed.error == "RuntimeError: CUDA out of memory"
    assert failed.log[-1].level == "error"


def test_each_run_starts_with_its_points_and_log_lines() -> None:
    source = FakeSource(3, points=120, log_lines=12, clock=FakeClock())
    for run in source.runs.runs.values():
        assert sorted(run.metrics) == ["accuracy", "loss"]
        assert len(run.metrics["loss"]) == 120
        assert 12 <= len(run.log) <= 14
    loss = next(iter(source.runs.runs.values())).metrics["loss"].y_values()
    assert loss[-10:].mean() < loss[:10].mean()  # it learns


def test_advance_moves_the_clock_and_adds_points_to_live_runs_only() -> None:
    clock = FakeClock()
    source = FakeSource(4, points=50, live=1, clock=clock)
    assert source.poll() is True
    assert source.poll() is False
    before = {sig: len(run.metrics["loss"]) for sig, run in source.runs.runs.items()}
    source.runs.take_changes()
    source.advance(10.0)
    assert clock.now() == 1_800_000_010.0
    after = {sig: len(run.metrics["loss"]) for sig, run in source.runs.runs.items()}
    live = [sig for sig, run in source.runs.runs.items() if run.status is RunStatus.RUNNING]
    assert {sig for sig in after if after[sig] != before[sig]} == set(live)
    assert after[live[0]] == before[live[0]] + 10
    assert source.runs.take_changes() == set(live)
    assert source.poll() is True
    assert source.runs.runs[live[0]].metrics["loss"].x_values("wall")[-1] == clock.now()


def test_a_live_run_reports_progress_an_eta_and_gpudata() -> None:
    clock = FakeClock()
    source = FakeSource(2, points=100, live=1, gpus=2, clock=clock)
    run = list(source.runs.runs.values())[-1]
    assert run.progress == (90.0, 300.0)
    eta = run.eta(clock.now())
    assert eta is not None
    assert 150 < eta < 250
    device = run.gpus["0"]
    assert device["processes"][0]["pid"] in run.pids
    assert 0.0 <= device["load"] <= 1.0


def test_a_live_run_that_reaches_its_last_step_completes() -> None:
    source = FakeSource(1, points=10, live=1, clock=FakeClock())
    run = next(iter(source.runs.runs.values()))
    source.advance(100.0)
    assert run.status is RunStatus.COMPLETED
    assert len(run.metrics["loss"]) == 30
    source.advance(10.0)
    assert len(run.metrics["loss"]) == 30
