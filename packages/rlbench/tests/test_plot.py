"""The frontier drawings: a real PNG file, and a character plot checked against a golden copy."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from overseer_rlbench.errors import MissingExtraError
from overseer_rlbench.frontier import FrontierError, FrontierFit, StudyPoint, fit_frontier
from overseer_rlbench.plot import plot_frontier, plot_frontier_text, size_marker

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# elo(C, n) = clamp(100 log10(C) - 100 n + 100, 0, 100 n): sizes 2 and 3.
HAND_FIT = FrontierFit(
    slope=100.0,
    offsets={2: -100.0, 3: -200.0},
    plateaus={2: 200.0, 3: 300.0},
    random_level=0.0,
    params={
        "slope": 100.0,
        "offset_per_size": -100.0,
        "offset_intercept": 100.0,
        "plateau_per_size": 100.0,
        "plateau_intercept": 0.0,
        "random_level": 0.0,
    },
    intervals={},
    n_bootstrap=0,
    n_points=8,
    rms_residual=0.0,
    per_size_linear=True,
)


def hand_points() -> list[StudyPoint]:
    ratings = {2: [(1, 0.0), (2, 100.0), (3, 200.0), (4, 190.0)]}
    ratings[3] = [(2, 0.0), (3, 100.0), (4, 200.0), (5, 300.0)]
    return [
        StudyPoint(size, 10.0**x, elo, elo - 10, elo + 10, f"{size}-{x}")
        for size, pairs in ratings.items()
        for x, elo in pairs
    ]


def test_the_character_plot_matches_its_golden_copy() -> None:
    golden = [
        " 300 |                               ..3",
        "     |                            ...   ",
        "     |                2........3........",
        "     |             ...     ....2        ",
        " 129 |         ....     ...             ",
        "     |      ..2     ..3.                ",
        "     |   ...    .....                   ",
        "   0 |2.......3.                        ",
        "     +----------------------------------",
        "      1e1                            1e5",
    ]
    assert plot_frontier_text(hand_points(), HAND_FIT, 40, 10) == golden


@pytest.mark.parametrize(("width", "height"), [(16, 5), (31, 7), (80, 24)])
def test_the_character_plot_fills_exactly_its_box(width: int, height: int) -> None:
    lines = plot_frontier_text(hand_points(), HAND_FIT, width, height)
    assert len(lines) == height
    assert all(len(line) == width for line in lines)
    drawn = "".join(lines)
    assert "2" in drawn
    assert "3" in drawn


def test_the_character_plot_refuses_a_box_too_small_or_nothing_to_draw() -> None:
    with pytest.raises(FrontierError, match="10 x 5 characters is too small"):
        plot_frontier_text(hand_points(), HAND_FIT, 10, 5)
    with pytest.raises(FrontierError, match="no study points"):
        plot_frontier_text([], HAND_FIT, 40, 10)


def test_size_markers_are_one_character_per_size() -> None:
    assert [size_marker(n) for n in (3, 9, 10, 13, 35, 36)] == ["3", "9", "A", "D", "Z", "#"]


def test_the_png_is_a_real_image_of_the_expected_size(tmp_path: Path) -> None:
    image = pytest.importorskip("matplotlib.image")
    points = hand_points()
    path = plot_frontier(points, fit_frontier(points, n_bootstrap=5), tmp_path / "out" / "f.png")
    assert path == tmp_path / "out" / "f.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = image.imread(path)
    assert pixels.shape == (500, 800, 4)
    # Not a blank canvas: the curves and points darken some pixels.
    assert float(pixels[..., :3].min()) < 0.5
    assert [entry.name for entry in path.parent.iterdir()] == ["f.png"]


def test_the_png_draws_points_without_a_fit_and_a_one_size_fit(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    points = hand_points()
    one_size = fit_frontier([p for p in points if p.size == 3], n_bootstrap=0, random_level=0.0)
    for name, fit in (("none.png", None), ("one.png", one_size)):
        path = plot_frontier(points, fit, tmp_path / name, title="a title")
        assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_the_png_without_matplotlib_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in sys.modules if name.partition(".")[0] == "matplotlib"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'overseer-rlbench\[plot\]'"):
        plot_frontier(hand_points(), HAND_FIT, tmp_path / "f.png")
    assert not (tmp_path / "f.png").exists()
