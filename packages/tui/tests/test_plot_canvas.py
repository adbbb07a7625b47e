"""The braille renderer draws what a person expects to see, and fast.

Golden grids live in ``golden/plot_<case>.txt``: the characters, a blank line, then one
character per cell for its colour (``.`` none, ``0``-``7`` a palette colour, ``a``-``h`` a
faint one). After a deliberate change to the drawing, rewrite them with
``OVERSEER_TUI_WRITE_GOLDEN=1 python -m pytest packages/tui/tests/test_plot_canvas.py`` and
look at every diff before committing it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from overseer_tui.plot_canvas import (
    NO_DATA,
    PlotGrid,
    PlotLine,
    data_ranges,
    log_ticks,
    nice_ticks,
    render_plot,
    time_ticks,
)

GOLDEN = Path(__file__).parent / "golden"
WIDTH, HEIGHT = 40, 12


def draw(
    lines: list[PlotLine],
    width: int = WIDTH,
    height: int = HEIGHT,
    *,
    log_y: bool = False,
    time_axis: bool = False,
    x_label: str = "",
) -> PlotGrid:
    """``lines`` drawn over their own data ranges."""
    x_range, y_range = data_ranges(lines, log_y=log_y)
    return render_plot(
        lines,
        width,
        height,
        x_range=x_range,
        y_range=y_range,
        log_y=log_y,
        time_axis=time_axis,
        x_label=x_label,
    )


def as_text(grid: PlotGrid) -> str:
    def cell(color: int | None) -> str:
        if color is None:
            return "."
        return str(color) if color >= 0 else "abcdefgh"[-1 - color]

    colors = ["".join(cell(color) for color in row) for row in grid.colors]
    return "\n".join([*grid.chars, "", *colors]) + "\n"


def two_waves() -> list[PlotLine]:
    xs = np.arange(40.0)
    return [
        PlotLine(xs=xs, ys=np.sin(xs / 4), color=0),
        PlotLine(xs=xs, ys=np.cos(xs / 4), color=1),
    ]


def nan_gap() -> list[PlotLine]:
    ys = np.linspace(0.0, 10.0, 30)
    ys[12:17] = np.nan
    return [PlotLine(xs=np.arange(30.0), ys=ys, color=2)]


CASES: dict[str, Callable[[], PlotGrid]] = {
    "straight": lambda: draw([PlotLine(xs=[0, 100], ys=[0.0, 1.0], color=0)]),
    "sine": lambda: draw([PlotLine(xs=np.arange(60.0), ys=np.sin(np.arange(60.0) / 6), color=3)]),
    "two_lines": lambda: draw(two_waves()),
    "log_y": lambda: draw(
        [PlotLine(xs=np.arange(50.0), ys=10.0 ** (np.arange(50.0) / 10), color=4)], log_y=True
    ),
    "nan_gap": lambda: draw(nan_gap(), time_axis=True),
    "empty": lambda: render_plot([], WIDTH, HEIGHT, x_range=(0.0, 1.0), y_range=(0.0, 1.0)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_grid_matches_the_golden_drawing(case: str) -> None:
    text = as_text(CASES[case]())
    path = GOLDEN / f"plot_{case}.txt"
    if os.environ.get("OVERSEER_TUI_WRITE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_row_is_exactly_as_wide_as_the_grid(case: str) -> None:
    grid = CASES[case]()
    assert len(grid.chars) == len(grid.colors) == HEIGHT
    assert {len(row) for row in grid.chars} == {WIDTH}
    assert {len(row) for row in grid.colors} == {WIDTH}


def plot_cells(grid: PlotGrid) -> list[str]:
    """The plot area only: the rows above the x axis, right of the y axis."""
    axis_column = grid.chars[-2].index("└")
    return [row[axis_column + 1 :] for row in grid.chars[:-2]]


def test_a_rising_line_climbs_from_bottom_left_to_top_right() -> None:
    cells = plot_cells(draw([PlotLine(xs=[0, 1], ys=[0.0, 1.0], color=0)]))
    assert cells[-1][0] != " "
    assert cells[0][0] == " "
    assert cells[0][-1] != " "
    assert cells[-1][-1] == " "
    # Joined: every column of the plot area has a dot.
    assert all(any(row[column] != " " for row in cells) for column in range(len(cells[0])))


def test_the_later_line_wins_a_shared_cell() -> None:
    line = PlotLine(xs=[0, 1], ys=[0.0, 1.0], color=0)
    grid = draw([line, PlotLine(xs=line.xs, ys=line.ys, color=5)])
    colors = {color for row in grid.colors for color in row} - {None}
    assert colors == {5}


def test_a_faint_line_never_covers_a_plain_one() -> None:
    plain = PlotLine(xs=[0, 1], ys=[0.0, 1.0], color=2)
    faint = PlotLine(xs=[0, 1], ys=[0.0, 1.0], color=6, faint=True)
    after = {c for row in draw([plain, faint]).colors for c in row} - {None}
    before = {c for row in draw([faint, plain]).colors for c in row} - {None}
    assert after == before == {2}
    alone = {c for row in draw([faint]).colors for c in row} - {None}
    assert alone == {-1 - 6}


def test_non_finite_values_break_the_line() -> None:
    xs = np.arange(21.0)
    whole = plot_cells(draw([PlotLine(xs=xs, ys=np.ones(21), color=0)]))
    ys = np.ones(21)
    ys[8:13] = [np.nan, np.inf, np.nan, -np.inf, np.nan]
    broken = plot_cells(draw([PlotLine(xs=xs, ys=ys, color=0)]))
    middle = len(whole[0]) // 2
    assert any(row[middle] != " " for row in whole)
    assert all(row[middle] == " " for row in broken)
    assert any(row[0] != " " for row in broken)
    assert any(row[-1] != " " for row in broken)


def test_log_scale_ticks_are_powers_of_ten_and_non_positive_values_break() -> None:
    ys = np.array([1.0, 10.0, 0.0, -5.0, 100.0, 1000.0])
    grid = draw([PlotLine(xs=np.arange(6.0), ys=ys, color=0)], log_y=True)
    labels = {row.split("┤")[0].strip() for row in grid.chars if "┤" in row}
    assert labels <= {"1", "10", "100", "1000"}
    assert len(labels) >= 2
    cells = plot_cells(grid)
    gap = len(cells[0]) // 2  # x = 2.5, between the points 0 and -5
    assert all(row[gap] == " " for row in cells)


def test_empty_input_shows_the_axes_and_a_centred_no_data() -> None:
    grid = render_plot([], 30, 9, x_range=(0.0, 1.0), y_range=(0.0, 1.0))
    middle = grid.chars[(9 - 2) // 2]
    assert middle.strip("│ ") == NO_DATA
    left, right = middle[1:].split(NO_DATA)
    assert abs(len(left) - len(right)) <= 1
    assert grid.chars[-2].startswith("└─")
    assert all(row.startswith("│") for row in grid.chars[:-2])
    # An all-NaN line is no data either.
    nan_line = PlotLine(xs=[0.0, 1.0], ys=[math.nan, math.nan], color=0)
    assert NO_DATA in render_plot([nan_line], 30, 9, x_range=(0, 1), y_range=(0, 1)).text()


def test_y_labels_are_right_aligned_against_the_axis() -> None:
    grid = draw([PlotLine(xs=[0, 1], ys=[-1000.0, 1000.0], color=0)])
    tick_rows = [row for row in grid.chars if "┤" in row]
    assert len({row.index("┤") for row in tick_rows}) == 1
    assert any(row.startswith("-1000┤") for row in tick_rows)


def test_x_ticks_are_durations_on_a_time_axis_and_the_label_sits_at_the_right() -> None:
    line = PlotLine(xs=[0.0, 600.0], ys=[0.0, 1.0], color=0)
    grid = draw([line], width=60, time_axis=True, x_label="time")
    assert grid.chars[-1].endswith("time")
    assert "8m00s" in grid.chars[-1]
    assert "10m00s" not in grid.chars[-1]  # it would run into "time"
    assert "┬" in grid.chars[-2]


def test_points_outside_the_window_are_clipped_not_wrapped() -> None:
    line = PlotLine(xs=[-1000.0, 1000.0], ys=[-1000.0, 1000.0], color=0)
    grid = render_plot([line], 20, 8, x_range=(-1.0, 1.0), y_range=(-1.0, 1.0))
    cells = plot_cells(grid)
    assert cells[0][-1] != " "
    assert cells[-1][0] != " "
    huge = PlotLine(xs=[0.0, 1.0, 2.0], ys=[1e300, -1e300, 1.0], color=0)
    assert len(render_plot([huge], 20, 8, x_range=(0, 2), y_range=(0, 2)).chars) == 8


def test_one_point_is_a_dot_in_the_middle() -> None:
    grid = draw([PlotLine(xs=[5.0], ys=[3.0], color=1)], width=21, height=11)
    dotted = [
        (row, column)
        for row, text in enumerate(plot_cells(grid))
        for column, char in enumerate(text)
        if char != " "
    ]
    assert len(dotted) == 1


def test_too_small_a_grid_is_blank_but_the_right_size() -> None:
    for width, height in ((3, 10), (20, 2), (0, 0)):
        grid = render_plot(
            [PlotLine(xs=[0, 1], ys=[0, 1], color=0)], width, height, x_range=(0, 1), y_range=(0, 1)
        )
        assert len(grid.chars) == height
        assert all(row == " " * width for row in grid.chars)


def test_ticks_are_one_two_or_five_times_a_power_of_ten() -> None:
    assert nice_ticks(0.0, 1.0, 5) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(-3.7, 12.2, 3) == [0.0, 5.0, 10.0]
    assert nice_ticks(0.00031, 0.00049, 2) == [0.00035, 0.0004, 0.00045]  # one is too few
    for low, high in ((0.1, 0.13), (17.0, 9500.0), (-2e-7, 5e-7), (1e6, 1.3e6)):
        ticks = nice_ticks(low, high, 4)
        assert len(ticks) >= 2
        assert all(low <= tick <= high for tick in ticks)
        step = ticks[1] - ticks[0]
        mantissa = step / 10 ** math.floor(math.log10(step))
        assert round(mantissa, 6) in (1.0, 2.0, 5.0)
    assert nice_ticks(1.0, 1.0, 4) == []


def test_time_ticks_use_clock_steps() -> None:
    assert time_ticks(0.0, 600.0, 2) == [0.0, 300.0, 600.0]
    assert time_ticks(0.0, 100.0, 4) == [0.0, 30.0, 60.0, 90.0]
    assert time_ticks(0.0, 7 * 3600.0, 3) == [0.0, 7200.0, 14400.0, 21600.0]
    assert time_ticks(0.0, 10 * 86400.0, 5) == [day * 172800.0 for day in range(6)]


def test_log_ticks_thin_out_many_decades_and_fall_back_within_one() -> None:
    assert log_ticks(0.5, 2000.0, 5) == [1.0, 10.0, 100.0, 1000.0]
    assert log_ticks(1e-6, 1e6, 3) == [1e-5, 1.0, 1e5]
    assert log_ticks(2.0, 8.0, 3) == [2.0, 4.0, 6.0, 8.0]


def test_data_ranges_pad_y_and_skip_what_cannot_be_drawn() -> None:
    line = PlotLine(xs=[0.0, 10.0, 20.0], ys=[0.0, math.nan, 100.0], color=0)
    assert data_ranges([line]) == ((0.0, 20.0), (-5.0, 105.0))
    log_line = PlotLine(xs=[0.0, 1.0, 2.0], ys=[-1.0, 1.0, 100.0], color=0)
    x_range, (low, high) = data_ranges([log_line], log_y=True)
    assert x_range == (1.0, 2.0)
    assert low == pytest.approx(10**-0.1)
    assert high == pytest.approx(10**2.1)
    assert data_ranges([]) == ((0.0, 1.0), (0.0, 1.0))
    flat = data_ranges([PlotLine(xs=[0.0, 1.0], ys=[5.0, 5.0], color=0)])[1]
    assert flat == (4.5, 5.5)


def test_many_points_cost_little_more_than_a_few() -> None:
    random = np.random.default_rng(0)

    def lines(count: int) -> list[PlotLine]:
        xs = np.arange(float(count))
        walk = np.cumsum(random.normal(size=count)) + 5 * random.normal(size=count)
        return [PlotLine(xs=xs, ys=walk, color=0), PlotLine(xs=xs, ys=-walk, color=1)]

    def best_time(lines: list[PlotLine]) -> float:
        x_range, y_range = data_ranges(lines)
        times = []
        for _ in range(7):
            started = time.perf_counter()
            render_plot(lines, 200, 50, x_range=x_range, y_range=y_range)
            times.append(time.perf_counter() - started)
        return min(times)

    few, many = best_time(lines(10)), best_time(lines(1000))
    # A Python loop per point would make this ~100x; the numpy drawing stays within a few x.
    assert many < 20 * few


def test_importing_the_renderer_pulls_in_no_terminal_library() -> None:
    code = (
        "import sys, overseer_tui.plot_canvas\n"
        "print(sorted(m for m in ('textual', 'rich', 'numpy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
