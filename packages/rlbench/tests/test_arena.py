"""Batched matches: every game ends, colours are shared fairly, results add up."""

from __future__ import annotations

import pytest
import torch

from overseer_rlbench.agents import Agent, RandomAgent
from overseer_rlbench.arena import play_match, round_robin
from overseer_rlbench.errors import IllegalActionError
from overseer_rlbench.hex import HexGeometry, HexState
from overseer_rlbench.reference import winner as reference_winner
from overseer_rlbench.solver import SolverAgent


class LowestCellAgent:
    """Deterministic: always the lowest-numbered empty cell; remembers what it was shown."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[torch.Tensor] = []

    def act(self, state: HexState, geometry: HexGeometry) -> torch.Tensor:
        self.seen.append(state.board.clone())
        return (state.board == 0).to(torch.int8).argmax(dim=1)


class OccupiedCellAgent:
    name = "cheater"

    def act(self, state: HexState, geometry: HexGeometry) -> torch.Tensor:
        return (state.board != 0).to(torch.int8).argmax(dim=1)  # a stone, once there is one


@pytest.mark.parametrize("size", [2, 3, 5])
def test_every_game_finishes_with_a_winner_in_a_possible_number_of_moves(size: int) -> None:
    result = play_match(RandomAgent("a", seed=1), RandomAgent("b", seed=2), size, games=64)
    assert result.games == int(result.wins.sum()) == 64
    assert set(result.winner.tolist()) <= {1, 2}
    assert 2 * size - 1 <= int(result.moves.min()) <= int(result.moves.max()) <= size * size
    assert result.first_player_wins == int((result.winner == 1).sum())


def test_each_agent_moves_first_in_half_the_games() -> None:
    result = play_match(RandomAgent("a", seed=1), RandomAgent("b", seed=2), 3, games=10)
    assert result.a_first.tolist() == [True] * 5 + [False] * 5
    odd = play_match(RandomAgent("a", seed=1), RandomAgent("b", seed=2), 3, games=7)
    assert int(odd.a_first.sum()) == 4


def test_wins_are_credited_to_the_agent_that_played_the_winning_colour() -> None:
    # The perfect player wins every game it opens on 3x3; its wins must be counted as its own.
    result = play_match(RandomAgent("random", seed=3), SolverAgent(3, seed=4), 3, games=40)
    assert result.names == ("random", "solver")
    solver_first = ~result.a_first
    assert bool((result.winner[solver_first] == 1).all())
    a_won = (result.winner == 1) == result.a_first
    assert result.wins.tolist() == [int(a_won.sum()), int((~a_won).sum())]
    assert int(result.wins[1]) >= 20
    assert result.score == float(result.wins[0]) / 40


def test_the_recorded_winner_is_the_one_of_the_final_board() -> None:
    # Deterministic agents play one game per colour assignment: replay it by hand.
    a, b = LowestCellAgent("a"), LowestCellAgent("b")
    result = play_match(a, b, 4, games=2)
    board = [0] * 16
    for ply in range(int(result.moves[0])):
        board[board.index(0)] = 1 + ply % 2
    rows = [board[r * 4 : (r + 1) * 4] for r in range(4)]
    assert reference_winner(rows) == int(result.winner[0]) == int(result.winner[1])


def test_random_against_random_is_even_over_many_games() -> None:
    result = play_match(RandomAgent("a", seed=5), RandomAgent("b", seed=6), 5, games=4000)
    assert 0.46 < result.score < 0.54
    # The first player's edge in random play on 5x5 is real (about 56%), and both share it.
    assert 0.52 < result.first_player_wins / 4000 < 0.61


def test_the_same_seeds_give_the_same_match() -> None:
    runs = [
        play_match(RandomAgent("a", seed=7), RandomAgent("b", seed=8), 4, 50, opening_moves=2)
        for _ in range(2)
    ]
    assert torch.equal(runs[0].winner, runs[1].winner)
    assert torch.equal(runs[0].moves, runs[1].moves)


def test_random_openings_are_shared_by_each_game_and_its_colour_swapped_twin() -> None:
    a, b = LowestCellAgent("a"), LowestCellAgent("b")
    plain = play_match(a, b, 5, games=40)
    assert len(set(plain.moves.tolist())) <= 2  # deterministic agents: two distinct games
    a, b = LowestCellAgent("a"), LowestCellAgent("b")
    opened = play_match(a, b, 5, games=40, seed=3, opening_moves=4)
    # After 4 opening stones player 1 moves: a on the first 20 boards, b on their twins.
    first_seen_by_a, first_seen_by_b = a.seen[0], b.seen[0]
    assert torch.equal(first_seen_by_a, first_seen_by_b)
    assert bool(((first_seen_by_a != 0).sum(dim=1) == 4).all())
    assert len({tuple(row) for row in first_seen_by_a.tolist()}) > 10
    assert len(set(opened.moves.tolist())) > 2


def test_an_illegal_move_names_the_agent() -> None:
    with pytest.raises(IllegalActionError, match="agent 'cheater' played illegal action"):
        play_match(RandomAgent(seed=1), OccupiedCellAgent(), 3, games=4)


def test_bad_counts_and_openings_are_refused() -> None:
    with pytest.raises(ValueError, match="games must be a positive integer"):
        play_match(RandomAgent("a"), RandomAgent("b"), 3, games=0)
    with pytest.raises(ValueError, match=r"opening_moves must be in 0\.\.4"):
        play_match(RandomAgent("a"), RandomAgent("b"), 3, games=2, opening_moves=5)
    with pytest.raises(ValueError, match="distinct names"):
        round_robin([RandomAgent("a"), RandomAgent("a")], 3, 2)
    with pytest.raises(ValueError, match="two or more agents"):
        round_robin([RandomAgent("a")], 3, 2)


def test_round_robin_plays_every_pair_with_both_colours() -> None:
    agents: list[Agent] = [
        RandomAgent("r1", seed=1),
        SolverAgent(3, seed=2),
        RandomAgent("r2", seed=3),
    ]
    wins = round_robin(agents, 3, games_per_pair=20, seed=1)
    assert wins.shape == (3, 3)
    assert wins.dtype == torch.long
    assert wins.diagonal().tolist() == [0, 0, 0]
    assert torch.equal(wins + wins.T, torch.full((3, 3), 20) - torch.diag(torch.full((3,), 20)))
    # The perfect player wins at least its 10 first-player games against each random agent.
    assert min(int(wins[1, 0]), int(wins[1, 2])) >= 10
    assert int(wins[1].sum()) > max(int(wins[0].sum()), int(wins[2].sum()))


def test_round_robin_agrees_with_separate_matches_of_deterministic_agents() -> None:
    agents: list[Agent] = [LowestCellAgent("x"), SolverAgent(3, seed=0)]
    wins = round_robin(agents, 3, games_per_pair=6)
    match = play_match(LowestCellAgent("x"), SolverAgent(3, seed=0), 3, games=6)
    assert [int(wins[0, 1]), int(wins[1, 0])] == match.wins.tolist()


@pytest.mark.gpu
def test_a_match_on_the_gpu_is_the_cpu_match_for_deterministic_agents() -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    runs = [
        play_match(SolverAgent(3), LowestCellAgent("b"), 3, 16, device=device)
        for device in ("cpu", "cuda")
    ]
    assert torch.equal(runs[0].winner, runs[1].winner)
    assert torch.equal(runs[0].moves, runs[1].moves)
    result = play_match(RandomAgent("a"), RandomAgent("b"), 7, 512, device="cuda", opening_moves=3)
    assert int(result.wins.sum()) == 512
    assert set(result.winner.tolist()) <= {1, 2}
