"""Runs read from XP stores built in tmp_path the way the experiment manager lays them out."""

from __future__ import annotations

import asyncio
import builtins
import io
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from overseer.runner import run_commands
from overseer_tui.clock import FakeClock
from overseer_tui.errors import SelectorError, StoreNotFound
from overseer_tui.model import Run, RunStatus
from overseer_tui.store_source import StoreSource

T0 = 1_796_090_090.0


def start(pid: int = 2528, t: float = T0) -> dict[str, Any]:
    return {"event": "start", "data": {"argv": ["x"], "pid": pid}, "pipe": None, "t": t, "index": 0}


def given(t: float = T0 + 1, **record: Any) -> dict[str, Any]:
    return {"event": "data", "data": record, "pipe": None, "t": t, "index": 0, "pid": 2528}


def end(returncode: int = 0, t: float = T0 + 9) -> dict[str, Any]:
    data = {"returncode": returncode, "duration": 9.0}
    return {"event": "end", "data": data, "pipe": None, "t": t, "index": 0}


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")


def append_lines(path: Path, records: list[dict[str, Any]], tail: str = "") -> None:
    with path.open("a", encoding="utf-8") as file:
        file.writelines(json.dumps(record) + "\n" for record in records)
        file.write(tail)


def make_xp(
    root: Path,
    sig: str,
    alias: str,
    *,
    delta: dict[str, Any] | None = None,
    created: float = T0,
    state: str | None = "RUNNING",
    events: list[dict[str, Any]] | None = None,
    history: list[dict[str, Any]] | None = None,
    grid: str | None = None,
) -> Path:
    """An XP folder as the experiment manager writes it (argv.json last)."""
    folder = root / "xps" / sig
    folder.mkdir(parents=True)
    write_json(folder / "meta.json", {"alias": alias, "created": created, "backend": "argparse"})
    if state is not None:
        job = {"state": state, "job_id": "local-1", "executor": "local", "updated": created}
        write_json(folder / "job.json", job)
    append_lines(folder / "events.jsonl", events or [])
    append_lines(folder / "history.jsonl", history or [])
    config = {"size": 3, "lr": 0.1, **(delta or {})}
    argv = [f"--{key}={value}" for key, value in (delta or {}).items()]
    write_json(folder / "argv.json", {"argv": argv, "delta": delta or {}, "config": config})
    if grid is not None:
        (root / "grids" / grid).mkdir(parents=True, exist_ok=True)
        os.symlink(Path("..") / ".." / "xps" / sig, root / "grids" / grid / sig)
    return folder


def load(source: StoreSource) -> int:
    """Poll until the backlog is read; the number of polls it took."""
    for polls in range(1, 10_000):
        source.poll()
        if not source.loading:
            return polls
    raise AssertionError("the store never finished loading")


def loaded(root: Path, **options: Any) -> StoreSource:
    source = StoreSource(root, **options)
    load(source)
    return source


def by_name(source: StoreSource) -> dict[str, Run]:
    return {run.name: run for run in source.runs.runs.values()}


def ys(run: Run, metric: str) -> list[float]:
    values: list[float] = run.metrics[metric].y_values().tolist()
    return values


@pytest.fixture
def store(tmp_path: Path) -> Path:
    make_xp(
        tmp_path,
        "1dcfb3d6ca05",
        "modest-badger",
        delta={"size": 4},
        state="COMPLETED",
        events=[start(), given(step=1, loss=3.2), given(step=2, loss=3.1), end()],
        history=[{"epoch": 1, "policy_loss": 2.1}],
        grid="scaling",
    )
    make_xp(
        tmp_path,
        "4cf2e0e9e3a1",
        "dapper-heron",
        delta={"size": 5},
        created=T0 + 100,
        events=[start(t=T0 + 100), given(t=T0 + 101, step=1, loss=3.5)],
    )
    return tmp_path


def test_a_folder_without_xps_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound) as caught:
        StoreSource(tmp_path)
    message = str(caught.value)
    assert str(tmp_path) in message
    assert "OVERSEER_XP_DIR" in message
    assert "\n" not in message


def test_a_grid_that_does_not_exist_names_those_that_do(store: Path) -> None:
    with pytest.raises(StoreNotFound, match=r"no grid 'scalling' .*\(scaling\)"):
        StoreSource(store, grid="scalling")


