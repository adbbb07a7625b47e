"""Training: it learns, it stops on its budgets, it resumes, and it reports what it does."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from overseer_rlbench import metrics
from overseer_rlbench.checkpoint import (
    checkpoints_in,
    latest_checkpoint,
    load_agent_network,
    load_checkpoint,
)
from overseer_rlbench.env import HexEnv
from overseer_rlbench.errors import CheckpointError
from overseer_rlbench.network import NetworkEvaluator, build_network, flops_per_position
from overseer_rlbench.train import TrainConfig, TrainSummary, train

# A run small enough for a test: a few dozen learner steps on 3x3.
QUICK = TrainConfig(size=3, preset="tiny", n_envs=8, simulations=4, batch_size=32, epoch_steps=5)


def _win_rates(model: torch.nn.Module, size: int, games: int = 200) -> dict[int, float]:
    """Share of games the network's greedy policy wins against uniform random play,
    as player 1 and as player 2; every game is played to its end, all at once."""
    evaluator = NetworkEvaluator(model)
    rates = {}
    for player in (1, 2):
        env = HexEnv(games, size, seed=player)
        won = torch.zeros(games, dtype=torch.bool)
        done = torch.zeros(games, dtype=torch.bool)
        while not bool(done.all()):
            logits = evaluator(env.state, env.geometry).logits
            greedy = logits.masked_fill(~env.legal(), -torch.inf).argmax(dim=1)
            actions = torch.where(env.to_move == player, greedy, env.random_actions())
            result = env.step(actions)
            won |= result.done & ~done & (result.winner == player)
            done |= result.done
        rates[player] = float(won.float().mean())
    return rates


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One CPU thread: a tiny network gains nothing from two, and on a machine shared with
    other work a second thread that is not scheduled stalls every convolution."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("one_thread")
def test_a_short_run_on_3x3_beats_random_play_with_both_colours(tmp_path: Path) -> None:
    torch.manual_seed(0)
    untrained = _win_rates(build_network(3, "tiny"), 3)
    config = TrainConfig(
        size=3,
        preset="tiny",
        n_envs=32,
        simulations=8,
        batch_size=64,
        lr=3e-3,
        reuse=8.0,
        explore_moves=9,  # every move drawn from the search policy: more varied positions
        max_samples=30_000,
        folder=tmp_path,
    )
    summary = train(config)
    assert summary.stopped_by == "max_samples"
    model, size = load_agent_network(summary.checkpoint or tmp_path, "cpu")
    trained = _win_rates(model, size)
    # Against random play, perfect play wins all games as player 1 on 3x3 and at best
    # 97.8% as player 2 (the random first player sometimes stumbles into a win).
    assert (trained[1] + trained[2]) / 2 > 0.95, trained
    assert min(trained.values()) > 0.9, trained
    assert (untrained[1] + untrained[2]) / 2 < 0.9, untrained  # so the test can fail


def test_budgets_stop_the_run_and_say_which() -> None:
    by_samples = train(replace(QUICK, max_samples=96))
    assert by_samples.stopped_by == "max_samples"
    assert by_samples.samples == 96 == by_samples.steps * 32
    by_flops = train(replace(QUICK, max_flops=2e8))
    assert by_flops.stopped_by == "max_flops"
    assert by_flops.flops >= 2e8
    calls: list[int] = []
    by_stop = train(QUICK, stop=lambda: calls.append(1) or len(calls) > 3)
    assert by_stop.stopped_by == "stop"
    assert len(calls) == 4
    by_time = train(replace(QUICK, max_seconds=0.5))
    assert by_time.stopped_by == "max_seconds"
    assert by_time.seconds >= 0.5


def test_compute_counts_selfplay_evaluations_and_learner_samples() -> None:
    summary = train(replace(QUICK, max_samples=64))
    per_position = flops_per_position(3, QUICK.shape)
    # One evaluation of the root and one per simulation, on every board, at every move.
    evaluations = summary.moves * (QUICK.simulations + 1)
    expected = per_position * (evaluations + 3 * summary.samples)
    assert summary.flops == pytest.approx(expected)


def test_resume_continues_the_counts_of_the_latest_checkpoint(tmp_path: Path) -> None:
    first = train(replace(QUICK, max_samples=64, folder=tmp_path))
    assert first.checkpoint == latest_checkpoint(tmp_path)
    saved = load_checkpoint(first.checkpoint)
    assert (saved.step, saved.samples, saved.flops) == (first.steps, first.samples, first.flops)
    assert saved.extra["config"]["size"] == 3

    second = train(replace(QUICK, max_samples=160, folder=tmp_path))
    assert second.steps == 5
    assert second.samples == 160
    assert second.flops > first.flops
    assert second.games >= first.games
    assert second.seconds > first.seconds
    assert latest_checkpoint(tmp_path) == second.checkpoint
    assert load_checkpoint(second.checkpoint).step == 5

    again = train(replace(QUICK, max_samples=160, folder=tmp_path))
    assert (again.steps, again.samples, again.moves) == (5, 160, 0)  # nothing left to do


def test_resume_refuses_a_checkpoint_of_another_network(tmp_path: Path) -> None:
    train(replace(QUICK, max_samples=32, folder=tmp_path))
    other = replace(QUICK, preset="xs", max_samples=64, folder=tmp_path)
    with pytest.raises(CheckpointError, match="use another folder"):
        train(other)


def test_checkpoints_are_written_on_the_clock(tmp_path: Path) -> None:
    train(replace(QUICK, max_samples=320, folder=tmp_path, checkpoint_minutes=1e-6))
    assert len(checkpoints_in(tmp_path)) > 3


def test_only_the_latest_checkpoints_are_kept_when_asked(tmp_path: Path) -> None:
    config = replace(QUICK, folder=tmp_path, checkpoint_minutes=1e-6, keep_checkpoints=2)
    summary = train(replace(config, max_samples=320))
    kept = checkpoints_in(tmp_path)
    assert len(kept) == 2
    assert kept[-1] == summary.checkpoint
    assert load_checkpoint(kept[0]).step < summary.steps


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"algorithm": "alphabeta"}, "algorithm 'alphabeta' is unknown"),
        ({"lr": 0.0}, "TrainConfig.lr must be a number above 0"),
        ({"n_envs": 0}, "TrainConfig.n_envs must be a whole number >= 1"),
        ({"max_samples": -5}, "TrainConfig.max_samples must be a number above 0"),
        ({"preset": "giant"}, "unknown network preset 'giant'"),
    ],
)
def test_bad_settings_are_refused_by_name(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(QUICK, **change)


def test_a_run_without_an_end_is_refused() -> None:
    with pytest.raises(ValueError, match="set max_seconds, max_samples or max_flops"):
        train(QUICK)


def test_gives_what_the_standard_instruments_read() -> None:
    giver = pytest.importorskip("overseer.giver")
    from overseer_instruments._batches import batch_size

    given: list[dict[str, Any]] = []
    previous = giver.set_delivery(given.append)
    try:
        summary = train(replace(QUICK, max_samples=320))
    finally:
        giver.set_delivery(previous)
    assert [r["use_cuda"] for r in given if "use_cuda" in r] == [False]
    assert [type(r["model"]).__name__ for r in given if "model" in r] == ["PolicyValueNetwork"]
    steps = [r for r in given if "step" in r]
    assert [r["step"] for r in steps] == list(range(1, summary.steps + 1))
    assert all(batch_size(r["batch"]) == 32 and isinstance(r["loss"], float) for r in steps)
    epochs = [r for r in given if "epoch" in r]
    assert len(epochs) == 2
    assert epochs[-1]["learner_samples"] == summary.samples
    assert epochs[-1]["selfplay_moves_per_s"] > 0
    assert epochs[-1]["samples_per_s"] > 0
    assert summary.metrics == epochs[-1]


def test_pushes_epochs_to_the_running_xp(tmp_path: Path) -> None:
    current = pytest.importorskip("overseer_xpmanager.current")
    from overseer_xpmanager.link import Link

    class RunningXP:
        link = Link(tmp_path)

    current.set_current_xp(RunningXP())  # type: ignore[arg-type]
    try:
        train(replace(QUICK, max_samples=320), on_epoch=None)
    finally:
        current.set_current_xp(None)
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in history] == [1, 2]
    assert history[-1]["learner_samples"] == 320
    assert history[-1]["value_loss"] >= 0


def test_epochs_reach_the_callback_and_the_summary() -> None:
    seen: list[dict[str, float]] = []
    summary = train(replace(QUICK, max_samples=320), on_epoch=seen.append)
    assert isinstance(summary, TrainSummary)
    assert [record["epoch"] for record in seen] == [1, 2]
    assert summary.metrics == seen[-1]
    assert 0 <= seen[-1]["first_player_win_rate"] <= 1


@pytest.fixture
def without_overseer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As if neither overseer nor overseer-xpmanager were installed."""
    caches = (metrics._overseer_give, metrics._overseer_giver, metrics._xpmanager)
    monkeypatch.setitem(sys.modules, "overseer", None)  # None: the import fails
    monkeypatch.setitem(sys.modules, "overseer_xpmanager", None)
    for cache in caches:
        cache.cache_clear()
    yield
    for cache in caches:
        cache.cache_clear()


@pytest.mark.usefixtures("without_overseer")
def test_reports_go_nowhere_without_overseer_installed() -> None:
    assert not metrics.listening()
    metrics.give(loss=1.0, step=1, batch=32)
    assert metrics.push_metrics({"epoch": 1}) is False
    summary = train(replace(QUICK, max_samples=64))
    assert summary.samples == 64


def test_no_xp_runs_outside_a_decorated_main() -> None:
    pytest.importorskip("overseer_xpmanager")
    assert metrics.push_metrics({"epoch": 1}) is False
