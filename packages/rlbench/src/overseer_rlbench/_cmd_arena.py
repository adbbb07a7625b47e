"""``suite rl arena``: rate checkpoints against each other and the reference agents."""

from __future__ import annotations

import argparse
from pathlib import Path

from .errors import CheckpointError, RLBenchError

__all__ = ["arena_command", "resolve_checkpoints"]


def resolve_checkpoints(paths: list[str]) -> list[tuple[str, Path]]:
    """``(name, file)`` per path: a file as given, a folder's latest checkpoint.

    Names are the folder's name for a folder, the file's stem otherwise; repeated names get
    ``-2``, ``-3``, ... so every agent is told apart in the table.

    Raises:
        CheckpointError: a path that does not exist, or a folder with no checkpoint.
    """
    from .checkpoint import latest_checkpoint

    found: list[tuple[str, Path]] = []
    taken: dict[str, int] = {}
    for text in paths:
        path = Path(text)
        if path.is_dir():
            file = latest_checkpoint(path)
            if file is None:
                message = (
                    f"{path} holds no checkpoint-<step>.pt: "
                    f"train into it with `rl train --folder {path}`"
                )
                raise CheckpointError(message)
            name = path.resolve().name
        elif path.is_file():
            file, name = path, path.stem
        else:
            raise CheckpointError(f"{path} does not exist: give checkpoint files or folders")
        taken[name] = taken.get(name, 0) + 1
        found.append((name if taken[name] == 1 else f"{name}-{taken[name]}", file))
    return found


def arena_command(args: argparse.Namespace) -> int:
    """Play the round robin ``args`` describe; print the ratings."""
    from ._study_arena import OPENING_MOVES, REFERENCE_MCTS
    from .agents import Agent, RandomAgent, mcts_agent, network_agent
    from .arena import round_robin
    from .checkpoint import load_agent_network
    from .ratings import fit_bradley_terry
    from .solver import MAX_SOLVER_SIZE, SolverAgent

    agents: list[Agent] = []
    sizes: set[int] = set()
    for name, file in resolve_checkpoints(args.checkpoints):
        model, size = load_agent_network(file, args.device)
        sizes.add(size)
        agents.append(network_agent(model, name, simulations=args.simulations, seed=args.seed))
    size = _board_size(args.size, sizes)
    agents.insert(0, RandomAgent(seed=args.seed))
    for budget in args.mcts or [REFERENCE_MCTS]:
        agents.insert(1, mcts_agent(budget, seed=args.seed))
    if args.solver and size <= MAX_SOLVER_SIZE:
        agents.append(SolverAgent(size, name="perfect", seed=args.seed))
    wins = round_robin(
        agents, size, args.games, device=args.device, seed=args.seed, opening_moves=OPENING_MOVES
    )
    ratings = fit_bradley_terry(wins, [agent.name for agent in agents], anchor="random")
    print(f"arena, {size}x{size}, {args.games} games a pairing, random play at 0 Elo:")
    print(ratings.table())
    return 0


def _board_size(asked: int | None, sizes: set[int]) -> int:
    if len(sizes) > 1:
        raise RLBenchError(
            f"the checkpoints play different board sizes {sorted(sizes)}: rate one size at a time"
        )
    if sizes and asked is not None and asked not in sizes:
        raise RLBenchError(
            f"--size {asked} does not match the checkpoints' size {sizes.pop()}: leave --size out"
        )
    if sizes:
        return sizes.pop()
    if asked is None:
        raise RLBenchError(
            "no checkpoint and no --size: give checkpoints, or --size to rate the references alone"
        )
    return asked
