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
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parents[3] / "docs" / "tutorials" / "rl-benchmark.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)

DURATION = re.compile(r"\b\d+(?:\.\d+)? s\b")
NUMBER = r"-?\d+(?:\.\d+)?"
RATE = re.compile(rf"{NUMBER}[kMGT]? \[{NUMBER}[kMGT]?-{NUMBER}[kMGT]?\] (\S+/s)\b")
ELO_ROW = re.compile(rf"^(\S+) {NUMBER} \[{NUMBER}, {NUMBER}\]$")
RATED = " <elo> [<low>, <high>]"

needs_tutorial = pytest.mark.skipif(
    not TUTORIAL.is_file(), reason=f"the docs folder is not here ({TUTORIAL} is missing)"
)


@dataclass
class Command:
    line: str
    shown: list[str] = field(default_factory=list)


def fences(text: str) -> list[tuple[str, str]]:
    return [(language, body) for language, body in FENCE.findall(text)]


def parse_console(body: str) -> list[Command]:
    commands: list[Command] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append(Command(line[2:]))
        elif line.strip():
            commands[-1].shown.append(line)
    return commands


def normalise(line: str) -> str:
    line = re.sub(r"\s+", " ", line).strip()
    line = DURATION.sub("<duration>", line)
    line = RATE.sub(r"<rate> \1", line)
    return ELO_ROW.sub(rf"\1{RATED}", line)


def assert_shown(command: Command, output: str) -> None:
    """Every shown line is a printed line, in order; a ratings table's rows in any order."""
    printed = [normalise(line) for line in output.splitlines()]
    expected = [normalise(line) for line in command.shown]
    position = index = 0
    while index < len(expected):
        group = [expected[index]]
        while group[0].endswith(RATED) and index + len(group) < len(expected):
            if not expected[index + len(group)].endswith(RATED):
                break
            group.append(expected[index + len(group)])
        size = len(group)
        while position + size <= len(printed) and sorted(
            printed[position : position + size]
        ) != sorted(group):
            position += 1
        assert position + size <= len(printed), (
            f"{command.line}: {command.shown[index]!r} not printed in\n{output}"
        )
        position += size
        index += size


def run_command(command: Command, folder: Path) -> str:
    words = shlex.split(command.line)
    assert words[:2] == ["suite", "rl"], f"the tutorial's console runs `suite rl`: {command.line}"
    argv = [sys.executable, "-m", "overseer_suite", *words[1:]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command.line}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def run_block(code: str, number: int, namespace: dict[str, object]) -> str:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(code, f"<tutorial block {number}>", "exec"), namespace)
    return stdout.getvalue()


@pytest.mark.torch
@needs_tutorial
def test_the_tutorial_runs_and_prints_what_it_shows(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    namespace: dict[str, object] = {"__name__": "tutorial"}
    blocks = fences(TUTORIAL.read_text(encoding="utf-8"))
    ran: list[str] = []
    try:
        for number, (language, body) in enumerate(blocks):
            if language == "python":
                output = run_block(body, number, namespace)
                following = blocks[number + 1] if number + 1 < len(blocks) else ("", "")
                expected = following[1] if following[0] == "text" else ""
                where = f"tutorial block {number} ({body.splitlines()[0]!r})"
                assert output.rstrip().splitlines() == expected.rstrip().splitlines(), where
                ran.append(where)
            elif language == "console":
                for command in parse_console(body):
                    assert_shown(command, run_command(command, tmp_path))
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


@needs_tutorial
def test_the_long_commands_parse() -> None:
    lines = [
        line
        for language, body in fences(TUTORIAL.read_text(encoding="utf-8"))
        if language == "sh"
        for line in body.splitlines()
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


def test_a_ratings_table_may_come_in_another_order() -> None:
    command = Command("suite rl arena", ["agent elo", "a  1.0  [0.0, 2.0]", "b  0.0  [0.0, 0.0]"])
    assert_shown(command, "x\nagent elo\nb 0.0 [0.0, 0.0]\na 3.0 [1.0, 5.0]\n")
    with pytest.raises(AssertionError, match="not printed"):
        assert_shown(command, "agent elo\nb 0.0 [0.0, 0.0]\nc 3.0 [1.0, 5.0]\n")
