"""A torch DataLoader inside a trace runs in this process and stops after N items, whether
torch was imported before the trace or inside it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from overseer_tracing._dataloaders import MODULE
from overseer_tracing._import_hook import PostImportHook
from overseer_tracing.context import TraceContext

PROGRAMS = Path(__file__).parent / "programs"


def hooks() -> int:
    """How many post-import hooks wait in sys.meta_path."""
    return sum(isinstance(finder, PostImportHook) for finder in sys.meta_path)


@pytest.fixture
def torch_not_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as if torch.utils.data had not been imported (nothing imports it here)."""
    monkeypatch.delitem(sys.modules, MODULE, raising=False)


@pytest.mark.usefixtures("torch_not_imported")
def test_a_trace_waits_for_torch_only_while_open_and_nested_traces_stack() -> None:
    assert hooks() == 0
    with TraceContext(None):  # no trace, nothing to wait for
        assert hooks() == 0
    with TraceContext(2):
        assert hooks() == 1
        with TraceContext(1):
            assert hooks() == 1  # one hook serves every waiting trace
        assert hooks() == 1  # the outer trace still waits
    assert hooks() == 0


@pytest.mark.usefixtures("torch_not_imported")
@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_the_hook_goes_however_the_trace_exits(error: type[BaseException]) -> None:
    def trace_that_fails() -> None:
        with TraceContext(2):
            assert hooks() == 1
            raise error

    with pytest.raises(error):
        trace_that_fails()
    assert hooks() == 0


@pytest.mark.torch
def test_torch_imported_inside_a_trace_is_guarded_by_each_open_trace(tmp_path: Path) -> None:
    pytest.importorskip("torch")  # checked here; imported for real in a fresh process
    program = PROGRAMS / "torch_imported_in_trace.py"
    done = subprocess.run(
        [sys.executable, str(program)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["torch_before"] is False
    assert (report["hooks_open"], report["hooks_after_import"], report["hooks_after"]) == (1, 0, 0)
    # Each trace: its own limit (whole batches of 2), in this process, and one warning.
    assert (report["inner_batches"], report["outer_batches"], report["after_batches"]) == (3, 2, 8)
    assert (report["inner_items"], report["outer_items"]) == (6, 4)
    assert report["warnings"] == ["TraceWarning: a DataLoader with num_workers=2 runs"] * 2
    assert report["iter_restored"] is True
    assert report["workers_after"] == 2
    assert report["loader"] == "SourceFileLoader"  # the module keeps its own loader
