"""The ``tutorial`` fixture: the tutorials of docs/tutorials/ as tests, their shared part.

A tutorial's test states only what is its own: which parts of a line change from run to run
(its ``normalise``), how a shown line matches a printed one, and how a command runs::

    page = tutorial("experiments.md", normalise, matches=str.startswith)
    ran = page.run_through(tmp_path, run_command)  # run_command(page, command, folder)

A ```python block with a ``title`` is a file of the tutorial's folder. A ```console block
holds commands (``$ ...``), each followed by the lines it shows; every shown line must match
a printed line, in order, and printed lines that are not shown may come between them.
"""

from __future__ import annotations

import operator
import os
import re
import subprocess
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# packages/suite/tests/ -> the repository root; an sdist holds no docs folder.
TUTORIALS = Path(__file__).resolve().parents[3] / "docs" / "tutorials"
# ```language attribute="value"...: the fence of a block, its attributes and its body.
FENCE = re.compile(r'^```(\w*)((?: [\w-]+="[^"]*")*)\n(.*?)^```$', re.DOTALL | re.MULTILINE)
TITLE = re.compile(r' title="([^"]+)"')


@dataclass(frozen=True)
class Block:
    """A fenced block of a tutorial: its language, its ``title`` ("" if none), its text."""

    language: str
    title: str
    body: str

    def write(self, folder: Path) -> None:
        """Write the block as the file its title names, below ``folder``."""
        path = folder / self.title
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.body, encoding="utf-8")


@dataclass
class Command:
    """A ``$ ...`` line of a console block, the lines shown after it and its exit status."""

    line: str
    shown: list[str] = field(default_factory=list)
    status: int = 0


@dataclass(frozen=True)
class Tutorial:
    """One page of docs/tutorials/ and the rules its test compares outputs by.

    Args:
        name: The page's file name in docs/tutorials/, e.g. ``"experiments.md"``.
        normalise: What a line is compared as, shown or printed: the page's placeholders.
        matches: Whether a normalised printed line matches a normalised shown one,
            ``matches(printed, shown)``; equal by default.
        unordered: Picks the normalised shown lines that may be printed in any order: a run
            of them must be printed as a run of the same lines (compared whole).
        status_line: A shown line that gives the exit status of the command above it,
            its group 1 the number, e.g. ``[exit status 2]``; without it a command exits 0.
    """

    name: str
    normalise: Callable[[str], str]
    matches: Callable[[str, str], bool] = operator.eq
    unordered: Callable[[str], bool] | None = None
    status_line: re.Pattern[str] | None = None

    @property
    def path(self) -> Path:
        """Where the page is."""
        return TUTORIALS / self.name

    def text(self) -> str:
        """The page's text; the test is skipped where the docs folder is not there."""
        if not self.path.is_file():
            pytest.skip(f"the docs folder is not here ({self.path} is missing)")
        return self.path.read_text(encoding="utf-8")

    def blocks(self) -> list[Block]:
        """The page's fenced blocks, in order."""
        return [
            Block(language, title[1] if (title := TITLE.search(attributes)) else "", body)
            for language, attributes, body in FENCE.findall(self.text())
        ]

    def commands(self, console: str) -> list[Command]:
        """The commands of the body of a console block, each with the lines it shows."""
        commands: list[Command] = []
        for line in console.splitlines():
            if line.startswith("$ "):
                commands.append(Command(line[2:]))
            elif self.status_line and (found := self.status_line.match(line)):
                commands[-1].status = int(found[1])
            elif line.strip():
                commands[-1].shown.append(line)
        return commands

    def run_through(self, folder: Path, run: Callable[[Tutorial, Command, Path], str]) -> list[str]:
        """Write the titled ```python blocks into ``folder`` and run the console commands.

        In the page's order: each command runs as ``run(self, command, folder)`` says, which
        returns what it printed, and what it shows must have been printed.

        Returns:
            The command lines run, in order.
        """
        ran: list[str] = []
        for block in self.blocks():
            if block.language == "python" and block.title:
                block.write(folder)
            elif block.language == "console":
                for command in self.commands(block.body):
                    self.assert_shown(command, run(self, command, folder))
                    ran.append(command.line)
        return ran

    def assert_shown(self, command: Command, output: str) -> None:
        """Fail, naming the line, unless every line ``command`` shows is in ``output``."""
        missing = self.missing(command, output)
        assert missing is None, f"$ {command.line}: {missing!r} not printed in\n{output}"

    def missing(self, command: Command, output: str) -> str | None:
        """The first line ``command`` shows that ``output`` does not print in order, if any."""
        printed = [self.normalise(line) for line in output.splitlines()]
        expected = [self.normalise(line) for line in command.shown]
        position = index = 0
        while index < len(expected):
            group = expected[index : index + self._run_length(expected, index)]
            size = len(group)
            while position + size <= len(printed) and not self._match(
                printed[position : position + size], group
            ):
                position += 1
            if position + size > len(printed):
                return command.shown[index]
            position += size
            index += size
        return None

    def _run_length(self, expected: list[str], index: int) -> int:
        """How many lines from ``expected[index]`` on may be printed in any order; 1 at least."""
        size = 1
        if self.unordered is None or not self.unordered(expected[index]):
            return size
        while index + size < len(expected) and self.unordered(expected[index + size]):
            size += 1
        return size

    def _match(self, printed: list[str], shown: list[str]) -> bool:
        """Whether printed lines match as many shown lines, a run of unordered ones whole."""
        if len(shown) == 1:
            return self.matches(printed[0], shown[0])
        return sorted(printed) == sorted(shown)

    @staticmethod
    def environment(unset: Collection[str] = (), **values: str) -> dict[str, str]:
        """This process's environment without the variables ``unset``, with ``values``."""
        kept = {key: value for key, value in os.environ.items() if key not in unset}
        return {**kept, **values}

    @staticmethod
    def run(
        command: Command,
        argv: list[str],
        folder: Path,
        env: Mapping[str, str],
        *,
        merge_stderr: bool = False,
        timeout: float = 300,
    ) -> str:
        """Run ``argv`` for ``command`` in ``folder``; fail unless it exits as it shows.

        Returns:
            Its stdout, with its stderr in it where ``merge_stderr`` (as a terminal shows).
        """
        done = subprocess.run(
            argv,
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == command.status, (
            f"$ {command.line} exited with {done.returncode}, not {command.status}:\n"
            f"{done.stdout}\n{done.stderr or ''}"
        )
        return done.stdout


@pytest.fixture
def tutorial() -> type[Tutorial]:
    """The class :class:`Tutorial`: call it with a page's name and its test's rules."""
    return Tutorial
