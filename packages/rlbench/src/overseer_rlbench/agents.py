"""Players for the arena: the protocol, and the reference agents every rating is tied to.

An :class:`Agent` has a ``name`` and an ``act(state, geometry)`` that returns one legal move
per board of a batch. It keeps nothing from one call to the next but its random generator,
so the arena can hand it any subset of its games at every move.

Reference agents: :class:`RandomAgent` (the floor of every scale), :func:`mcts_agent` (pure
Monte-Carlo tree search: a flat prior and random playouts, of a fixed simulation budget) and
:class:`~overseer_rlbench.solver.SolverAgent` (perfect play up to 4x4).

>>> from overseer_rlbench.hex import HexGeometry, initial_state
>>> geometry = HexGeometry(3)
>>> RandomAgent(seed=1).act(initial_state(geometry, 4), geometry).shape
torch.Size([4])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .evaluate import Evaluation, Evaluator
from .hex import END_EDGE, START_EDGE, random_legal_actions

if TYPE_CHECKING:
    import torch

    from .hex import HexGeometry, HexState
    from .mcts import Algorithm, SearchConfig

__all__ = [
    "Agent",
    "PolicyAgent",
    "RandomAgent",
    "SearchAgent",
    "mcts_agent",
    "network_agent",
    "rollout_evaluator",
]


class Agent(Protocol):
    """Anything that picks moves for a batch of boards."""

    name: str

    def act(self, state: HexState, geometry: HexGeometry) -> torch.Tensor:
        """int64 ``[n]``: a legal action on every board of ``state`` (none is finished)."""
        ...


class _Generators:
    """One seeded ``torch.Generator`` per device, made on first use."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._by_device: dict[str, torch.Generator] = {}

    def on(self, device: torch.device) -> torch.Generator:
        import torch

        key = str(device)
        if key not in self._by_device:
            self._by_device[key] = torch.Generator(device).manual_seed(self.seed)
        return self._by_device[key]


class RandomAgent:
    """Uniformly random legal moves: the bottom of every rating scale.

    Args:
        name: the agent's name in matches and ratings.
        seed: seeds its generator (one per device).
    """

    def __init__(self, name: str = "random", seed: int = 0) -> None:
        self.name = name
        self._generators = _Generators(seed)

    def act(self, state: HexState, geometry: HexGeometry) -> torch.Tensor:
        """int64 ``[n]``: a uniformly random empty cell on every board."""
        return random_legal_actions(state, self._generators.on(state.board.device))


class SearchAgent:
    """Plays the action a batched tree search picks with ``evaluator`` as its network.

    Args:
        name: the agent's name in matches and ratings.
        evaluator: the prior and value of positions (a network, rollouts, the solver).
        config: the search algorithm and its budget.
        seed: seeds the search's randomness (root noise, Gumbel draws), one per device.
    """

    def __init__(
        self, name: str, evaluator: Evaluator, config: SearchConfig, seed: int = 0
    ) -> None:
        self.name = name
        self.evaluator = evaluator
        self.config = config
        self._generators = _Generators(seed)

    def act(self, state: HexState, geometry: HexGeometry) -> torch.Tensor:
        """int64 ``[n]``: the search's choice on every board."""
        from .mcts import search

        generator = self._generators.on(state.board.device)
        return search(state, geometry, self.evaluator, self.config, generator).action


class PolicyAgent:
    """Plays from the evaluator's prior alone, no search: greedy or sampled.

    Args:
        name: the agent's name in matches and ratings.
        evaluator: gives the prior logits (its value is ignored).
        temperature: 0 plays the most likely legal move; above 0 samples from
            ``softmax(logits / temperature)`` over the legal moves.
        seed: seeds the sampling (one generator per device).
    """

    def __init__(
        self, name: str, evaluator: Evaluator, temperature: float = 0.0, seed: int = 0
    ) -> None:
        if not temperature >= 0.0:
            raise ValueError(f"temperature must be at least 0, got {temperature!r}")
        self.name = name
        self.evaluator = evaluator
        self.temperature = temperature
        self._generators = _Generators(seed)

    def act(self, state: HexState, geometry: HexGeometry) -> torch.Tensor:
        """int64 ``[n]``: the chosen legal move on every board."""
        import torch

        logits = self.evaluator(state, geometry).logits.float()
        logits = logits.masked_fill(state.board != 0, -torch.inf)
        if self.temperature == 0.0:
            return logits.argmax(dim=1)
        generator = self._generators.on(state.board.device)
        probabilities = (logits / self.temperature).softmax(dim=1)
        return torch.multinomial(probabilities, 1, generator=generator).squeeze(1)