def test_a_bad_selector_fails_before_reading(store: Path) -> None:
    with pytest.raises(SelectorError):
        StoreSource(store, selectors=["lr="])


def test_the_first_load_reads_definitions_status_events_and_history(store: Path) -> None:
    source = loaded(store)
    assert source.title == str(store)
    badger, heron = by_name(source).values()
    assert (badger.sig, badger.args, badger.config["lr"]) == ("1dcfb3d6ca05", {"size": 4}, 0.1)
    assert (badger.created, badger.status, heron.status) == (
        T0,
        RunStatus.COMPLETED,
        RunStatus.RUNNING,
    )
    assert ys(badger, "loss") == [3.2, 3.1]
    assert ys(badger, "policy_loss") == [2.1]
    assert heron.step == 1.0
    assert source.runs.differing_args() == ["size"]


def test_appended_entries_reach_the_runs_at_the_next_poll(store: Path) -> None:
    source = loaded(store)
    source.runs.take_changes()
    heron_events = store / "xps" / "4cf2e0e9e3a1" / "events.jsonl"
    append_lines(heron_events, [given(t=T0 + 102, step=2, loss=3.4)])
    assert source.poll() is True
    heron = by_name(source)["dapper-heron"]
    assert ys(heron, "loss") == [3.5, 3.4]
    assert source.runs.take_changes() == {"4cf2e0e9e3a1"}
    append_lines(heron_events, [end(returncode=1, t=T0 + 110)])
    source.poll()
    assert heron.status is RunStatus.FAILED  # newer than job.json's RUNNING
    assert source.poll() is False


def test_a_new_job_json_changes_the_status(store: Path) -> None:
    source = loaded(store)
    folder = store / "xps" / "1dcfb3d6ca05"
    write_json(folder / "job.json.tmp", {"state": "REQUEUED", "updated": T0 + 50})
    os.replace(folder / "job.json.tmp", folder / "job.json")
    assert source.poll() is True
    assert by_name(source)["modest-badger"].status is RunStatus.PENDING


def test_a_new_xp_appears_once_its_argv_json_is_written(store: Path) -> None:
    source = loaded(store)
    folder = store / "xps" / "5459e125e466"
    folder.mkdir()
    source.poll()
    assert "5459e125e466" not in source.runs.runs  # no argv.json yet: not an XP
    make_xp(store, "7f00e8e59d7b", "solid-nectar", events=[start(), given(loss=1.0)])
    write_json(folder / "meta.json", {"alias": "cool-velvet", "created": T0 + 200})
    write_json(folder / "argv.json", {"argv": [], "delta": {"size": 6}, "config": {}})
    assert source.poll() is True
    load(source)
    assert list(by_name(source)) == ["modest-badger", "dapper-heron", "cool-velvet", "solid-nectar"]
    assert ys(by_name(source)["solid-nectar"], "loss") == [1.0]
    assert by_name(source)["cool-velvet"].status is RunStatus.PENDING  # no job.json yet


def test_a_deleted_xp_leaves_the_runs_and_is_read_no_more(store: Path) -> None:
    source = loaded(store)
    membership = source.runs.membership
    shutil.rmtree(store / "xps" / "4cf2e0e9e3a1")
    assert source.poll() is True
    assert list(by_name(source)) == ["modest-badger"]
    assert source.runs.membership != membership
    assert source.poll() is False  # nothing left to read of it
    # A folder of the same name made again is a new XP.
    make_xp(store, "4cf2e0e9e3a1", "dapper-heron", events=[start(), given(loss=0.5)])
    load(source)
    assert ys(by_name(source)["dapper-heron"], "loss") == [0.5]


def test_the_monitor_drops_a_deleted_run_even_when_it_was_marked(store: Path) -> None:
    from overseer_tui.app import MonitorApp

    app = MonitorApp(StoreSource(store), interval=3600, local_gpus=False)

    async def main() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            while app.source.loading:
                app.poll_source()
                await pilot.pause()
            # Newest first: dapper-heron is under the cursor; space marks it too.
            assert [run.name for run in app.table.visible_runs()] == [
                "dapper-heron", "modest-badger",
            ]  # fmt: skip
            await pilot.press("space")
            assert app.plot_sigs() == ["4cf2e0e9e3a1"]
            shutil.rmtree(store / "xps" / "4cf2e0e9e3a1")
            app.poll_source()
            await pilot.pause()
            assert [run.name for run in app.table.visible_runs()] == ["modest-badger"]
            assert " 1 run · " in str(app.query_one("#title").render())
            assert app.plot_sigs() == ["1dcfb3d6ca05"]

    asyncio.run(main())


