"""The notebook API: ``runs()``, ``monitor(-1)`` and ``review(-1)`` over real runs of argproj
(background jobs of the local executor, under the overseer), IPython's real display machinery
for the table a notebook updates in place, and matplotlib for the figures."""

from __future__ import annotations

import importlib
import io
from pathlib import Path
from typing import Any

import pytest

from overseer_xpmanager import monitor, review, runs
from overseer_xpmanager.errors import StoreError, XPManagerError
from overseer_xpmanager.executor_local import LocalExecutor
from overseer_xpmanager.store import XP, Store

PROJECTS = Path(__file__).parent / "projects"
SETTINGS = {"cwd": str(PROJECTS)}
PNG = b"\x89PNG\r\n\x1a\n"


def make_xp(store: Store, *argv: str) -> XP:
    main = importlib.import_module("argproj.train").main
    return store.ensure(main.definition(list(argv)))


def run_to_end(store: Store, *argv: str) -> XP:
    executor = LocalExecutor(store, max_parallel=2)
    xp = make_xp(store, *argv)
    executor.submit(xp, SETTINGS)
    assert executor.wait(xp, timeout=60).state.value == "COMPLETED"
    return xp


def test_runs_lists_every_xp_with_what_differs_and_its_latest_values(store: Store) -> None:
    first = run_to_end(store, "--lr=0.1", "--epochs=2")
    second = run_to_end(store, "--lr=0.4", "--epochs=3")
    table = runs()
    assert [row.xp for row in table] == [first, second]
    assert table[-1].latest == {"loss": pytest.approx(0.4 / 3)}
    assert table[-1].metrics["loss"] == [(0.0, 0.4), (1.0, 0.2), (2.0, pytest.approx(0.4 / 3))]
    lines = str(table).splitlines()
    assert lines[0].split() == ["alias", "sig", "state", "age", "epochs", "lr", "loss"]
    assert lines[2].split()[:3] == [first.alias, first.sig, "COMPLETED"]
    assert lines[3].split()[-3:] == ["3", "0.4", "0.1333"]
    page = table._repr_html_()
    assert page.startswith("<table><thead><tr><th>alias</th>")
    assert f"<td>{second.sig}</td>" in page
    assert page.count("<tr>") == 3
    # An XP not run yet: no job, no metric, and the default it runs with (3 epochs) shown.
    third = make_xp(store, "--lr=0.2")
    last = str(runs()).splitlines()[-1]
    cells = last.split()
    assert cells[:3] + cells[4:] == [third.alias, third.sig, "-", "3", "0.2", "-"]
    # Numbers are right-aligned: the loss column is as wide as "0.1333", its "-" at the right.
    assert last.endswith("0.2" + " " * (2 + 5) + "-"), last


def test_selectors_pick_runs_and_a_bad_one_is_refused_in_one_line(store: Store) -> None:
    first = run_to_end(store, "--lr=0.1", "--epochs=1")
    second = run_to_end(store, "--lr=0.2", "--epochs=1")
    assert [row.xp for row in runs(-1)] == [second]
    assert [row.xp for row in runs(first.alias, "-1")] == [first, second]
    assert [row.xp for row in runs(second.sig[:6])] == [second]
    with pytest.raises(XPManagerError, match=r"^runs\('nobody-here'\): no XP matches it in "):
        runs("nobody-here")


def test_a_missing_store_is_named_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        runs(root=tmp_path / "nowhere")
    message = str(info.value)
    assert message.startswith(f"no XP store at {tmp_path / 'nowhere'}: pass root=, or set ")
    assert "\n" not in message


def test_monitor_prints_the_latest_values_until_the_run_ends(store: Store) -> None:
    executor = LocalExecutor(store, max_parallel=1)
    xp = make_xp(store, "--lr=0.3", "--epochs=4", "--sleep=0.3")
    executor.submit(xp, SETTINGS)
    out = io.StringIO()
    final = monitor(-1, interval=0.1, out=out)
    assert final.done
    assert final.state == "COMPLETED" or final.ended
    assert final.latest == {"loss": pytest.approx(0.3 / 4)}
    tables = out.getvalue().split("alias")[1:]
    assert len(tables) >= 3  # shown again while the run went on
    assert "0.075" in tables[-1]
    assert executor.wait(xp, timeout=60).state.value == "COMPLETED"


