"""``suite rl train``: self-play training on one board size, then a match against random."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from .train import TrainConfig

__all__ = ["add_train_arguments", "train_command"]

# Games of the closing match against random play.
_CHECK_GAMES = 200


def add_train_arguments(
    parser: argparse.ArgumentParser,
    positive_int: Callable[[str], int],
    positive_float: Callable[[str], float],
) -> None:
    """Add ``rl train``'s options to ``parser``."""
    from .network import PRESETS
    from .train import TrainConfig

    default = TrainConfig()
    parser.add_argument("--size", type=positive_int, default=default.size, help="board size")
    parser.add_argument("--preset", default=default.preset, choices=sorted(PRESETS))
    parser.add_argument(
        "--algorithm", default=default.algorithm, choices=("puct", "regularized", "gumbel")
    )
    parser.add_argument("--simulations", type=positive_int, default=default.simulations)
    parser.add_argument("--n-envs", type=positive_int, default=default.n_envs)
    parser.add_argument("--batch-size", type=positive_int, default=default.batch_size)
    parser.add_argument("--lr", type=positive_float, default=default.lr)
    budget = parser.add_argument_group("budget (training stops at the first one reached)")
    budget.add_argument("--seconds", type=positive_float, help="wall-clock seconds")
    budget.add_argument("--samples", type=positive_int, help="learner samples")
    budget.add_argument("--flops", type=positive_float, help="training compute")
    parser.add_argument(
        "--folder", type=Path, help="checkpoints go (and resume from) here (default: none)"
    )
    parser.add_argument(
        "--checkpoint-minutes", type=positive_float, default=default.checkpoint_minutes
    )
    parser.add_argument(
        "--check-games",
        type=int,
        default=_CHECK_GAMES,
        help=f"games against random play at the end (default {_CHECK_GAMES}; 0: none)",
    )


def train_command(args: argparse.Namespace) -> int:
    """Train as ``args`` say; print the summary and the closing match."""
    from .train import TrainConfig, train

    seconds = args.seconds
    if seconds is None and args.samples is None and args.flops is None:
        seconds = 120.0
        print("rl train: no budget given, training for 120 seconds (--seconds, --samples)")
    config = TrainConfig(
        size=args.size,
        preset=args.preset,
        algorithm=args.algorithm,
        simulations=args.simulations,
        n_envs=args.n_envs,
        batch_size=args.batch_size,
        lr=args.lr,
        max_seconds=seconds,
        max_samples=args.samples,
        max_flops=args.flops,
        folder=args.folder,
        checkpoint_minutes=args.checkpoint_minutes,
        device=args.device,
        seed=args.seed,
    )
    started = time.perf_counter()
    summary = train(config)
    print(f"rl train: {summary.describe()}")
    if args.check_games > 0:
        print(_against_random(summary.model, config, args.check_games), flush=True)
    print(f"rl train: {time.perf_counter() - started:.1f} s in all")
    return 0


def _against_random(model: torch.nn.Module | None, config: TrainConfig, games: int) -> str:
    """The trained network's greedy play against random play, as a line to print."""
    from .agents import RandomAgent, network_agent
    from .arena import play_match

    if model is None:
        return "rl train: no network was trained, so no match against random play"
    agent = network_agent(model, name="trained", simulations=0)
    opponent = RandomAgent(seed=config.seed + 1)
    result = play_match(agent, opponent, config.size, games, device=config.device, seed=config.seed)
    won = (result.winner == 1) == result.a_first
    first = float(won[result.a_first].float().mean())
    second = float(won[~result.a_first].float().mean())
    return (
        f"rl train: against random play (greedy network, no search): won {result.score:.1%} of"
        f" {result.games} games, {first:.1%} moving first and {second:.1%} moving second"
    )