def test_a_grid_shows_its_xps_only_and_follows_new_links(store: Path) -> None:
    source = loaded(store, grid="scaling")
    assert source.title.endswith("grid scaling")
    assert list(by_name(source)) == ["modest-badger"]
    make_xp(store, "7f00e8e59d7b", "solid-nectar", grid="scaling")
    source.poll()
    assert list(by_name(source)) == ["modest-badger", "solid-nectar"]


def test_selectors_limit_the_runs_kept(store: Path) -> None:
    make_xp(store, "7f00e8e59d7b", "solid-badger", delta={"size": 6}, created=T0 + 300)
    assert list(by_name(loaded(store, selectors=["*badger"]))) == ["modest-badger", "solid-badger"]
    assert list(by_name(loaded(store, selectors=["-1"]))) == ["solid-badger"]
    assert list(by_name(loaded(store, selectors=["size<6"]))) == ["modest-badger", "dapper-heron"]
    latest = loaded(store, selectors=["-1"])
    make_xp(store, "9bce003651ab", "close-swan", created=T0 + 400)
    latest.poll()
    assert list(by_name(latest)) == ["solid-badger", "close-swan"]  # the new latest joins


def test_a_torn_last_line_waits_for_its_newline(store: Path) -> None:
    source = loaded(store)
    events = store / "xps" / "4cf2e0e9e3a1" / "events.jsonl"
    line = json.dumps(given(t=T0 + 102, step=2, loss=3.4))
    append_lines(events, [], tail=line[:20])
    source.poll()
    heron = by_name(source)["dapper-heron"]
    assert ys(heron, "loss") == [3.5]
    append_lines(events, [], tail=line[20:] + "\n")
    source.poll()
    assert ys(heron, "loss") == [3.5, 3.4]
    assert source.corrupt == 0


def test_a_truncated_events_file_starts_the_run_over(store: Path) -> None:
    source = loaded(store)
    events = store / "xps" / "1dcfb3d6ca05" / "events.jsonl"
    events.write_text(json.dumps(start(t=T0 + 500)) + "\n", encoding="utf-8")
    source.poll()
    badger = by_name(source)["modest-badger"]
    assert "loss" not in badger.metrics
    assert ys(badger, "policy_loss") == [2.1]  # history.jsonl was not touched
    append_lines(events, [given(t=T0 + 501, step=1, loss=9.0)])
    source.poll()
    assert ys(badger, "loss") == [9.0]


def test_a_metric_of_both_files_keeps_its_history_when_the_events_restart(
    store: Path,
) -> None:
    make_xp(
        store,
        "77aa00bb11cc",
        "steady-lark",
        events=[start(), given(step=1, loss=2.0), given(step=2, loss=1.5)],
        history=[{"step": 3, "loss": 1.2}],
    )
    source = loaded(store)
    lark = by_name(source)["steady-lark"]
    assert ys(lark, "loss") == [2.0, 1.5]  # given and pushed: plotted from the events
    events = store / "xps" / "77aa00bb11cc" / "events.jsonl"
    events.write_text(json.dumps(start(t=T0 + 500)) + "\n", encoding="utf-8")
    load(source)
    assert ys(lark, "loss") == [1.2]  # until the events give it again, the history's


def test_corrupt_lines_are_counted_and_skipped(store: Path) -> None:
    source = loaded(store)
    events = store / "xps" / "4cf2e0e9e3a1" / "events.jsonl"
    append_lines(events, [], tail='{"event": "data", "da\n[1, 2]\n')
    append_lines(events, [given(t=T0 + 103, step=3, loss=3.3)])
    source.poll()
    assert source.corrupt == 2
    assert ys(by_name(source)["dapper-heron"], "loss") == [3.5, 3.3]


