"""``--verify``: the checklist it prints, compared with snapshots, and the lines it suggests.

The expected outputs are in ``tests/snapshots/checklist_*.txt``, with each rate replaced by
``<rate>`` (``snapshot`` in conftest.py says how to rewrite them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from overseer_instruments import ConfigurationError, verify

Run = Callable[..., Any]
Snapshot = Callable[[str, str], None]


def normalised(text: str) -> str:
    """The output without what changes from run to run: the rates."""
    return re.sub(r"\d+\.\d items/s", "<rate> items/s", text)


def suggested_voirfile(stdout: str) -> str:
    """The voirfile the checklist prints at its end, unindented."""
    block = stdout.split("A voirfile.py beside the script that gives what is missing:\n\n")[1]
    return "\n".join(line.removeprefix("    ") for line in block.splitlines()) + "\n"


def test_a_script_that_gives_everything(run_overseer: Run, snapshot: Snapshot) -> None:
    done = run_overseer("--verify", "checklist_full.py")
    assert done.returncode == 0, done.stderr
    snapshot(normalised(done.stdout), "checklist_full.txt")
    assert [stop["value"] for stop in done.events("stop")] == ["early_stop: 30 records of 'step'"]


def test_a_script_that_gives_only_its_loss(run_overseer: Run, snapshot: Snapshot) -> None:
    done = run_overseer("--verify", "checklist_loss.py")
    assert done.returncode == 0, done.stderr
    snapshot(normalised(done.stdout), "checklist_loss.txt")


def test_the_suggested_voirfile_gives_everything(run_overseer: Run, workdir: Path) -> None:
    first = run_overseer("--verify", "checklist_loss.py")
    (workdir / "voirfile.py").write_text(suggested_voirfile(first.stdout))
    done = run_overseer("--verify", "checklist_loss.py")
    assert done.returncode == 0, done.stderr
    assert "[ ]" not in done.stdout
    assert "3 of 3 given." in done.stdout
    assert "4 of 4 given." in done.stdout
    assert "none: give" not in done.stdout
    assert done.stdout.startswith("overseer --verify: checklist_loss.py was stopped after 30 steps")


def test_a_loop_that_counts_steps_is_probed_for_the_batch_it_takes(
    run_overseer: Run, workdir: Path
) -> None:
    # for step in range(n): inputs, targets = next(iterator): the batch is inputs, and the
    # step ends where the turn of the loop over step does. The script has no main(): the
    # lines for its model and loader would name guesses, so they come commented out.
    first = run_overseer("--verify", "checklist_steps.py")
    suggested = suggested_voirfile(first.stdout)
    assert 'ov.probe("//train(inputs as batch) > #endloop_step as step").give()' in suggested
    assert '# ov.probe("//main > model").give()  # names guessed: put the script' in suggested
    (workdir / "voirfile.py").write_text(suggested)
    done = run_overseer("--verify", "--log-given", "checklist_steps.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("step 20: loss")
    assert "checklist_steps.py was stopped after 30 steps." in done.stdout
    assert "3 of 3 given." in done.stdout
    # The train rate counts the 4 items of each batch.
    steps = [r for r in done.records if "step" in r and "batch" in r]
    assert {len(step["batch"]) for step in steps} == {4}
    assert re.search(r"^  train    \d+\.\d items/s$", done.stdout, re.MULTILINE)
    assert re.search(r"^  compute  \d+\.\d items/s$", done.stdout, re.MULTILINE)


MISSING_MAIN = """\
def instrument_probes(ov):
    yield ov.phases.load_script
    ov.probe('//main > model').give()
"""


def test_no_checklist_when_the_script_did_not_run(run_overseer: Run, workdir: Path) -> None:
    (workdir / "voirfile.py").write_text(MISSING_MAIN)  # checklist_steps.py has no main()
    done = run_overseer("--verify", "checklist_steps.py")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "overseer --verify: checklist_steps.py did not run: no checklist"
    assert lines[-1].startswith("overseer: error: probe '//main > model': ")


def test_the_rates_are_written_once_beside_train_rate(run_overseer: Run) -> None:
    done = run_overseer("--verify", "--train-rate", "checklist_full.py")
    rates = [r["task"] for r in done.records if r.get("units") == "items/s"]
    # One window each, closed at the stop: none twice.
    assert sorted(rates) == ["compute", "loading", "train"]


def test_verify_steps_sets_the_stop(run_overseer: Run) -> None:
    done = run_overseer("--verify", "--verify-steps", "5", "checklist_full.py")
    assert done.stdout.startswith("overseer --verify: checklist_full.py was stopped after 5 steps.")
    many = run_overseer("--verify", "--verify-steps", "1000", "checklist_full.py")
    assert many.stdout.startswith("trained\noverseer --verify: checklist_full.py ended on its own")


def test_the_exit_status_is_the_scripts(run_overseer: Run, workdir: Path) -> None:
    (workdir / "failing.py").write_text(
        "from overseer import give\n\ngive(loss=1.0)\nraise RuntimeError('diverged')\n"
    )
    done = run_overseer("--verify", "failing.py")
    assert done.returncode == 1
    assert "RuntimeError: diverged" in done.stderr
    assert "  [x] loss " in done.stdout
    assert "1 of 3 given." in done.stdout


def test_a_bad_step_count_is_refused(run_overseer: Run) -> None:
    done = run_overseer("--verify", "--verify-steps", "0", "checklist_full.py")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("overseer: error: argument --verify-steps: expected a whole number")
    with pytest.raises(ConfigurationError, match=r"^verify\(steps=0\): "):
        verify(steps=0)