def test_monitor_stops_at_its_timeout_and_refuses_a_bad_interval(store: Store) -> None:
    executor = LocalExecutor(store, max_parallel=1)
    xp = make_xp(store, "--epochs=100", "--sleep=0.2")
    executor.submit(xp, SETTINGS)
    try:
        final = monitor(xp.alias, interval=0.1, timeout=0.5, out=io.StringIO())
        assert not final.done
        with pytest.raises(XPManagerError, match=r"^monitor\(interval=0\): give a number"):
            monitor(-1, interval=0)
    finally:
        executor.cancel(xp)


class Recorder:
    """IPython's display publisher, keeping what was published instead of printing it."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, data: dict[str, Any], **details: Any) -> None:
        self.published.append({"data": data, **details})

    def clear_output(self, wait: bool = False) -> None:
        pass


def test_in_a_notebook_the_table_is_one_display_updated_in_place(store: Store) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    executor = LocalExecutor(store, max_parallel=1)
    xp = make_xp(store, "--lr=0.3", "--epochs=3", "--sleep=0.3")
    executor.submit(xp, SETTINGS)
    shell = InteractiveShell.instance()
    recorder = Recorder()
    shell.display_pub = recorder
    try:
        final = monitor(-1, interval=0.1)
    finally:
        InteractiveShell.clear_instance()
    assert final.latest == {"loss": pytest.approx(0.1)}
    published = recorder.published
    assert len(published) >= 2
    ids = {entry["transient"]["display_id"] for entry in published}
    assert len(ids) == 1  # one output, updated in place
    assert [entry.get("update", False) for entry in published] == [False] + [True] * (
        len(published) - 1
    )
    assert published[-1]["data"]["text/html"].startswith("<table>")
    assert xp.alias in published[-1]["data"]["text/plain"]


def test_review_draws_each_metric_and_saves_a_png(store: Store, tmp_path: Path) -> None:
    xp = run_to_end(store, "--lr=0.2", "--epochs=3")
    shown = review(-1, path=tmp_path / "run.png")
    assert (tmp_path / "run.png").read_bytes().startswith(PNG)
    assert shown._repr_png_().startswith(PNG)
    panels = [ax for ax in shown.figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["loss"]
    xs, ys = panels[0].lines[0].get_data()
    assert list(xs) == [0.0, 1.0, 2.0]
    assert list(ys) == pytest.approx([0.2, 0.1, 0.2 / 3])
    assert xp.alias in shown.figure.get_suptitle()


def test_review_of_a_metric_the_run_lacks_names_those_it_has(store: Store) -> None:
    run_to_end(store, "--epochs=1")
    with pytest.raises(XPManagerError, match=r"has no metric 'acc' \(its metrics: loss\)$"):
        review(-1, metrics=["acc"])


def test_a_reader_adds_only_new_points_and_counts_a_pushed_and_given_value_once(
    store: Store,
) -> None:
    from overseer_xpmanager.jsonl import append_record
    from overseer_xpmanager.notebook import RunReader, summarise

    xp = make_xp(store, "--lr=0.5")
    xp.folder.mkdir(parents=True, exist_ok=True)
    reader = RunReader(xp)
    assert reader.refresh().metrics == {}
    for step in (0, 1):  # pushed to the history, and the same values given to the stream
        append_record(xp.history_path, {"step": step, "loss": 1 / (step + 1)})
        append_record(
            xp.events_path, {"event": "data", "data": {"step": step, "loss": 1 / (step + 1)}}
        )
    append_record(xp.events_path, {"event": "data", "data": {"step": 1, "acc": 0.5}})
    assert reader.refresh().metrics == {"loss": [(0, 1.0), (1, 0.5)], "acc": [(1, 0.5)]}
    append_record(xp.events_path, {"event": "data", "data": {"step": 2, "loss": 0.25}})
    append_record(xp.events_path, {"event": "end", "data": {"return_code": 0}})
    summary = reader.refresh()
    assert summary.metrics["loss"] == [(0, 1.0), (1, 0.5), (2, 0.25)]
    assert summary.ended
    assert summary.done
    # Read whole again, the same run.
    assert summarise(xp).metrics == summary.metrics
    # A stream rewritten from its start (a rerun) is read again, not added to.
    xp.events_path.write_text("")
    xp.history_path.write_text("")
    append_record(xp.events_path, {"event": "data", "data": {"step": 0, "loss": 2.0}})
    assert reader.refresh().metrics == {"loss": [(0, 2.0)]}
