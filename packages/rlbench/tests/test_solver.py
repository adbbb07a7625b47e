"""The exact solver against a brute-force search over the plain reference rules."""

from __future__ import annotations

from functools import cache

import pytest
import torch

from overseer_rlbench.agents import RandomAgent
from overseer_rlbench.arena import play_match
from overseer_rlbench.hex import HexGeometry, HexState, initial_state, play
from overseer_rlbench.reference import winner
from overseer_rlbench.solver import Solver, SolverAgent, oracle_evaluator


def rows_of(board: tuple[int, ...], size: int) -> list[list[int]]:
    return [list(board[r * size : (r + 1) * size]) for r in range(size)]


@cache
def brute_mover_wins(board: tuple[int, ...], size: int) -> bool:
    """Plain negamax over the BFS reference: does the player to move win?"""
    if winner(rows_of(board, size)):
        return False  # the previous mover has connected
    mover = 1 if board.count(1) == board.count(2) else 2
    for cell, stone in enumerate(board):
        if stone == 0:
            child = (*board[:cell], mover, *board[cell + 1 :])
            if not brute_mover_wins(child, size):
                return True
    return False


def state_of(boards: list[tuple[int, ...]], geometry: HexGeometry) -> HexState:
    """The HexState of the given boards, built by playing their stones in order."""
    states = []
    for board in boards:
        state = initial_state(geometry, 1)
        ones = [c for c, s in enumerate(board) if s == 1]
        twos = [c for c, s in enumerate(board) if s == 2]
        for k in range(len(ones) + len(twos)):
            cell = ones[k // 2] if k % 2 == 0 else twos[k // 2]
            state, _ = play(state, torch.tensor([cell]), geometry)
        states.append(state)
    return HexState(
        *(torch.cat(parts) for parts in zip(*(vars(s).values() for s in states), strict=True))
    )


def random_boards(size: int, stones: int, count: int, seed: int) -> list[tuple[int, ...]]:
    """Boards with ``stones`` random stones, alternating colours (some may be finished)."""
    generator = torch.Generator().manual_seed(seed)
    boards = []
    for _ in range(count):
        cells = torch.randperm(size * size, generator=generator)[:stones].tolist()
        board = [0] * (size * size)
        for k, cell in enumerate(cells):
            board[cell] = 1 + k % 2
        boards.append(tuple(board))
    return boards


@pytest.mark.parametrize("size", [2, 3, 4])
def test_first_player_wins_from_the_empty_board(size: int) -> None:
    geometry = HexGeometry(size)
    assert Solver(size).value(initial_state(geometry, 2)).tolist() == [1.0, 1.0]


def test_values_match_brute_force_on_every_3x3_board_of_a_few_stones() -> None:
    geometry = HexGeometry(3)
    boards = sorted(set(random_boards(3, 3, 150, seed=0) + random_boards(3, 6, 150, seed=1)))
    value = Solver(3).value(state_of(boards, geometry))
    expected = [1.0 if brute_mover_wins(b, 3) else -1.0 for b in boards]
    assert value.tolist() == expected
    assert set(expected) == {-1.0, 1.0}  # both outcomes are exercised


def test_values_match_brute_force_on_4x4_endgames() -> None:
    geometry = HexGeometry(4)
    boards = random_boards(4, 9, 40, seed=2) + random_boards(4, 10, 40, seed=3)
    value = Solver(4).value(state_of(boards, geometry))
    expected = [1.0 if brute_mover_wins(b, 4) else -1.0 for b in boards]
    assert value.tolist() == expected


def test_a_finished_board_is_lost_for_the_player_to_move() -> None:
    geometry = HexGeometry(3)
    won_by_first = (1, 2, 0, 1, 2, 0, 1, 0, 0)  # column 0 joins rows 0 and 2; 2 to move
    state = state_of([won_by_first], geometry)
    assert Solver(3).value(state).tolist() == [-1.0]
    assert not Solver(3).winning_moves(state).any()


def test_4x4_winning_openings_are_the_short_diagonal() -> None:
    geometry = HexGeometry(4)
    state = initial_state(geometry, 1)
    winning = Solver(4).winning_moves(state)[0]
    assert winning.nonzero().flatten().tolist() == [3, 6, 9, 12]
    # The board maps to itself under a half turn (cell -> 15 - cell), so must the set.
    assert torch.equal(winning, winning.flip(0))


def test_3x3_winning_openings_match_brute_force() -> None:
    empty = (0,) * 9
    expected = [not brute_mover_wins((*empty[:c], 1, *empty[c + 1 :]), 3) for c in range(9)]
    winning = Solver(3).winning_moves(initial_state(HexGeometry(3), 1))[0]
    assert winning.tolist() == expected


def test_winning_moves_of_a_lost_position_are_empty_and_a_won_one_has_some() -> None:
    geometry = HexGeometry(3)
    boards = random_boards(3, 4, 60, seed=4)
    boards = [b for b in boards if not winner(rows_of(b, 3))]
    state = state_of(boards, geometry)
    solver = Solver(3)
    has_win = solver.winning_moves(state).any(dim=1)
    assert torch.equal(has_win, solver.value(state) > 0)


def test_winning_move_is_one_of_the_winning_moves_and_minus_one_when_lost() -> None:
    geometry = HexGeometry(4)
    state = state_of(random_boards(4, 5, 40, seed=6), geometry)
    solver = Solver(4)
    winning = solver.winning_moves(state)
    for generator in (None, torch.Generator().manual_seed(0)):
        move = solver.winning_move(state, generator)
        has_win = winning.any(dim=1)
        assert torch.equal(move >= 0, has_win)
        assert bool(winning[has_win].gather(1, move[has_win].unsqueeze(1)).all())


def test_the_answer_table_is_shared_by_every_solver_of_a_size() -> None:
    assert Solver(4)._tables is Solver(4)._tables
    assert Solver(3)._tables is not Solver(4)._tables


@pytest.mark.parametrize("size", [1, 5, 11])
def test_a_size_it_cannot_solve_is_a_one_line_error(size: int) -> None:
    with pytest.raises(ValueError, match=f"2..4, got {size}") as caught:
        Solver(size)
    assert "\n" not in str(caught.value)


def test_boards_of_another_size_are_refused() -> None:
    with pytest.raises(ValueError, match="boards of 9 cells"):
        Solver(4).value(initial_state(HexGeometry(3), 1))


def test_oracle_evaluator_has_a_flat_prior_and_the_exact_value() -> None:
    geometry = HexGeometry(3)
    boards = [b for b in random_boards(3, 3, 30, seed=5) if not winner(rows_of(b, 3))]
    state = state_of(boards, geometry)
    evaluation = oracle_evaluator(3)(state, geometry)
    assert torch.equal(evaluation.logits, torch.zeros(len(boards), 9))
    assert evaluation.value.tolist() == [1.0 if brute_mover_wins(b, 3) else -1.0 for b in boards]


@pytest.mark.parametrize("size", [3, 4])
def test_solver_agent_never_loses_as_first_player_against_random(size: int) -> None:
    result = play_match(SolverAgent(size, seed=1), RandomAgent(seed=2), size, games=40)
    first_games_won = ((result.winner == 1) & result.a_first).sum()
    assert int(first_games_won) == int(result.a_first.sum()) == 20
