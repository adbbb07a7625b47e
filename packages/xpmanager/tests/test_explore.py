"""Launcher and Explorer: what a grid file's calls turn into (command lines, settings, arrays)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from overseer_xpmanager import Explorer, Launcher
from overseer_xpmanager.errors import ArgumentError
from overseer_xpmanager.explore import SLURM_SETTINGS
from overseer_xpmanager.main import ArgparseMain, argparse_main


def make_main(folder: Path) -> ArgparseMain:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True)

    @argparse_main(dir=folder, parser=parser)
    def main() -> None:
        pass

    return main


@pytest.fixture
def main(tmp_path: Path) -> ArgparseMain:
    return make_main(tmp_path / "outputs")


@pytest.fixture
def launcher(main: ArgparseMain) -> Launcher:
    return Launcher(main)


def argvs(launcher: Launcher) -> list[list[str]]:
    return [launch.argv for launch in launcher.launches]


def test_a_call_records_the_bound_arguments_plus_its_own(launcher: Launcher) -> None:
    sub = launcher.bind(lr=0.01)
    sub()
    sub(batch_size=64)
    launcher()
    assert argvs(launcher) == [["--lr=0.01"], ["--lr=0.01", "--batch_size=64"], []]


def test_bind_leaves_the_launcher_as_it_was_and_bind_changes_it(launcher: Launcher) -> None:
    copy = launcher.bind(epochs=4)
    assert launcher.bind_(seed=1) is launcher
    launcher()
    copy()
    assert argvs(launcher) == [["--seed=1"], ["--epochs=4"]]


def test_dicts_and_keywords_merge_and_the_later_value_wins(launcher: Launcher) -> None:
    launcher.bind_({"lr": 0.5, "epochs": 2}, epochs=3)
    launcher({"lr": 0.25})
    assert argvs(launcher) == [["--lr=0.25", "--epochs=3"]]


def test_strings_and_lists_pass_through_as_command_line_items(launcher: Launcher) -> None:
    launcher.bind_("--fast", ["--seed=3", {"epochs": 1}])
    launcher("--lr=0.2")
    assert argvs(launcher) == [["--fast", "--seed=3", "--lr=0.2", "--epochs=1"]]


def test_an_argument_that_is_not_a_string_dict_or_list_is_refused(launcher: Launcher) -> None:
    with pytest.raises(ArgumentError, match="strings, dicts or lists of them, not int 3"):
        launcher.bind(3)


def test_false_flags_render_as_the_parser_reads_them(
    main: ArgparseMain, launcher: Launcher
) -> None:
    launcher(fast=False, amp=False)
    launcher(fast=True, amp=True)
    assert argvs(launcher) == [["--no-amp"], ["--fast", "--amp"]]
    off, on = (main.definition(argv) for argv in argvs(launcher))
    assert off.delta == {"amp": False}
    assert on.delta == {"fast": True}


def test_slurm_copies_and_slurm_sets_in_place(launcher: Launcher) -> None:
    big = launcher.slurm(gpus=8)
    assert launcher.slurm_(partition="debug", gpus=1) is launcher
    launcher()
    big()
    assert [launch.settings for launch in launcher.launches] == [
        {"partition": "debug", "gpus": 1},
        {"gpus": 8},
    ]


def test_settings_changed_later_do_not_touch_earlier_launches(launcher: Launcher) -> None:
    launcher.slurm_(gpus=1)
    launcher()
    launcher.slurm_(gpus=4)
    launcher(seed=1)
    assert [launch.settings["gpus"] for launch in launcher.launches] == [1, 4]


def test_an_unknown_setting_is_refused_with_the_known_ones(launcher: Launcher) -> None:
    with pytest.raises(ArgumentError) as caught:
        launcher.slurm(gpu=2)
    message = str(caught.value)
    assert "unknown job setting gpu" in message
    assert all(name in message for name in SLURM_SETTINGS)


def test_the_settings_are_those_the_slurm_executor_takes() -> None:
    from overseer_xpmanager.executor_slurm import SETTINGS

    assert set(SLURM_SETTINGS) == SETTINGS


def test_launches_in_a_job_array_share_an_array_index(launcher: Launcher) -> None:
    launcher()
    with launcher.job_array():
        for seed in range(1, 3):
            launcher(seed=seed)
    with launcher.slurm(gpus=2).job_array():
        launcher.slurm(gpus=2)(seed=5)
    launcher(seed=6)
    assert [launch.array for launch in launcher.launches] == [None, 0, 0, 1, None]


def test_job_arrays_do_not_nest(launcher: Launcher) -> None:
    with launcher.job_array(), pytest.raises(ArgumentError, match="cannot be nested"):
        launcher.job_array().__enter__()


def test_an_array_runs_with_one_set_of_settings(launcher: Launcher) -> None:
    with launcher.job_array(), pytest.raises(ArgumentError, match="differ from those"):
        launcher.slurm(gpus=2)()
    launcher.slurm(gpus=2)()  # the block has closed: settings are free again
    assert launcher.launches[-1].array is None


def test_the_grid_of_the_documentation(launcher: Launcher) -> None:
    @Explorer
    def explorer(launcher: Launcher) -> None:
        launcher.slurm_(gpus=2, partition="debug")
        launcher.bind_({"epochs": 4})
        for lr in [0.1, 0.01]:
            sub = launcher.bind(lr=lr)
            sub()
            sub(batch_size=64)
        with launcher.job_array():
            for seed in range(3):
                launcher(seed=seed)

    explorer(launcher)
    assert argvs(launcher)[:2] == [
        ["--epochs=4", "--lr=0.1"],
        ["--epochs=4", "--lr=0.1", "--batch_size=64"],
    ]
    assert len(launcher.launches) == 7
    assert all(launch.settings == {"gpus": 2, "partition": "debug"} for launch in launcher.launches)
    assert [launch.array for launch in launcher.launches][-3:] == [0, 0, 0]


def test_an_explorer_subclass_chooses_metrics_and_processes_the_history() -> None:
    class Sweep(Explorer):
        def get_grid_metrics(self) -> list[Any]:
            return ["best", ("last", ".2f")]

        def process_history(self, history: list[dict[str, Any]]) -> dict[str, Any]:
            losses = [entry["loss"] for entry in history]
            return {"best": min(losses), "last": losses[-1]}

    calls: list[Launcher] = []

    @Sweep
    def explorer(launcher: Launcher) -> None:
        calls.append(launcher)

    assert isinstance(explorer, Sweep)
    assert explorer.get_grid_metrics() == ["best", ("last", ".2f")]
    assert explorer.process_history([{"loss": 2.0}, {"loss": 1.0}, {"loss": 1.5}]) == {
        "best": 1.0,
        "last": 1.5,
    }
    explorer(launcher := Launcher(make_main(Path("unused"))))
    assert calls == [launcher]
    assert explorer.name.endswith("explorer")


def test_the_default_history_is_every_entry_merged_and_flattened() -> None:
    explorer = Explorer(lambda launcher: None)
    assert explorer.get_grid_metrics() == []
    history = [{"train": {"loss": 2}, "lr": 0.1}, {"train": {"loss": 1}, "valid": {"acc": 0.5}}]
    assert explorer.process_history(history) == {
        "epoch": 2,
        "train.loss": 1,
        "lr": 0.1,
        "valid.acc": 0.5,
    }
    assert explorer.process_history([{"epoch": 7}]) == {"epoch": 7}
