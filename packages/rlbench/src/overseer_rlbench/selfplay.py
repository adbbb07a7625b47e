"""Self-play: many games at once, each move chosen by the search, turned into training data.

Every :meth:`SelfPlay.step` plays one move on every board of a
:class:`~overseer_rlbench.env.HexEnv`: the search runs on all boards together, its improved
policy is kept (in the canonical frame, with the canonical observation) as the policy target
of that position, and the move is drawn from that policy for the first ``explore_moves``
moves of a game (temperature 1), then is the search's own choice. When a game ends, each of
its positions becomes a sample whose value is +1 if the player who moved there won, else -1.

The positions of the games in progress wait in tensors preallocated per board and per ply,
so finishing any number of games is a few gathers, with no loop over boards.

>>> from overseer_rlbench.evaluate import uniform_evaluator
>>> from overseer_rlbench.mcts import SearchConfig
>>> play = SelfPlay(uniform_evaluator, size=2, n_envs=4, config=SearchConfig(simulations=4))
>>> samples = [play.step() for _ in range(4)]
>>> play.games >= 4, sum(s.count for s in samples) == play.positions_finished
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .env import HexEnv, StepResult
from .observation import observe, to_canonical

if TYPE_CHECKING:
    import torch

    from .evaluate import Evaluator
    from .mcts import SearchConfig, SearchResult

__all__ = ["Samples", "SelfPlay"]


@dataclass(frozen=True)
class Samples:
    """The training samples of the games that ended in one self-play step.

    Attributes:
        obs: float32 ``[k, 2, size, size]``, canonical observations (player to move first).
        policy: float32 ``[k, cells]``, the search's policy there, canonical frame.
        value: float32 ``[k]``, +1 where the player to move went on to win, else -1.
        games: how many games ended.
        first_player_wins: how many of them the first player won.
    """

    obs: torch.Tensor
    policy: torch.Tensor
    value: torch.Tensor
    games: int
    first_player_wins: int

    @property
    def count(self) -> int:
        """How many samples (positions) there are."""
        return int(self.value.shape[0])


class SelfPlay:
    """``n_envs`` games of self-play on boards of ``size``, moved together.

    Args:
        evaluator: the prior and value the search uses (a
            :class:`~overseer_rlbench.network.NetworkEvaluator` in training).
        size: board side.
        n_envs: games played at once.
        config: the search's settings (root Dirichlet noise is set there).
        explore_moves: the first moves of each game drawn from the search's policy; the
            later ones are the search's choice.
        device: where boards, tree and samples live.
        seed: seeds the generator of the search and of the sampled moves.

    Attributes:
        env: the boards.
        moves: moves played so far, all boards together.
        games: games finished so far.
        positions_finished: samples handed out so far.
    """

    def __init__(
        self,
        evaluator: Evaluator,
        size: int,
        n_envs: int,
        config: SearchConfig,
        explore_moves: int = 0,
        device: torch.device | str = "cpu",
        seed: int = 0,
    ) -> None:
        import torch

        if not isinstance(explore_moves, int) or isinstance(explore_moves, bool):
            raise ValueError(f"explore_moves must be a whole number, got {explore_moves!r}")
        self.evaluator, self.config, self.explore_moves = evaluator, config, explore_moves
        self.env = HexEnv(n_envs, size, device=device, seed=seed)
        self.geometry = self.env.geometry
        cells, device = self.geometry.cells, self.env.device
        self._obs = torch.zeros((n_envs, cells, 2, size, size), dtype=torch.bool, device=device)
        self._policy = torch.zeros((n_envs, cells, cells), dtype=torch.float32, device=device)
        self._rows = torch.arange(n_envs, device=device)
        plies = torch.arange(cells, device=device)
        self._plies = plies
        self._mover_of_ply = (1 + plies % 2).to(torch.int8)  # the first player moves first
        self.moves = self.games = self.positions_finished = 0

    def step(self) -> Samples:
        """Play one move on every board; return the samples of the games that ended."""
        from .mcts import search

        state = self.env.state
        result = search(state, self.geometry, self.evaluator, self.config, self.env.generator)
        ply = state.moves
        self._obs[self._rows, ply] = observe(state, self.geometry).bool()
        self._policy[self._rows, ply] = to_canonical(result.policy, state.to_move, self.geometry)
        step = self.env.step(self._choose(result, ply))
        self.moves += self.env.n_envs
        return self._finish(step)

    def _choose(self, result: SearchResult, ply: torch.Tensor) -> torch.Tensor:
        import torch

        # Drawn for every board, so that the generator's stream does not depend on the plies.
        drawn = torch.multinomial(result.policy, 1, generator=self.env.generator).squeeze(1)
        return torch.where(ply < self.explore_moves, drawn, result.action)

    def _finish(self, step: StepResult) -> Samples:
        import torch

        finished = step.done.nonzero().squeeze(1)
        lengths, winners = step.moves[finished], step.winner[finished]
        played = self._plies.unsqueeze(0) < lengths.unsqueeze(1)  # [games, cells]
        won = self._mover_of_ply.unsqueeze(0) == winners.unsqueeze(1)
        value = torch.where(won, 1.0, -1.0)[played]
        games = int(finished.shape[0])
        first_wins = int((winners == 1).sum()) if games else 0
        self.games += games
        self.positions_finished += int(value.shape[0])
        return Samples(
            obs=self._obs[finished][played].float(),
            policy=self._policy[finished][played],
            value=value,
            games=games,
            first_player_wins=first_wins,
        )