def test_an_idle_poll_reads_no_file(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = loaded(store)
    reads = source.file_reads
    opened: list[str] = []

    def counting(real: Any) -> Any:
        def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
            opened.append(str(path))
            return real(path, *args, **kwargs)

        return wrapper

    for module, name in ((builtins, "open"), (io, "open"), (os, "open")):
        monkeypatch.setattr(module, name, counting(getattr(module, name)))
    assert [source.poll() for _ in range(3)] == [False, False, False]
    assert (opened, source.file_reads) == ([], reads)
    append_lines(store / "xps" / "4cf2e0e9e3a1" / "events.jsonl", [given(loss=1.0)])
    assert source.poll() is True
    assert opened  # the wrapper does see reads: the idle check above can fail


def test_done_runs_that_stay_still_are_looked_at_about_every_ten_seconds(store: Path) -> None:
    clock = FakeClock(time.time())
    source = loaded(store, clock=clock)
    clock.advance(31.0)
    source.poll()  # the badger is done and still for 30 s: its next look is in 7.5 to 12.5 s
    events = store / "xps" / "1dcfb3d6ca05" / "events.jsonl"
    append_lines(events, [given(t=T0 + 20, step=3, loss=3.0)])
    clock.advance(5.0)
    source.poll()
    badger = by_name(source)["modest-badger"]
    assert ys(badger, "loss") == [3.2, 3.1]
    clock.advance(8.0)
    source.poll()
    assert ys(badger, "loss") == [3.2, 3.1, 3.0]
    heron_events = store / "xps" / "4cf2e0e9e3a1" / "events.jsonl"
    append_lines(heron_events, [given(t=T0 + 102, step=2, loss=3.4)])
    source.poll()  # a running run is looked at every poll
    assert ys(by_name(source)["dapper-heron"], "loss") == [3.5, 3.4]


def test_done_runs_whose_files_are_old_are_still_from_the_first_load(store: Path) -> None:
    folder = store / "xps" / "1dcfb3d6ca05"
    an_hour_ago = time.time() - 3600
    for name in ("job.json", "events.jsonl", "history.jsonl"):
        os.utime(folder / name, (an_hour_ago, an_hour_ago))
    clock = FakeClock(time.time())
    source = loaded(store, clock=clock)
    source.poll()
    append_lines(folder / "events.jsonl", [given(t=T0 + 20, step=3, loss=3.0)])
    source.poll()
    badger = by_name(source)["modest-badger"]
    assert ys(badger, "loss") == [3.2, 3.1]
    clock.advance(13.0)
    source.poll()
    assert ys(badger, "loss") == [3.2, 3.1, 3.0]


def test_the_first_load_of_a_large_store_comes_in_chunks(tmp_path: Path) -> None:
    events = [start()] + [given(t=T0 + step, step=step, loss=1.0 / step) for step in range(1, 80)]
    for index in range(300):
        make_xp(tmp_path, f"{index:012x}", f"run-{index}", created=T0 + index, events=events)
    source = StoreSource(tmp_path)
    assert source.poll() is True
    assert source.loading
    first = sum(len(run.metrics) for run in source.runs.runs.values())
    assert first < 300  # some runs are still to read after the first ~50 ms
    load(source)
    assert len(source.runs) == 300
    assert all(len(run.metrics["loss"]) == 79 for run in source.runs.runs.values())


def overseer_entries(script: Path) -> Iterator[dict[str, Any]]:
    command = [sys.executable, "-m", "overseer", "--log-given", str(script)]
    for entry in run_commands(command, timeout=60):
        yield dict(entry)


def test_a_run_under_the_real_overseer_is_seen_as_it_writes(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "from overseer import give\n"
        "for step in range(3):\n"
        "    give(step=step, loss=1.0 / (step + 1), flag=True)\n"
        "give(task='train', rate=12.5, units='items/s')\n"
        "print('trained')\n",
        encoding="utf-8",
    )
    folder = make_xp(tmp_path, "a878ead26ac4", "eager-jade", state=None)
    source = loaded(tmp_path)
    run = by_name(source)["eager-jade"]
    seen: list[RunStatus] = []
    with (folder / "events.jsonl").open("a", encoding="utf-8") as file:
        for entry in overseer_entries(script):
            file.write(json.dumps(entry) + "\n")
            file.flush()
            source.poll()
            seen.append(run.status)
    source.poll()
    assert RunStatus.RUNNING in seen
    assert run.status is RunStatus.COMPLETED
    assert ys(run, "loss") == [1.0, 0.5, 1.0 / 3]
    assert run.metrics["loss"].x_values("step").tolist() == [0.0, 1.0, 2.0]
    assert ys(run, "train.rate") == [12.5]
    assert "flag" not in run.metrics
    assert [line.text for line in run.log] == ["trained"]
