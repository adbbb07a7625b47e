"""Grids: planning a grid file, reconciling it with the store and its jobs, its table."""

from __future__ import annotations

import argparse
import io
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from overseer_xpmanager import Explorer, Launcher
from overseer_xpmanager.errors import ArgumentError, GridError
from overseer_xpmanager.executor_local import LocalExecutor
from overseer_xpmanager.grid import (
    GridAction,
    GridPlan,
    monitor,
    monitor_table,
    plan_grid,
    reconcile,
)
from overseer_xpmanager.job import JobRecord, JobState
from overseer_xpmanager.main import ArgparseMain, DecoratedMain, argparse_main
from overseer_xpmanager.project import load_explorer, load_main
from overseer_xpmanager.store import XP, Store


def make_main(root: Path) -> ArgparseMain:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fast", action="store_true")

    @argparse_main(dir=root, parser=parser)
    def main() -> None:
        pass

    return main


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "outputs"


@pytest.fixture
def main(root: Path) -> ArgparseMain:
    return make_main(root)


@Explorer
def sweep(launcher: Launcher) -> None:
    launcher.slurm_(gpus=2, partition="debug")
    launcher.bind_({"epochs": 4})
    for lr in [0.1, 0.01]:
        sub = launcher.bind(lr=lr)
        sub()
        sub(batch_size=64)
    with launcher.job_array():
        for seed in range(1, 4):
            launcher(seed=seed)


def test_each_launch_is_one_xp_with_its_settings_and_array(main: ArgparseMain) -> None:
    plan = plan_grid(main, sweep)
    assert plan.launches == len(plan.items) == 7
    assert len(set(plan.sigs)) == 7
    assert plan.items[1].definition.delta == {"epochs": 4, "batch_size": 64}
    assert plan.items[2].definition.delta == {"epochs": 4, "lr": 0.01}
    assert all(item.settings == {"gpus": 2, "partition": "debug"} for item in plan.items)
    assert [item.array for item in plan.items] == [None] * 4 + [0] * 3
    assert plan.notes == []


def test_launches_of_one_xp_collapse_into_one_with_a_note(main: ArgparseMain) -> None:
    @Explorer
    def repeats(launcher: Launcher) -> None:
        launcher(lr=0.5)
        launcher(seed=1)
        launcher("--lr=0.5")
        launcher(lr=0.5, epochs=10)  # 10 is the default: the same XP
        launcher.slurm(gpus=8)(lr=0.5)

    plan = plan_grid(main, repeats)
    assert plan.launches == 5
    assert [item.definition.delta for item in plan.items] == [{"lr": 0.5}, {"seed": 1}]
    assert plan.items[0].settings == {}
    sig = plan.sigs[0]
    assert plan.notes == [
        f"launch 3 repeats XP {sig} (--lr=0.5)",
        f"launch 4 repeats XP {sig} (--lr=0.5 --epochs=10)",
        f"launch 5 repeats XP {sig} (--lr=0.5), with other settings, ignored",
    ]


