"""docs/tutorials/rl-benchmark.md runs as written and prints what it shows.

Its ```python blocks run in order in one namespace, with one torch thread; a ```text block
right after one is exactly what that block prints. A ```console block holds commands
(``$ suite rl ...``), each followed by what it prints on stdout: they run in order in one
fresh folder, as ``python -m overseer_suite rl ...`` with ``OMP_NUM_THREADS=1``, and every
line shown must be a line printed, in order.

Before the comparison, runs of spaces are squeezed (a table's columns are as wide as its
figures) and three things are placeholders, because they change from one run or machine
to the next: durations (``6.1 s``), the rates of ``rl bench`` (``449k [442k-480k]
steps/s``; sizes in bytes stay), and the Elo rating and interval of each row of a ratings
table, whose rows may then come in any order. The rest (counts, FLOPs, win shares, names)
is seeded and compared as printed.

A ```sh block takes minutes or a GPU: its commands are only parsed, by the real parsers. A
```text block that does not follow a ```python block shows what one run of the study
printed, and is not compared.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

DURATION = re.compile(r"\b\d+(?:\.\d+)? s\b")
NUMBER = r"-?\d+(?:\.\d+)?"
RATE = re.compile(rf"{NUMBER}[kMGT]? \[{NUMBER}[kMGT]?-{NUMBER}[kMGT]?\] (\S+/s)\b")
ELO_ROW = re.compile(rf"^(\S+) {NUMBER} \[{NUMBER}, {NUMBER}\]$")
RATED = " <elo> [<low>, <high>]"


def normalise(line: str) -> str:
    """The line with spaces squeezed, durations, rates and Elo ratings as placeholders."""
    line = re.sub(r"\s+", " ", line).strip()
    line = DURATION.sub("<duration>", line)
    line = RATE.sub(r"<rate> \1", line)
    return ELO_ROW.sub(rf"\1{RATED}", line)


def is_rating(line: str) -> bool:
    """Whether a normalised line is a row of a ratings table, whose rows come in any order."""
    return line.endswith(RATED)


@pytest.fixture
def page(tutorial: Any) -> Any:
    """The tutorial, whose shown lines are printed lines, a ratings table's in any order."""
    return tutorial("rl-benchmark.md", normalise, unordered=is_rating)


def run_command(page: Any, command: Any, folder: Path) -> str:
    """Run ``suite rl ...`` as this Python's ``-m overseer_suite``, on one thread: its stdout."""
    words = shlex.split(command.line)
    assert words[:2] == ["suite", "rl"], f"the tutorial's console runs `suite rl`: {command.line}"
    argv = [sys.executable, "-m", "overseer_suite", *words[1:]]
    printed: str = page.run(command, argv, folder, page.environment(OMP_NUM_THREADS="1"))
    return printed


def run_block(code: str, number: int, namespace: dict[str, object]) -> str:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(code, f"<tutorial block {number}>", "exec"), namespace)
    return stdout.getvalue()


@pytest.mark.torch
def test_the_tutorial_runs_and_prints_what_it_shows(page: Any, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    namespace: dict[str, object] = {"__name__": "tutorial"}
    blocks = page.blocks()
    ran: list[str] = []
    try:
        for number, block in enumerate(blocks):
            if block.language == "python":
                output = run_block(block.body, number, namespace)
                following = blocks[number + 1] if number + 1 < len(blocks) else None
                expected = following.body if following and following.language == "text" else ""
                where = f"tutorial block {number} ({block.body.splitlines()[0]!r})"
                assert output.rstrip().splitlines() == expected.rstrip().splitlines(), where
                ran.append(where)
            elif block.language == "console":
                for command in page.commands(block.body):
                    page.assert_shown(command, run_command(page, command, tmp_path))
                    ran.append(command.line)
    finally:
        torch.set_num_threads(threads)
    assert len(ran) == 7, ran  # three blocks of Python, four commands
    assert len(list((tmp_path / "runs" / "hex3").glob("checkpoint-*.pt"))) == 2


def parse_suite_command(line: str) -> None:
    """Parse ``suite rl ...`` or ``suite tui ...`` with the command's own parser."""
    words = shlex.split(line)
    commands = {point.name for point in entry_points(group="overseer.commands")}
    assert words[0] == "suite", f"not a suite command: {line}"
    assert words[1] in commands, f"suite has no command {words[1]!r}: {line}"
    if words[1:3] == ["rl", "bench"]:
        from overseer_rlbench.bench import build_parser as bench_parser

        bench_parser().parse_args(words[3:])  # its errors raise BenchSettingsError
        return
    if words[1] == "rl":
        from overseer_rlbench.cli import build_parser

        parse = build_parser().parse_args
    else:
        assert words[1] == "tui", f"the tutorial runs suite rl and suite tui: {line}"
        from overseer_tui.cli import build_parser as tui_parser

        parse = tui_parser().parse_intermixed_args  # as `suite tui` parses
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            parse(words[2:])
    except SystemExit:
        pytest.fail(f"{line} does not parse: {said.getvalue().strip()}")


def test_the_long_commands_parse(page: Any) -> None:
    lines = [
        line
        for block in page.blocks()
        if block.language == "sh"
        for line in block.body.splitlines()
        if line.strip()
    ]
    assert any(line.startswith("suite rl study") for line in lines)
    assert any("--device cuda" in line for line in lines)
    for line in lines:
        parse_suite_command(line)


def test_a_bad_flag_fails_the_parse() -> None:
    with pytest.raises(pytest.fail.Exception, match="does not parse"):
        parse_suite_command("suite rl study --board 3")


def test_only_durations_rates_and_ratings_are_placeholders() -> None:
    assert normalise("rl train: 125 learner steps in 6.1 s") == normalise(
        "rl train: 125 learner steps in 98.0 s"
    )
    assert normalise("rl train: 125 learner steps") != normalise("rl train: 126 learner steps")
    assert normalise("env_steps  5  1024  449k [442k-480k] steps/s  5") == normalise(
        "env_steps 5 1024 1.2M [1.1M-1.3M] steps/s 5"
    )
    assert normalise("state_bytes 5 1024 260 [260-260] bytes/env") != normalise(
        "state_bytes 5 1024 261 [261-261] bytes/env"
    )
    assert normalise("hex3  390.7  [293.9, 487.4]") == normalise("hex3 12.0 [-3.5, 40.0]")
    assert normalise("won 94.0% of 200 games") != normalise("won 93.0% of 200 games")


def test_a_ratings_table_may_come_in_another_order(page: Any) -> None:
    [command] = page.commands("$ suite rl arena\nagent elo\na  1.0  [0.0, 2.0]\nb  0.0  [0.0, 0.0]")
    page.assert_shown(command, "x\nagent elo\nb 0.0 [0.0, 0.0]\na 3.0 [1.0, 5.0]\n")
    with pytest.raises(AssertionError, match="not printed"):
        page.assert_shown(command, "agent elo\nb 0.0 [0.0, 0.0]\nc 3.0 [1.0, 5.0]\n")
