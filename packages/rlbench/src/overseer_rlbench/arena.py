"""Matches between agents, every game of a tournament at once on one device.

All games start together, so at every ply the same colour moves on every board still in
play; each agent is asked once per ply, for all the boards where it has the move, and the
boards whose game ended leave the batch. Each agent plays half the games of a pairing as
the first player (Hex favours the first player heavily), and Hex has no draws, so every
game ends with a winner within ``size**2`` moves.

Deterministic agents play the same game again and again; ``opening_moves`` starts each game
from a random opening instead, the same opening for a game and its colour-swapped twin, so
neither side is favoured by the draw.

>>> from overseer_rlbench.agents import RandomAgent
>>> result = play_match(RandomAgent("a", seed=1), RandomAgent("b", seed=2), size=3, games=8)
>>> int(result.wins.sum()), result.games
(8, 8)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .agents import Agent
from .errors import IllegalActionError
from .hex import geometry_for, initial_state, play, random_legal_actions, select_envs

if TYPE_CHECKING:
    import torch

    from .hex import HexGeometry, HexState

__all__ = ["MatchResult", "play_match", "round_robin"]


@dataclass(frozen=True)
class MatchResult:
    """The games of one pairing, ``a`` against ``b``.

    Attributes:
        names: the two agents' names, ``a`` first.
        wins: int64 ``[2]``: games won by ``a`` and by ``b``.
        games: games played (``wins.sum()``).
        first_player_wins: games won by whoever moved first.
        a_first: bool ``[games]``: the games where ``a`` moved first.
        winner: int8 ``[games]``: the colour that won each game (1 first player, 2 second).
        moves: int64 ``[games]``: the length of each game, opening included.
    """

    names: tuple[str, str]
    wins: torch.Tensor
    games: int
    first_player_wins: int
    a_first: torch.Tensor
    winner: torch.Tensor
    moves: torch.Tensor

    @property
    def score(self) -> float:
        """The fraction of the games ``a`` won."""
        return float(self.wins[0]) / self.games


def play_match(
    a: Agent,
    b: Agent,
    size: int,
    games: int,
    device: torch.device | str = "cpu",
    seed: int = 0,
    opening_moves: int = 0,
) -> MatchResult:
    """Play ``games`` games of ``a`` against ``b`` on ``size`` boards, all at once.

    ``a`` moves first in the first ``ceil(games / 2)`` games, ``b`` in the others.

    Args:
        a: one agent (the first of ``MatchResult.names``).
        b: the other agent.
        size: side of the board.
        games: how many games (at least 1; even to give both agents the same colours).
        device: where boards live and agents are asked to act.
        seed: seeds the random openings.
        opening_moves: random moves played before the agents take over, the same for a
            game and its colour-swapped twin (at most ``2*size - 2``, so no game is decided).

    Raises:
        ValueError: a bad count; IllegalActionError: an agent played an illegal move.
    """
    import torch

    _check_count("games", games)
    first_seat = torch.arange(games) >= (games + 1) // 2  # seat 0 is a, seat 1 is b
    twin = torch.arange(games) % ((games + 1) // 2)
    winner, moves = _play_games([a, b], first_seat, twin, size, device, seed, opening_moves)
    a_first = ~first_seat
    a_won = (winner == 1) == a_first
    wins = torch.stack([a_won.sum(), (~a_won).sum()])
    first_wins = int((winner == 1).sum())
    return MatchResult((a.name, b.name), wins, games, first_wins, a_first, winner, moves)


def round_robin(
    agents: Sequence[Agent],
    size: int,
    games_per_pair: int,
    device: torch.device | str = "cpu",
    seed: int = 0,
    opening_moves: int = 0,
) -> torch.Tensor:
    """Every agent against every other, all games of the tournament in one batch.

    Returns:
        int64 ``[k, k]`` (on the CPU): ``wins[i, j]`` is how many games agent ``i`` won
        against agent ``j``; the input of :func:`~overseer_rlbench.ratings.fit_bradley_terry`.

    Raises:
        ValueError: fewer than two agents, repeated names or a bad count.
    """
    import torch

    _check_count("games_per_pair", games_per_pair)
    names = [agent.name for agent in agents]
    if len(agents) < 2 or len(set(names)) != len(names):
        raise ValueError(f"a round robin needs two or more agents of distinct names, got {names}")
    pairs = torch.combinations(torch.arange(len(agents)), r=2)  # [p, 2], i < j
    half = (games_per_pair + 1) // 2
    game = torch.arange(games_per_pair)
    swapped = game >= half  # the second half of a pairing's games: j moves first
    first = torch.where(swapped, pairs[:, 1:], pairs[:, :1]).reshape(-1)
    second = torch.where(swapped, pairs[:, :1], pairs[:, 1:]).reshape(-1)
    twin = (torch.arange(len(pairs)).unsqueeze(1) * half + game % half).reshape(-1)
    seats = torch.stack([first, second], dim=1)
    winner, _ = _play_games(list(agents), seats, twin, size, device, seed, opening_moves)
    won = seats[torch.arange(len(winner)), winner.long() - 1]
    lost = seats[torch.arange(len(winner)), 2 - winner.long()]
    wins = torch.zeros((len(agents), len(agents)), dtype=torch.long)
    wins.index_put_((won, lost), torch.ones_like(won), accumulate=True)
    return wins


def _check_count(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _play_games(
    agents: list[Agent],
    seats: torch.Tensor,
    twin: torch.Tensor,
    size: int,
    device: torch.device | str,
    seed: int,
    opening_moves: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Play games to the end; return the winning colour (int8) and length of each.

    ``seats`` is either int64 ``[games, 2]`` (the agent index of the first and the second
    player) or, for two agents, bool ``[games]`` (True where agent 1 moves first). Games
    with equal ``twin`` share their random opening.
    """
    import torch

    geometry = geometry_for(size, str(torch.device(device)))
    if seats.dim() == 1:
        seats = torch.stack([seats.long(), 1 - seats.long()], dim=1)
    seats = seats.to(geometry.device)
    state = _openings(geometry, twin.to(geometry.device), seed, opening_moves)
    games = seats.shape[0]
    index = torch.arange(games, device=geometry.device)
    winner = torch.zeros(games, dtype=torch.int8, device=geometry.device)
    moves = torch.zeros(games, dtype=torch.long, device=geometry.device)
    ply = opening_moves
    while index.numel():
        actions = _ask_agents(agents, seats[index, ply % 2], state, geometry)
        state, now = play(state, actions, geometry)
        ply += 1
        done = now != 0
        if bool(done.any()):
            winner[index[done]], moves[index[done]] = now[done], ply
            state, index = select_envs(state, ~done), index[~done]
    return winner.cpu(), moves.cpu()