def test_planning_writes_nothing(
    main: ArgparseMain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    plan = plan_grid(main, sweep)
    monitor_table(Store(tmp_path / "outputs"), "sweep", plan, sweep)
    assert sorted(os.listdir(tmp_path)) == before


def test_a_grid_that_raises_gives_a_grid_error_with_its_traceback(main: ArgparseMain) -> None:
    @Explorer
    def broken(launcher: Launcher) -> None:
        launcher(lr=0.5)
        raise ValueError("no such schedule")

    with pytest.raises(GridError, match="broken raised ValueError: no such schedule") as caught:
        plan_grid(main, broken)
    assert 'raise ValueError("no such schedule")' in caught.value.details


def test_a_launch_the_project_does_not_accept_is_named(main: ArgparseMain) -> None:
    @Explorer
    def typo(launcher: Launcher) -> None:
        launcher(lr=0.5)
        launcher("--lrr=0.5")

    with pytest.raises(ArgumentError, match=r"launch 2 of the grid \(--lrr=0.5\): .*--lrr"):
        plan_grid(main, typo)


def test_settings_given_to_the_plan_are_under_the_grid_s_own(main: ArgparseMain) -> None:
    plan = plan_grid(main, sweep, {"gpus": 1, "time": 60})
    assert plan.items[0].settings == {"gpus": 2, "time": 60, "partition": "debug"}


@Explorer
def flagged(launcher: Launcher) -> None:
    launcher.slurm(overseer_flags=["--early-stop-at=9"])(lr=0.1)
    launcher(lr=0.2)


def test_overseer_flags_of_the_command_line_and_of_a_launch_add_up(main: ArgparseMain) -> None:
    plan = plan_grid(main, flagged, {"overseer_flags": ["--train-rate"], "gpus": 1})
    assert [item.settings for item in plan.items] == [
        {"overseer_flags": ["--train-rate", "--early-stop-at=9"], "gpus": 1},
        {"overseer_flags": ["--train-rate"], "gpus": 1},
    ]
    # Bound twice, the flags add up too; other settings are replaced.
    launcher = Launcher(main, {"gpus": 1})
    twice = launcher.slurm(overseer_flags=["--a"], gpus=2).slurm(overseer_flags=["--b"], gpus=4)
    assert twice.settings == {"gpus": 4, "overseer_flags": ["--a", "--b"]}
    assert launcher.settings == {"gpus": 1}


# The table.


class Metrics(Explorer):
    def get_grid_metrics(self) -> list[Any]:
        return ["train.loss", ("valid.acc", ".1%")]


@Metrics
def metric_sweep(launcher: Launcher) -> None:
    launcher.bind_(epochs=4)
    for lr in [0.1, 0.01]:
        launcher(lr=lr)
        launcher(lr=lr, batch_size=64)


def made(store: Store, plan: GridPlan) -> list[Any]:
    return [store.ensure(item.definition) for item in plan.items]


def row(table: str, sig: str) -> str:
    (line,) = [line for line in table.splitlines() if line.split()[2:3] == [sig]]
    return line


def test_the_table_shows_states_varying_arguments_and_metrics(
    main: ArgparseMain, root: Path
) -> None:
    store = Store(root)
    plan = plan_grid(main, metric_sweep)
    first, second, third, _ = made(store, plan)
    now = time.time()
    first.write_job(JobRecord("local", "local-41", JobState.COMPLETED, "marker", now - 125))
    second.write_job(JobRecord("local", "local-42", JobState.RUNNING, "process", now - 3))
    first.link.push_metrics({"train": {"loss": 2.0}})
    first.link.push_metrics({"train": {"loss": 0.123456}, "valid": {"acc": 0.5}})
    second.link.push_metrics({"train": {"loss": 1.5}})
    table = monitor_table(store, "sweep", plan, metric_sweep, now=now)

    header = table.splitlines()[0].split()
    assert header == ["#", "alias", "sig", "state", "job", "batch_size", "lr", "loss", "acc"]
    assert row(table, first.sig).split()[1:] == [
        first.alias, first.sig, "COMPLETED", "(marker,", "2m05s)", "local-41",
        "32", "0.1", "0.1235", "50.0%",
    ]  # fmt: skip
    assert "RUNNING (process, 3s)" in row(table, second.sig)
    assert row(table, second.sig).split()[-2:] == ["1.5", "-"]
    assert row(table, third.sig).split()[3:] == ["-", "-", "32", "0.01", "-", "-"]
    assert table.splitlines()[-1] == "grid sweep: 4 XPs: 1 RUNNING, 1 COMPLETED, 2 not scheduled"
    assert max(map(len, table.splitlines())) <= 100


def test_xps_not_made_yet_show_dashes_and_no_argument_column_when_none_varies(
    main: ArgparseMain, root: Path
) -> None:
    @Explorer
    def one(launcher: Launcher) -> None:
        launcher(lr=0.5, epochs=3)

    plan = plan_grid(main, one)
    table = monitor_table(Store(root), "one", plan, one)
    assert table.splitlines()[0].split() == ["#", "alias", "sig", "state", "job"]
    assert row(table, plan.sigs[0]).split() == ["0", "-", plan.sigs[0], "-", "-"]
    assert table.splitlines()[-1] == "grid one: 1 XPs: 1 not scheduled"


def test_a_wide_table_narrows_its_argument_columns_to_fit(main: ArgparseMain, root: Path) -> None:
    class Wide(Explorer):
        def get_grid_metrics(self) -> list[Any]:
            return [f"metrics.a_rather_long_metric_name_{index}" for index in range(4)]

    @Wide
    def wide(launcher: Launcher) -> None:
        for lr in [0.1, 0.01]:
            launcher(lr=lr, batch_size=int(lr * 1000))

    plan = plan_grid(main, wide)
    (xp, _) = made(Store(root), plan)
    xp.link.push_metrics({"metrics": {f"a_rather_long_metric_name_{i}": i for i in range(4)}})
    table = monitor_table(Store(root), "wide", plan, wide)
    assert max(map(len, table.splitlines())) <= 100
    headers = table.splitlines()[0].split()[-4:]
    assert len(set(headers)) == 4
    assert all(header.startswith("a_") and "…" in header for header in headers)


def test_history_processing_that_raises_is_noted_not_fatal(main: ArgparseMain, root: Path) -> None:
    class Fragile(Explorer):
        def get_grid_metrics(self) -> list[Any]:
            return ["best"]

        def process_history(self, history: list[dict[str, Any]]) -> dict[str, Any]:
            return {"best": min(entry["loss"] for entry in history)}

    @Fragile
    def fragile(launcher: Launcher) -> None:
        launcher(lr=0.5)

    plan = plan_grid(main, fragile)
    (xp,) = made(Store(root), plan)
    xp.link.push_metrics({"acc": 1})
    table = monitor_table(Store(root), "fragile", plan, fragile)
    assert table.splitlines()[-1] == f"process_history() raised KeyError for {xp.sig}: 'loss'"
    assert row(table, xp.sig).split()[-1] == "-"


def test_metrics_given_as_treetable_groups_and_leaves(main: ArgparseMain, root: Path) -> None:
    class Node:
        def __init__(self, key: str, groups: list[Node] | None = None, format: str | None = None):
            self.key, self.groups, self.format = key, groups, format

    class Dora(Explorer):
        def get_grid_metrics(self) -> list[Any]:
            return [Node("train", [Node("loss", format=".2f")]), Node("epoch")]

    @Dora
    def dora(launcher: Launcher) -> None:
        launcher(lr=0.5)

    plan = plan_grid(main, dora)
    (xp,) = made(Store(root), plan)
    xp.link.push_metrics({"train": {"loss": 0.756}})
    table = monitor_table(Store(root), "dora", plan, dora)
    assert table.splitlines()[0].split()[-2:] == ["loss", "epoch"]
    assert row(table, xp.sig).split()[-2:] == ["0.76", "1"]


def test_monitoring_once_prints_one_table(main: ArgparseMain, root: Path) -> None:
    store = Store(root)
    plan = plan_grid(main, metric_sweep)
    for xp in made(store, plan):
        xp.write_job(JobRecord("local", "local-1", JobState.COMPLETED, "marker"))
    out = io.StringIO()
    assert monitor(store, "sweep", plan, metric_sweep, Unreachable(), 0.01, out=out)
    text = out.getvalue()
    assert text.count("grid sweep: 4 XPs: 4 COMPLETED") == 1
    assert "\x1b[" not in text


class Unreachable:
    """An executor for XPs whose jobs have all ended: nothing needs to ask it."""

    def state(self, xp: Any) -> JobRecord:
        raise AssertionError("the state of an ended job was asked again")

    def submit(self, xp: Any, settings: Any) -> JobRecord:
        raise AssertionError("monitoring submitted a job")

    def cancel(self, xp: Any) -> None:
        raise AssertionError("monitoring cancelled a job")


# Reconciling with real background jobs (the argproj test project, LocalExecutor).


@pytest.fixture
def project(xp_env: Path) -> DecoratedMain:
    return load_main("argproj")


def grid_of(*launches: dict[str, Any]) -> Explorer:
    @Explorer
    def explorer(launcher: Launcher) -> None:
        for launch in launches:
            launcher(**launch)

    return explorer


def run(store: Store, name: str, plan: GridPlan, **rules: bool) -> dict[str, GridAction]:
    flags = {"retry": False, "replace": False, "rerun": False, "cancel": False, "clear": False}
    flags.update(rules)
    dry_run = flags.pop("dry_run", False)
    executor = LocalExecutor(store, max_parallel=4)
    actions = reconcile(store, name, plan, executor, **flags, dry_run=dry_run)
    return {action.sig: action for action in actions}


def wait(store: Store, sig: str) -> JobRecord:
    return LocalExecutor(store).wait(store.load(sig), timeout=60)


SLOW = {"epochs": 1, "sleep": 60.0}


def test_a_grid_file_of_the_project_runs_to_completion(
    project: DecoratedMain, store: Store
) -> None:
    explorer = load_explorer("argproj", "basic")
    plan = plan_grid(project, explorer)
    actions = run(store, "basic", plan)
    assert [action.action for action in actions.values()] == ["submitted"] * 3
    assert store.grid_sigs("basic") == sorted(plan.sigs)
    assert all(wait(store, sig).state is JobState.COMPLETED for sig in plan.sigs)
    out = io.StringIO()
    assert monitor(store, "basic", plan, explorer, LocalExecutor(store), 0.1, out=out)
    assert "grid basic: 3 XPs: 3 COMPLETED" in out.getvalue()
    table = monitor_table(store, "basic", plan, explorer)
    assert table.splitlines()[0].split()[5:] == ["lr", "fast"]


def test_running_the_grid_again_schedules_nothing_new(project: DecoratedMain, store: Store) -> None:
    plan = plan_grid(project, grid_of({"epochs": 1}, SLOW))
    done, slow = plan.sigs
    first = run(store, "again", plan)
    wait(store, done)
    second = run(store, "again", plan)
    assert second[done].action == "skipped-completed"
    assert second[slow].action == "kept"
    kept, submitted = second[slow].job, first[slow].job
    assert kept is not None
    assert submitted is not None
    assert kept.job_id == submitted.job_id


def test_an_xp_dropped_from_the_grid_is_cancelled_and_unlinked(
    project: DecoratedMain, store: Store
) -> None:
    before = plan_grid(project, grid_of({"epochs": 1}, SLOW))
    kept, dropped = before.sigs
    run(store, "shrinks", before)
    after = plan_grid(project, grid_of({"epochs": 1}))
    actions = run(store, "shrinks", after)
    assert actions[dropped].action == "dropped"
    assert actions[dropped].detail.endswith("cancelled")
    assert store.load(dropped).job().state is JobState.CANCELLED  # type: ignore[union-attr]
    assert store.grid_sigs("shrinks") == [kept]
    assert store.load(dropped).folder.is_dir()


def test_a_dry_run_says_what_would_be_done_and_writes_nothing(
    project: DecoratedMain, store: Store
) -> None:
    plan = plan_grid(project, grid_of({"epochs": 1}, {"lr": 0.5}))
    actions = run(store, "dry", plan, dry_run=True)
    assert [(a.action, a.done) for a in actions.values()] == [("submitted", False)] * 2
    assert "would be submitted" in str(actions[plan.sigs[0]])
    assert not store.root.exists()


def test_a_grid_file_that_raises_schedules_nothing(project: DecoratedMain, store: Store) -> None:
    @Explorer
    def broken(launcher: Launcher) -> None:
        launcher(epochs=1)
        launcher(lr=1 / 0)

    with pytest.raises(GridError, match="ZeroDivisionError"):
        run(store, "broken", plan_grid(project, broken))
    assert not store.root.exists()


def test_failed_xps_wait_for_retry(project: DecoratedMain, store: Store) -> None:
    plan = plan_grid(project, grid_of({"crash": True}))
    (sig,) = plan.sigs
    run(store, "crashes", plan)
    assert wait(store, sig).state is JobState.FAILED
    assert run(store, "crashes", plan)[sig].action == "skipped-failed"
    assert run(store, "crashes", plan, retry=True)[sig].action == "submitted"
    assert wait(store, sig).attempts == 2


def test_cancel_stops_the_live_jobs_of_the_grid(project: DecoratedMain, store: Store) -> None:
    plan = plan_grid(project, grid_of(SLOW, {**SLOW, "lr": 0.5}))
    run(store, "stop", plan)
    actions = run(store, "stop", plan, cancel=True)
    assert sorted(actions) == sorted(plan.sigs)
    assert all(action.action == "cancelled" for action in actions.values())
    assert all(wait(store, sig).state is JobState.CANCELLED for sig in plan.sigs)


def test_clear_starts_the_xps_afresh(project: DecoratedMain, store: Store) -> None:
    plan = plan_grid(project, grid_of({"epochs": 2}))
    (sig,) = plan.sigs
    run(store, "fresh", plan)
    wait(store, sig)
    xp = store.load(sig)
    actions = reconcile(store, "fresh", plan, LocalExecutor(store), clear=True)
    assert [action.action for action in actions] == ["cleared", "submitted"]
    assert wait(store, sig).state is JobState.COMPLETED
    assert [entry["epoch"] for entry in xp.link.history] == [0, 1]
    assert "resuming" not in xp.log_path.read_text()
    with pytest.raises(ArgumentError, match="--clear cannot be combined with --dry_run"):
        reconcile(store, "fresh", plan, LocalExecutor(store), clear=True, dry_run=True)


class ArrayExecutor(LocalExecutor):
    """Local jobs, with the array entry point a Slurm executor has: records each array."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, max_parallel=4)
        self.arrays: list[list[str]] = []

    def submit_array(self, xps: Sequence[XP], settings: dict[str, Any]) -> list[JobRecord]:
        self.arrays.append([xp.sig for xp in xps])
        return [self.submit(xp, settings) for xp in xps]


def test_a_job_array_goes_to_the_executor_as_one_array(
    project: DecoratedMain, store: Store
) -> None:
    @Explorer
    def arrays(launcher: Launcher) -> None:
        launcher(epochs=1)
        with launcher.job_array():
            for lr in [0.2, 0.3, 0.4]:
                launcher(epochs=1, lr=lr)

    plan = plan_grid(project, arrays)
    single, *members = plan.sigs
    executor = ArrayExecutor(store)
    reconcile(store, "arrays", plan, executor)
    assert executor.arrays == [members]
    assert all(wait(store, sig).state is JobState.COMPLETED for sig in plan.sigs)
    store.load(members[1]).write_job(JobRecord("local", None, JobState.FAILED, "process"))
    actions = reconcile(store, "arrays", plan, executor, retry=True)
    assert executor.arrays == [members, [members[1]]]
    assert [action.action for action in actions] == [
        "skipped-completed",
        "skipped-completed",
        "submitted",
        "skipped-completed",
    ]
    assert single not in executor.arrays[-1]
