"""``rl bench``: well-formed rows, the JSON file, one-line errors. Never an absolute time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from overseer_rlbench import _bench_measures
from overseer_rlbench.bench import (
    MEASURES,
    BenchRow,
    BenchSettingsError,
    bench_command,
    bench_plan,
    format_rows,
    run_bench,
)
from overseer_rlbench.hex import HexGeometry, initial_state

UNITS = {
    "env_steps": "steps/s",
    "state_bytes": "bytes/env",
    "tree_bytes": "bytes/env",
    "search_sims": "sims/s",
    "selfplay_moves": "moves/s",
    "learner_samples": "samples/s",
    "arena_games": "games/s",
}
TINY: dict[str, Any] = {"sizes": [3], "batches": [8], "search_batches": [4], "simulations": 2}


@pytest.fixture(scope="module")
def quick_rows() -> tuple[list[BenchRow], list[str]]:
    notes: list[str] = []
    rows = run_bench(
        quick=True, repeats=3, warmup=0, target_seconds=0.005, threads=1, notes=notes, **TINY
    )
    return rows, notes


def test_quick_rows_are_well_formed(quick_rows: tuple[list[BenchRow], list[str]]) -> None:
    rows, _ = quick_rows
    assert rows
    for row in rows:
        assert row.unit == UNITS[row.measure], row
        assert 0 < row.low <= row.median <= row.high, row
        assert row.size == 3
        assert row.device == "cpu"
        assert row.torch == torch.__version__
        assert row.threads == 1
        timed = row.unit != "bytes/env"
        assert row.repeats == (3 if timed else 1), row
        assert json.loads(json.dumps(row.to_dict())) == row.to_dict()


def test_every_measure_is_there_or_skipped_with_a_note(
    quick_rows: tuple[list[BenchRow], list[str]],
) -> None:
    rows, notes = quick_rows
    measured = {row.measure for row in rows}
    assert {"env_steps", "state_bytes", "learner_samples", "arena_games"} <= measured
    search_measures = {"search_sims", "selfplay_moves"}
    skipped = {note.split(":")[0] for note in notes}
    assert search_measures <= measured or {"search", "selfplay"} <= skipped, (measured, notes)


def test_rows_follow_the_plan(quick_rows: tuple[list[BenchRow], list[str]]) -> None:
    rows, _ = quick_rows
    env = [row for row in rows if row.measure == "env_steps"]
    assert [(row.size, row.batch) for row in env] == [(3, 8)]
    searches = [row for row in rows if row.measure == "search_sims" and "null" in row.detail]
    if searches:
        assert {row.detail.split(",")[0] for row in searches} == {"puct", "regularized", "gumbel"}
        assert all(row.batch == 4 and "2 simulations" in row.detail for row in searches)


def test_state_bytes_are_those_of_a_hex_state(
    quick_rows: tuple[list[BenchRow], list[str]],
) -> None:
    rows, _ = quick_rows
    (row,) = [row for row in rows if row.measure == "state_bytes"]
    expected = initial_state(HexGeometry(3), 8).nbytes() / 8
    assert row.median == expected
    # board int8, labels int64, groups uint8 (cells + 1), to_move int8, moves int64
    assert expected == 9 + 9 * 8 + 10 + 1 + 8


def test_format_rows_shows_every_row(quick_rows: tuple[list[BenchRow], list[str]]) -> None:
    rows, _ = quick_rows
    table = format_rows(rows).splitlines()
    assert table[0].split()[:3] == ["measure", "size", "batch"]
    assert len(table) == len(rows) + 1
    for line, row in zip(table[1:], rows, strict=True):
        assert line.startswith(row.measure)
        assert row.unit in line


def test_time_repeats_sizes_each_repeat_to_the_target() -> None:
    clock = [0.0]
    calls: list[int] = []

    def work(iterations: int) -> None:
        calls.append(iterations)
        clock[0] += 0.01 * iterations  # every iteration takes 10 ms by this clock

    seconds = _bench_measures.time_repeats(
        work, "cpu", repeats=4, warmup=2, target_seconds=0.2, clock=lambda: clock[0]
    )
    assert seconds == pytest.approx([0.01] * 4)
    assert calls == [1, 1, 1, 20, 20, 20, 20]  # two warm-ups, one sizing call, four repeats


def test_measures_can_be_chosen() -> None:
    rows = run_bench(quick=True, repeats=1, warmup=0, measures=["state"], sizes=[2, 4])
    assert {row.measure for row in rows} <= {"state_bytes", "tree_bytes"}
    assert [row.size for row in rows if row.measure == "state_bytes"] == [2, 4]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"measures": ["env", "nope"]}, "nope"),
        ({"sizes": [1]}, "sizes"),
        ({"batches": []}, "batches"),
        ({"repeats": 0}, "repeats"),
        ({"device": "nonsense"}, "nonsense"),
    ],
)
def test_bad_settings_raise_one_clear_error(settings: dict[str, Any], named: str) -> None:
    with pytest.raises(BenchSettingsError, match=named):
        run_bench(quick=True, **settings)


def test_threads_are_set_for_the_run_and_restored_after() -> None:
    before = torch.get_num_threads()
    rows = run_bench(quick=True, repeats=1, warmup=0, measures=["env"], threads=2, **TINY)
    assert [row.threads for row in rows] == [2]
    assert torch.get_num_threads() == before
    rows = run_bench(quick=True, repeats=1, warmup=0, measures=["env"], **TINY)
    assert [row.threads for row in rows] == [before]


def test_bench_command_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bench.json"
    argv = ["--quick", "--sizes", "3", "--batches", "8", "--measures", "env,state"]
    status = bench_command([*argv, "--repeats", "2", "--warmup", "0", "--json", str(path)])
    assert status == 0
    found = json.loads(path.read_text())
    assert {row["measure"] for row in found["rows"]} >= {"env_steps", "state_bytes"}
    for row in found["rows"]:
        assert set(row) == set(BenchRow.__dataclass_fields__)
        assert row["low"] <= row["median"] <= row["high"]
    assert found["plan"]["env_sizes"] == [3]
    assert found["plan"] == bench_plan(quick=True, sizes=[3], batches=[8])
    assert found["settings"]["repeats"] == 2
    assert "env_steps" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["--sizes", "5,x"],
        ["--sizes", "1"],
        ["--batches", ","],
        ["--measures", "env,nope"],
        ["--repeats", "0"],
        ["--json", "/no/such/folder/out.json"],
        ["--frobnicate"],
    ],
)
def test_bad_arguments_are_one_line_and_status_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = bench_command(["--quick", "--measures", "state", *argv])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("rl bench: error: ")


def test_measure_names_are_the_documented_groups() -> None:
    assert tuple(_bench_measures.GROUPS) == MEASURES


def test_importing_bench_pulls_in_no_torch() -> None:
    code = "import sys, overseer_rlbench.bench; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.gpu
def test_quick_rows_on_cuda_are_well_formed() -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    rows = run_bench("cuda", quick=True, repeats=2, warmup=0, target_seconds=0.005, **TINY)
    assert {"env_steps", "search_sims", "learner_samples", "arena_games"} <= {
        row.measure for row in rows
    }
    for row in rows:
        assert row.device.startswith("cuda")
        assert row.threads is None
        assert 0 < row.low <= row.median <= row.high, row
