"""Finding the project package, its decorated main and its grid files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from overseer_xpmanager.errors import GridError, ProjectError
from overseer_xpmanager.explore import Launcher
from overseer_xpmanager.main import DecoratedMain
from overseer_xpmanager.project import find_package, grid_names, load_explorer, load_main


@pytest.fixture(autouse=True)
def _restore_sys_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("OVERSEER_XP_PACKAGE", raising=False)
    monkeypatch.delenv("DORA_PACKAGE", raising=False)


def make_package(root: Path, name: str, files: dict[str, str]) -> Path:
    """Write package ``name`` under ``root``: ``{relative path: source}``."""
    (root / name).mkdir()
    (root / name / "__init__.py").write_text("")
    for relative, source in files.items():
        path = root / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root / name


def test_the_only_folder_with_a_train_module_is_the_package(tmp_path: Path) -> None:
    make_package(tmp_path, "solo", {"train.py": ""})
    (tmp_path / "data").mkdir()
    assert find_package(None, tmp_path) == "solo"
    assert str(tmp_path.resolve()) in sys.path


def test_an_explicit_or_environment_package_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert find_package("mine", tmp_path) == "mine"
    monkeypatch.setenv("DORA_PACKAGE", "dora_named")
    assert find_package(None, tmp_path) == "dora_named"
    monkeypatch.setenv("OVERSEER_XP_PACKAGE", "named")
    assert find_package(None, tmp_path) == "named"
    assert find_package("mine", tmp_path) == "mine"


def test_no_package_or_several_say_how_to_name_one(tmp_path: Path, projects: Path) -> None:
    with pytest.raises(ProjectError, match=r"no project package found in .*: pass -P PACKAGE"):
        find_package(None, tmp_path)
    with pytest.raises(ProjectError, match=r"several project packages .*argproj, .*hydraproj"):
        find_package(None, projects)


def test_the_decorated_mains_of_the_test_projects_load(xp_env: Path) -> None:
    argproj = load_main("argproj")
    assert isinstance(argproj, DecoratedMain)
    assert (argproj.package, argproj.backend) == ("argproj", "argparse")
    assert load_main("hydraproj").backend == "hydra"


def test_a_missing_or_broken_main_is_a_one_line_project_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_package(tmp_path, "plainmain", {"train.py": "def main():\n    pass\n"})
    make_package(tmp_path, "nomain", {"train.py": "x = 1\n"})
    make_package(tmp_path, "brokenmain", {"train.py": "import no_such_module_here\n"})
    with pytest.raises(ProjectError, match="main is a function: decorate"):
        load_main("plainmain")
    with pytest.raises(ProjectError, match=r"nomain\.train defines no main"):
        load_main("nomain")
    with pytest.raises(ProjectError, match=r"no module absent\.train .*pass -P PACKAGE"):
        load_main("absent")
    with pytest.raises(ProjectError) as raised:
        load_main("brokenmain")
    assert "raised ModuleNotFoundError: No module named 'no_such_module_here'" in str(raised.value)
    assert "Traceback" in raised.value.details


def test_the_grid_of_argproj_loads_and_asks_for_its_xps(xp_env: Path) -> None:
    assert grid_names("argproj") == ["arrays", "basic", "broken"]
    main = load_main("argproj")
    launcher = Launcher(main)
    load_explorer("argproj", "basic")(launcher)
    argvs = [launch.argv for launch in launcher.launches]
    assert argvs == [
        ["--epochs=2", "--lr=0.1"],
        ["--epochs=2", "--lr=0.01"],
        ["--epochs=2", "--lr=0.001", "--fast"],
    ]
    assert len({main.definition(argv).sig for argv in argvs}) == 3


def test_a_grid_file_that_raises_is_a_grid_error_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    grids = {"grids/__init__.py": "", "grids/bad.py": "raise ValueError('no such size')\n"}
    make_package(tmp_path, "badgrid", {"train.py": "", **grids})
    with pytest.raises(GridError) as raised:
        load_explorer("badgrid", "bad")
    message = (
        "grid file badgrid/grids/bad.py raised ValueError: no such size; nothing was scheduled"
    )
    assert str(raised.value) == message
    assert "Traceback" in raised.value.details
    assert "no such size" in raised.value.details


def test_a_missing_grid_or_explorer_is_a_project_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    grids = {"grids/__init__.py": "", "grids/empty.py": "x = 1\n", "grids/_helpers.py": ""}
    make_package(tmp_path, "gridless", {"train.py": "", **grids})
    with pytest.raises(
        ProjectError, match=r"no grid 'sweep' in gridless: .*grids of gridless: empty"
    ):
        load_explorer("gridless", "sweep")
    with pytest.raises(ProjectError, match="defines no explorer"):
        load_explorer("gridless", "empty")
    assert grid_names("gridless") == ["empty"]
    assert grid_names("nogrids_at_all") == []


def test_a_grid_file_is_read_again_when_loaded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    grid = "def explorer(launcher):\n    return {}\n"
    package = make_package(
        tmp_path, "editedgrid", {"grids/__init__.py": "", "grids/g.py": grid.format(1)}
    )
    assert load_explorer("editedgrid", "g")(None) == 1
    (package / "grids" / "g.py").write_text(grid.format(1000))
    assert load_explorer("editedgrid", "g")(None) == 1000


def test_the_main_module_may_be_other_than_train(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    source = (
        "import argparse\n"
        "from overseer_xpmanager import argparse_main\n"
        "@argparse_main(dir='out', parser=argparse.ArgumentParser())\n"
        "def main():\n"
        "    pass\n"
    )
    make_package(tmp_path, "solverproj", {"solver.py": source})
    assert find_package(None, tmp_path, main_module="solver") == "solverproj"
    assert load_main("solverproj", main_module="solver").module == "solverproj.solver"
