"""AlphaZero on Hex, batched on one device: a reinforcement-learning benchmark and a scaling study.

Every board, search tree and network evaluation of a batch lives on one torch device (CUDA,
or the CPU for tests and small boards)::

    from overseer_rlbench import HexEnv, SearchConfig, search, uniform_evaluator

    env = HexEnv(n_envs=1024, size=9, device="cpu", seed=0)
    result = env.step(env.random_actions())  # result.done, result.winner
    choice = search(env.state, env.geometry, uniform_evaluator, SearchConfig(simulations=64))

``suite rl train|arena|bench|study`` (or ``python -m overseer_rlbench``) trains, rates,
measures and runs a scaling study. Importing this package loads no torch: each name below
is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import CheckpointError, IllegalActionError, MissingExtraError, RLBenchError

if TYPE_CHECKING:
    from .agents import Agent, RandomAgent, SearchAgent, mcts_agent, network_agent
    from .arena import MatchResult, play_match, round_robin
    from .checkpoint import load_agent_network
    from .env import HexEnv, StepResult
    from .evaluate import Evaluation, Evaluator, uniform_evaluator
    from .frontier import FrontierFit, StudyPoint, fit_frontier
    from .hex import HexGeometry, HexState
    from .mcts import SearchConfig, SearchResult, search
    from .network import NetworkEvaluator, build_network
    from .ratings import Ratings, fit_bradley_terry
    from .solver import Solver, SolverAgent
    from .train import TrainConfig, TrainSummary, train

__version__ = "0.1.0"

_LAZY = {
    "Agent": ".agents",
    "Evaluation": ".evaluate",
    "Evaluator": ".evaluate",
    "FrontierFit": ".frontier",
    "HexEnv": ".env",
    "HexGeometry": ".hex",
    "HexState": ".hex",
    "MatchResult": ".arena",
    "NetworkEvaluator": ".network",
    "RandomAgent": ".agents",
    "Ratings": ".ratings",
    "SearchAgent": ".agents",
    "SearchConfig": ".mcts",
    "SearchResult": ".mcts",
    "Solver": ".solver",
    "SolverAgent": ".solver",
    "StepResult": ".env",
    "StudyPoint": ".frontier",
    "TrainConfig": ".train",
    "TrainSummary": ".train",
    "build_network": ".network",
    "fit_bradley_terry": ".ratings",
    "fit_frontier": ".frontier",
    "load_agent_network": ".checkpoint",
    "mcts_agent": ".agents",
    "network_agent": ".agents",
    "play_match": ".arena",
    "round_robin": ".arena",
    "search": ".mcts",
    "train": ".train",
    "uniform_evaluator": ".evaluate",
}

__all__ = [
    "Agent",
    "CheckpointError",
    "Evaluation",
    "Evaluator",
    "FrontierFit",
    "HexEnv",
    "HexGeometry",
    "HexState",
    "IllegalActionError",
    "MatchResult",
    "MissingExtraError",
    "NetworkEvaluator",
    "RLBenchError",
    "RandomAgent",
    "Ratings",
    "SearchAgent",
    "SearchConfig",
    "SearchResult",
    "Solver",
    "SolverAgent",
    "StepResult",
    "StudyPoint",
    "TrainConfig",
    "TrainSummary",
    "__version__",
    "build_network",
    "fit_bradley_terry",
    "fit_frontier",
    "load_agent_network",
    "mcts_agent",
    "network_agent",
    "play_match",
    "round_robin",
    "search",
    "train",
    "uniform_evaluator",
]


def __getattr__(name: str) -> Any:
    # Each of these modules pulls in torch when used: `import overseer_rlbench` stays light.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    message = f"module 'overseer_rlbench' has no attribute {name!r}"
    raise AttributeError(message)
