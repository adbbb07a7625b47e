"""The tutorial docs/tutorials/tracing.md runs as written and prints what it shows.

Its ```python blocks run in order in one namespace; a ```text block right after one is what
that block prints (durations aside), warnings included as ``Category: message`` lines.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

# packages/tracing/tests/ -> the repository root; an sdist holds no docs folder.
TUTORIAL = Path(__file__).resolve().parents[3] / "docs" / "tutorials" / "tracing.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
# "812 ns", "12.3 us", "4.56 ms", "1.2 s": the only part of a print that changes per run.
DURATION = re.compile(r"\b\d+(?:\.\d+)? (?:ns|us|ms|s)\b")

needs_tutorial = pytest.mark.skipif(
    not TUTORIAL.is_file(), reason=f"the docs folder is not here ({TUTORIAL} is missing)"
)


@dataclass
class Block:
    """A ```python block of the tutorial and the output shown after it, if any."""

    number: int
    code: str
    expected: str | None = None


def tutorial_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    previous = ""
    for match in FENCE.finditer(text):
        language, body = match.groups()
        if language == "python":
            blocks.append(Block(len(blocks) + 1, body))
        elif language == "text":
            assert previous == "python", f"a text block follows a {previous!r} block:\n{body}"
            blocks[-1].expected = body
        previous = language
    return blocks


def normalise(output: str) -> list[str]:
    return [DURATION.sub("<duration>", line.rstrip()) for line in output.strip().splitlines()]


def run_block(block: Block, namespace: dict[str, object]) -> str:
    stdout = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(stdout):
        warnings.simplefilter("always")
        exec(compile(block.code, f"<tutorial block {block.number}>", "exec"), namespace)
    shown = [f"{warning.category.__name__}: {warning.message}" for warning in caught]
    return "\n".join([*shown, stdout.getvalue()])


@needs_tutorial
def test_each_output_follows_the_code_that_prints_it() -> None:
    blocks = tutorial_blocks(TUTORIAL.read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    assert all(block.code.strip() for block in blocks)
    assert blocks[0].expected is None  # the pipeline's definitions print nothing


def test_a_duration_is_the_only_part_normalised() -> None:
    lines = normalise("[4] Linear.forward  18.2 ms in [3]\n  3 stages, 2 calls, 812 ns each")
    assert lines == [
        "[4] Linear.forward  <duration> in [3]",
        "  3 stages, 2 calls, <duration> each",
    ]


@pytest.mark.torch
@needs_tutorial
def test_the_tutorial_runs_and_prints_what_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)  # the tutorial saves trace.json and trace.perfetto.json here
    linear_forward = vars(torch.nn.Linear)["forward"]
    namespace: dict[str, object] = {"__name__": "tutorial"}
    for block in tutorial_blocks(TUTORIAL.read_text(encoding="utf-8")):
        output = run_block(block, namespace)
        where = f"tutorial block {block.number} ({block.code.splitlines()[0]!r})"
        if block.expected is None:
            assert not output.strip(), f"{where} prints what the tutorial does not show"
        else:
            assert normalise(output) == normalise(block.expected), where
    assert vars(torch.nn.Linear)["forward"] is linear_forward  # the shims came off
    assert (tmp_path / "trace.json").is_file()
    assert (tmp_path / "trace.perfetto.json").is_file()
