"""The arena of a scaling study: one board size's trained runs against the references."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .agents import Agent
    from .scaling import RunResult

__all__ = ["ARENA_SIMULATIONS", "OPENING_MOVES", "REFERENCE_MCTS", "rate_size"]

#: Search simulations every trained network plays with in the arena (test-time compute).
ARENA_SIMULATIONS = 16
#: Budget of the pure-MCTS reference agent.
REFERENCE_MCTS = 64
#: Random moves that open every arena game (and its colour-swapped twin): without them two
#: deterministic agents would play one game over and over.
OPENING_MOVES = 2


def _reference_agents(size: int, seed: int) -> list[Agent]:
    from .agents import RandomAgent, mcts_agent
    from .solver import MAX_SOLVER_SIZE, SolverAgent

    references: list[Agent] = [RandomAgent(seed=seed), mcts_agent(REFERENCE_MCTS, seed=seed)]
    if size <= MAX_SOLVER_SIZE:
        references.append(SolverAgent(size, name="perfect", seed=seed))
    return references


def rate_size(
    size: int, runs: Sequence[dict[str, Any]], *, games: int, device: str, seed: int
) -> list[RunResult]:
    """Play every run of ``size`` against each other and the references; rate them.

    ``runs`` hold each XP's config with its ``sig``, ``alias`` and ``checkpoint`` path.
    Prints the ratings table; random play is the anchor at 0 Elo.
    """
    from .agents import network_agent
    from .arena import round_robin
    from .checkpoint import load_checkpoint, network_of
    from .ratings import fit_bradley_terry
    from .scaling import RunResult

    if not runs:
        return []
    agents = _reference_agents(size, seed)
    checkpoints = [load_checkpoint(run["checkpoint"], device) for run in runs]
    for run, checkpoint in zip(runs, checkpoints, strict=True):
        model = network_of(checkpoint, device)
        agents.append(
            network_agent(model, name=run["alias"], simulations=ARENA_SIMULATIONS, seed=seed)
        )
    wins = round_robin(agents, size, games, device=device, seed=seed, opening_moves=OPENING_MOVES)
    ratings = fit_bradley_terry(wins, [agent.name for agent in agents], anchor="random")
    print(f"\narena, {size}x{size}, {games} games a pairing:\n{ratings.table()}\n", flush=True)
    return [
        RunResult(
            sig=run["sig"],
            alias=run["alias"],
            size=size,
            preset=str(run["preset"]),
            samples=int(run["samples"]),
            steps=checkpoint.step,
            flops=checkpoint.flops,
            seconds=checkpoint.seconds,
            elo=ratings.of(run["alias"]),
            elo_low=float(ratings.low[ratings.names.index(run["alias"])]),
            elo_high=float(ratings.high[ratings.names.index(run["alias"])]),
            train_rate=run.get("rate"),
        )
        for run, checkpoint in zip(runs, checkpoints, strict=True)
    ]
