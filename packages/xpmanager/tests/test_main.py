"""The argparse decorated main: signatures, the run, launcher arguments, errors."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from overseer_xpmanager import argparse_main, get_xp
from overseer_xpmanager.errors import ArgumentError, XPManagerError
from overseer_xpmanager.main import ArgparseMain
from overseer_xpmanager.store import Store


def train(*argv: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m argproj.train ARGV`` as a project's user does."""
    return subprocess.run(
        [sys.executable, "-m", "argproj.train", *argv],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def main(xp_env: Path) -> ArgparseMain:
    module = importlib.import_module("argproj.train")
    result: ArgparseMain = module.main
    return result


def test_a_run_makes_the_xp_folder_with_its_definition_and_history(
    xp_env: Path, tmp_path: Path
) -> None:
    done = train("--lr=0.01", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [xp] = Store(xp_env).xps()
    assert xp.argv == ["--lr=0.01"]
    assert xp.delta == {"lr": 0.01}
    assert (xp.package, xp.backend) == ("argproj", "argparse")
    assert [entry["epoch"] for entry in xp.link.history] == [0, 1, 2]
    assert f"done {xp.sig}" in done.stdout


def test_the_same_arguments_twice_are_one_xp_that_resumes(xp_env: Path, tmp_path: Path) -> None:
    train("--lr=0.01", "--epochs=2", cwd=tmp_path)
    again = train("--epochs=2", "--lr=0.01", cwd=tmp_path)
    [xp] = Store(xp_env).xps()
    assert "resuming from epoch 2" in again.stdout
    assert len(xp.link.history) == 2


def test_an_excluded_argument_does_not_make_another_xp(xp_env: Path, tmp_path: Path) -> None:
    assert train("--epochs=1", cwd=tmp_path).returncode == 0
    assert train("--epochs=1", "--num_workers=8", cwd=tmp_path).returncode == 0
    [xp] = Store(xp_env).xps()
    assert "num_workers" not in xp.config


def test_a_crash_exits_non_zero_after_its_first_epoch(xp_env: Path, tmp_path: Path) -> None:
    done = train("--crash", cwd=tmp_path)
    assert done.returncode == 3
    assert len(Store(xp_env).xps()[0].link.history) == 1


def test_an_unknown_argument_is_one_line_naming_it_and_nothing_is_made(
    xp_env: Path, tmp_path: Path
) -> None:
    done = train("--lrr=0.01", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--lrr=0.01" in done.stderr
    assert "did you mean --lr?" in done.stderr
    assert Store(xp_env).xps() == []


def test_help_prints_the_parser_help(xp_env: Path, tmp_path: Path) -> None:
    done = train("--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "--batch_size" in done.stdout


def test_a_run_started_as_another_signature_stops_with_one_line(
    xp_env: Path, tmp_path: Path, main: ArgparseMain
) -> None:
    wrong = train("--lr=0.01", cwd=tmp_path, OVERSEER_XP_SIG="0123456789ab")
    assert wrong.returncode == 2
    assert wrong.stderr.count("\n") == 1
    assert "0123456789ab" in wrong.stderr
    sig = main.definition(["--lr=0.01"]).sig
    assert train("--lr=0.01", cwd=tmp_path, OVERSEER_XP_SIG=sig).returncode == 0


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (["--lr=0.01", "--epochs=5"], ["--epochs=5", "--lr=0.01"]),
        (["--lr=0.01", "--epochs=5"], ["--epochs", "5", "--lr", "0.010"]),
        (["--lr=0.1"], []),
        (["--epochs=3"], []),
        (["--num_workers=16"], []),
    ],
)
def test_signatures_depend_on_values_not_on_spelling(
    main: ArgparseMain, first: list[str], second: list[str]
) -> None:
    assert main.definition(first).sig == main.definition(second).sig


def test_each_changed_value_makes_another_signature(main: ArgparseMain) -> None:
    argvs = [[], ["--fast"], ["--lr=0.01"], ["--lr=0.02"], ["--epochs=4"], ["--batch_size=8"]]
    assert len({main.definition(argv).sig for argv in argvs}) == len(argvs)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--lrr=0.1"], "did you mean --lr?"),
        (["--lr=abc"], "invalid float value: 'abc'"),
        (["--lr"], "expected one argument"),
        (["extra"], "does not accept extra"),
        (["--help"], "not an argument of an XP"),
    ],
)
def test_bad_arguments_raise_one_line_errors(
    main: ArgparseMain, argv: list[str], expected: str
) -> None:
    with pytest.raises(ArgumentError) as raised:
        main.definition(argv)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("args", "kwargs", "argv"),
    [
        ((), {"fast": False}, []),
        ((), {"fast": True}, ["--fast"]),
        ((), {"lr": 0.01, "batch_size": 8}, ["--lr=0.01", "--batch_size=8"]),
        (("--fast", {"epochs": 2}), {}, ["--fast", "--epochs=2"]),
        ((["--fast", {"lr": 1e-05}],), {}, ["--fast", "--lr=1e-05"]),
    ],
)
def test_launcher_calls_become_the_parser_command_line(
    main: ArgparseMain, args: tuple[Any, ...], kwargs: dict[str, Any], argv: list[str]
) -> None:
    assert main.argv_for(args, kwargs) == argv
    main.definition(argv)  # the parser accepts it