def _openings(geometry: HexGeometry, twin: torch.Tensor, seed: int, moves: int) -> HexState:
    """Empty boards, or the random ``moves``-stone opening of each game's twin group."""
    import torch

    limit = 2 * geometry.size - 2
    if not isinstance(moves, int) or isinstance(moves, bool) or not 0 <= moves <= limit:
        raise ValueError(
            f"opening_moves must be in 0..{limit} on a {geometry.size}x{geometry.size} board "
            f"(a longer random opening could decide the game), got {moves!r}"
        )
    if moves == 0:
        return initial_state(geometry, twin.numel())
    generator = torch.Generator(geometry.device).manual_seed(seed)
    openings = initial_state(geometry, int(twin.max()) + 1)
    for _ in range(moves):
        openings, _ = play(openings, random_legal_actions(openings, generator), geometry)
    return select_envs(openings, twin)


def _ask_agents(
    agents: list[Agent], mover: torch.Tensor, state: HexState, geometry: HexGeometry
) -> torch.Tensor:
    """int64 ``[n]``: each board's move, from the agent whose index ``mover`` holds."""
    import torch

    counts = torch.bincount(mover, minlength=len(agents)).tolist()
    actions = torch.empty(state.n_envs, dtype=torch.long, device=geometry.device)
    for k, count in enumerate(counts):
        if count == state.n_envs:
            actions = agents[k].act(state, geometry).to(geometry.device, torch.long)
        elif count:
            mine = mover == k
            chosen = agents[k].act(select_envs(state, mine), geometry)
            actions[mine] = chosen.to(geometry.device, torch.long)
    _check_legal(agents, mover, state, actions, geometry)
    return actions


def _check_legal(
    agents: list[Agent],
    mover: torch.Tensor,
    state: HexState,
    actions: torch.Tensor,
    geometry: HexGeometry,
) -> None:
    off = (actions < 0) | (actions >= geometry.cells)
    cell = actions.clamp(0, geometry.cells - 1).unsqueeze(1)
    bad = off | (state.board.gather(1, cell).squeeze(1) != 0)
    if bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        agent = agents[int(mover[first])]
        raise IllegalActionError(
            f"agent {agent.name!r} played illegal action {int(actions[first])} on a board "
            f"where it is not an empty cell in 0..{geometry.cells - 1}: fix its act()"
        )