def network_agent(
    model: torch.nn.Module,
    name: str = "network",
    simulations: int = 0,
    algorithm: Algorithm = "puct",
    amp: bool = False,
    seed: int = 0,
) -> Agent:
    """A trained policy-value network as an agent.

    Args:
        model: the network (see :func:`~overseer_rlbench.network.build_network`).
        name: the agent's name in matches and ratings.
        simulations: 0 plays the network's greedy move; more searches that many times.
        algorithm: the search algorithm when ``simulations > 0``.
        amp: bf16 autocast on CUDA.
        seed: seeds the search's randomness.
    """
    from .mcts import SearchConfig
    from .network import NetworkEvaluator

    evaluator = NetworkEvaluator(model, amp=amp)
    if simulations == 0:
        return PolicyAgent(name, evaluator, seed=seed)
    return SearchAgent(
        name, evaluator, SearchConfig(algorithm=algorithm, simulations=simulations), seed=seed
    )


def rollout_evaluator(rollouts: int = 1, seed: int = 0) -> Evaluator:
    """An :class:`~overseer_rlbench.evaluate.Evaluator` of random playouts: pure MCTS.

    The prior is flat; the value is the mean outcome, for the player to move, of
    ``rollouts`` uniformly random games played from each position to the end, all boards
    and all playouts of a call at once (a board already won is worth -1 to the mover).

    Args:
        rollouts: playouts per position (at least 1).
        seed: seeds the playouts (one generator per device).

    Raises:
        ValueError: ``rollouts`` is not a positive integer.
    """
    if not isinstance(rollouts, int) or isinstance(rollouts, bool) or rollouts < 1:
        raise ValueError(f"rollouts must be a positive integer, got {rollouts!r}")
    generators = _Generators(seed)

    def evaluate(state: HexState, geometry: HexGeometry) -> Evaluation:
        import torch

        device = state.board.device
        winner = _playout_winners(state, geometry, rollouts, generators.on(device))
        mover = state.to_move.repeat_interleave(rollouts)
        outcome = torch.where(winner == mover, 1.0, -1.0).view(state.n_envs, rollouts)
        logits = torch.zeros((state.n_envs, geometry.cells), device=device)
        return Evaluation(logits=logits, value=outcome.mean(dim=1))

    return evaluate


def _playout_winners(
    state: HexState, geometry: HexGeometry, rollouts: int, generator: torch.Generator
) -> torch.Tensor:
    """int8 ``[n * rollouts]``: who wins a random game from each board (repeated rollouts).

    A random playout is played as a random filling of the board: stones placed after the
    game is decided never undo a connection, and Hex has no draws, so the winner of a
    playout is the winner of the full board it would end on, in which the player to move
    owns a uniformly random ``ceil(empty / 2)`` of the empty cells. One draw and one flood
    fill replace a loop of moves (an order of magnitude faster), with the same distribution.
    """
    import torch

    board = state.board.repeat_interleave(rollouts, dim=0)
    mover = state.to_move.repeat_interleave(rollouts).unsqueeze(1)
    empty = board == 0
    noise = torch.rand(board.shape, generator=generator, device=board.device)
    rank = noise.masked_fill_(~empty, 2.0).argsort(dim=1).argsort(dim=1)
    mine = rank < (empty.sum(dim=1, keepdim=True) + 1) // 2
    full = torch.where(empty, torch.where(mine, mover, 3 - mover), board)
    # On a full board exactly one player connects: player 1 or else player 2.
    first_connects = _joins_rows(full == 1, geometry)
    return torch.where(first_connects, 1, 2).to(torch.int8)


def _joins_rows(stones: torch.Tensor, geometry: HexGeometry) -> torch.Tensor:
    """bool ``[n]``: whether ``stones`` (bool ``[n, cells]``) join row 0 to the last row."""
    import torch

    edges = geometry.edges[1]
    reach = stones & ((edges & START_EDGE) != 0)
    for _ in range(geometry.cells):
        around = reach[:, geometry.neighbours].any(dim=2)
        grown = stones & (reach | around)
        if torch.equal(grown, reach):
            break
        reach = grown
    return (reach & ((edges & END_EDGE) != 0)).any(dim=1)


def mcts_agent(simulations: int = 64, seed: int = 0) -> SearchAgent:
    """The pure-MCTS reference agent ``"mcts-<simulations>"``: PUCT over one random playout.

    Its strength depends only on ``simulations``, so it anchors ratings across studies.
    """
    from .mcts import SearchConfig

    config = SearchConfig(algorithm="puct", simulations=simulations)
    evaluator = rollout_evaluator(rollouts=1, seed=seed)
    return SearchAgent(f"mcts-{simulations}", evaluator, config, seed=seed)