def test_a_flag_given_false_names_the_default_xp(main: ArgparseMain) -> None:
    argv = main.argv_for((), {"fast": False, "lr": 0.1})
    assert main.definition(argv).sig == main.definition([]).sig


def test_an_unknown_launcher_name_suggests_the_close_ones(main: ArgparseMain) -> None:
    with pytest.raises(ArgumentError, match="did you mean batch_size"):
        main.argv_for((), {"batch_sise": 4})


def richer_main(tmp_path: Path) -> ArgparseMain:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cuda", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1])
    parser.add_argument("--tag", action="append", default=[])
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--no-shuffle", dest="shuffle", action="store_false")
    return argparse_main(dir=tmp_path, parser=parser, use_underscore=False)(lambda: None)


@pytest.mark.parametrize(
    ("kwargs", "argv"),
    [
        ({"cuda": False}, ["--no-cuda"]),
        ({"cuda": True}, ["--cuda"]),
        ({"batch_size": 4}, ["--batch-size=4"]),
        ({"batch-size": 4}, ["--batch-size=4"]),
        ({"sizes": [2, 3]}, ["--sizes", "2", "3"]),
        ({"tag": ["a", "b"]}, ["--tag=a", "--tag=b"]),
        ({"verbose": 2}, ["--verbose", "--verbose"]),
        ({"shuffle": False}, ["--no-shuffle"]),
        ({"shuffle": True}, []),
    ],
)
def test_each_kind_of_option_is_written_as_the_parser_reads_it(
    tmp_path: Path, kwargs: dict[str, Any], argv: list[str]
) -> None:
    main = richer_main(tmp_path)
    assert main.argv_for(["set.csv"], kwargs) == ["set.csv", *argv]
    config = main.definition(["set.csv", *argv]).config
    for name, value in kwargs.items():
        assert config[name.replace("-", "_")] == value


def test_required_positionals_take_their_defaults_from_the_parser(tmp_path: Path) -> None:
    main = richer_main(tmp_path)
    assert main.definition(["set.csv"]).delta == {"data": "set.csv"}
    assert main.definition(["set.csv", "--batch-size=32"]).delta == {"data": "set.csv"}


def test_the_store_is_dir_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OVERSEER_XP_DIR", raising=False)
    main = richer_main(Path("runs"))
    monkeypatch.chdir(tmp_path)
    assert main.store().root == tmp_path / "runs"
    monkeypatch.setenv("OVERSEER_XP_DIR", str(tmp_path / "elsewhere"))
    assert main.store().root == tmp_path / "elsewhere"


def test_calling_the_main_sets_the_current_xp_then_clears_it(
    xp_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    seen: list[Any] = []

    @argparse_main(dir="unused", parser=parser)
    def main() -> str:
        seen.append(get_xp())
        return "result"

    monkeypatch.setattr(sys, "argv", ["train.py", "--lr=0.5"])
    assert main() == "result"
    [xp] = seen
    assert xp.cfg == argparse.Namespace(lr=0.5)
    assert xp.folder == xp_env / "xps" / xp.sig
    assert json.loads((xp.folder / "argv.json").read_text())["delta"] == {"lr": 0.5}
    with pytest.raises(XPManagerError, match="outside a decorated main"):
        get_xp()


def test_thousands_of_definitions_have_distinct_signatures(main: ArgparseMain) -> None:
    argvs = [main.argv_for((), {"lr": i / 1000, "epochs": i % 7}) for i in range(2000)]
    assert len({main.definition(argv).sig for argv in argvs}) == len(argvs)


def test_importing_the_mains_pulls_in_no_heavy_module(projects: Path) -> None:
    probe = (
        "import sys, json\n"
        "import overseer_xpmanager.main, overseer_xpmanager._hydra_main\n"
        "import overseer_xpmanager.project, overseer_xpmanager.distrib\n"
        "import argproj.train\n"
        "heavy = ('hydra', 'omegaconf', 'torch', 'submitit', 'rich')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(projects)}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == []
