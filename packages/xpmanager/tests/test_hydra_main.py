"""The hydra decorated main: composed signatures, the run in the XP folder, overrides."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from overseer_xpmanager._hydra_main import HydraMain
from overseer_xpmanager._hydra_overrides import override_value, parse_override
from overseer_xpmanager.errors import ArgumentError
from overseer_xpmanager.store import Store


def train(*argv: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m hydraproj.train ARGV`` as a project's user does."""
    return subprocess.run(
        [sys.executable, "-m", "hydraproj.train", *argv],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def main(xp_env: Path) -> HydraMain:
    module = importlib.import_module("hydraproj.train")
    result: HydraMain = module.main
    return result


def test_a_run_happens_in_the_xp_folder(xp_env: Path, tmp_path: Path) -> None:
    done = train("model=large", "lr=0.01", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [xp] = Store(xp_env).xps()
    assert (xp.backend, xp.package, xp.argv) == ("hydra", "hydraproj", ["model=large", "lr=0.01"])
    assert xp.delta == {"lr": 0.01, "model.dim": 64, "model.layers": 4, "model.name": "large"}
    assert not any(key.startswith("dora") for key in xp.config)
    assert (xp.folder / "cwd.txt").read_text() == str(xp.folder)  # hydra.job.chdir: true
    assert (xp.folder / "output_dir.txt").read_text() == str(xp.folder)
    assert [entry["epoch"] for entry in xp.link.history] == [0, 1]


def test_a_grid_definition_is_the_xp_the_run_makes(
    xp_env: Path, tmp_path: Path, main: HydraMain
) -> None:
    for argv in (["lr=0.5", "model=large"], ["+extra=1", "~optim.momentum"]):
        sig = main.definition(argv).sig
        done = train(*argv, cwd=tmp_path, OVERSEER_XP_SIG=sig)
        assert done.returncode == 0, done.stderr
    assert len(Store(xp_env).xps()) == 2


def test_a_bad_override_is_one_line_and_makes_nothing(xp_env: Path, tmp_path: Path) -> None:
    done = train("lrr=1", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "did you mean lr?" in done.stderr
    assert Store(xp_env).xps() == []


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (["model=small"], []),
        (["lr=1"], ["lr=1.0"]),
        (["lr=0.5", "model=large"], ["model=large", "lr=0.5"]),
        (["num_workers=8"], []),
        (["dora.dir=elsewhere"], []),
        (["lr=0.1", "optim.name=sgd"], []),
        (["model.dim=64", "model=large"], ["model=large"]),
    ],
)
def test_signatures_depend_on_the_composed_configuration(
    main: HydraMain, first: list[str], second: list[str]
) -> None:
    assert main.definition(first).sig == main.definition(second).sig


def test_each_changed_value_makes_another_signature(main: HydraMain) -> None:
    argvs = [[], ["model=large"], ["lr=1"], ["lr=2"], ["optim.name=adam"], ["+extra=1"]]
    assert len({main.definition(argv).sig for argv in argvs}) == len(argvs)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["lrr=1"], "did you mean lr? to add a new key write +lrr=1"),
        (["model=medium"], "Could not find 'model/medium'"),
        (["lr=0.1,0.2"], "sweeps are not supported"),
        (["--cfg", "job"], "takes hydra overrides key=value"),
        (["lr=[1"], "cannot parse override"),
        (["+lr=1"], "+lr=1"),
    ],
)
def test_bad_overrides_raise_one_line_errors(
    main: HydraMain, argv: list[str], expected: str
) -> None:
    with pytest.raises(ArgumentError) as raised:
        main.definition(argv)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_settings_section_gives_dir_and_exclude(main: HydraMain) -> None:
    assert main.dir == Path("outputs")
    assert "num_workers" in main.exclude
    assert "model" in main.groups


def test_launcher_calls_become_overrides(main: HydraMain) -> None:
    argv = main.argv_for(["epochs=3"], {"model": "large", "lr": 0.01, "optim.name": "a b"})
    assert argv == ["epochs=3", "model=large", "lr=0.01", "optim.name='a b'"]
    assert main.definition(argv).config["optim.name"] == "a b"


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0.01,
        1e-05,
        -3,
        float("inf"),
        "adam",
        "a b",
        "true",
        "1",
        "it's",
        "back\\slash",
        "ends\\",
        "quote\\'d",
        "${lr}",
        "path/to-x.y",
        [1, "a b", [None]],
        {"x": 1, "y": ["z"]},
    ],
)
def test_override_values_read_back_unchanged(value: Any) -> None:
    assert parse_override(f"key={override_value(value)}").value() == value


def test_a_grid_of_definitions_has_distinct_signatures(main: HydraMain) -> None:
    argvs = [
        main.argv_for((), {"lr": i / 1000, "model": ("small", "large")[i % 2]}) for i in range(50)
    ]
    assert len({main.definition(argv).sig for argv in argvs}) == len(argvs)
