"""HexEnv and the batched rules against a plain breadth-first reference, on real torch."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from overseer_rlbench.env import HexEnv
from overseer_rlbench.errors import IllegalActionError, RLBenchError
from overseer_rlbench.hex import HexGeometry, initial_state, play, random_legal_actions
from overseer_rlbench.observation import from_canonical, observe, to_canonical
from overseer_rlbench.reference import connects, winner

SIZES = [2, 3, 4, 5, 7, 11]


def _boards(state_board: torch.Tensor, size: int) -> list[list[list[int]]]:
    boards: list[list[list[int]]] = state_board.view(-1, size, size).tolist()
    return boards


@pytest.mark.parametrize("size", SIZES)
def test_every_step_agrees_with_the_breadth_first_reference(size: int) -> None:
    games_wanted = 2000 if size <= 7 else 300
    env = HexEnv(128, size, seed=size)
    games = 0
    while games < games_wanted:
        actions = env.random_actions()
        after, won = play(env.state, actions, env.geometry)
        expected = [winner(board) for board in _boards(after.board, size)]
        assert won.tolist() == expected
        games += int(env.step(actions).done.sum())


@pytest.mark.parametrize("size", [3, 5, 8])
def test_a_full_board_has_exactly_one_winner_and_it_is_the_first_to_connect(size: int) -> None:
    geometry = HexGeometry(size)
    generator = torch.Generator().manual_seed(7)
    state = initial_state(geometry, 64)
    first = torch.zeros(64, dtype=torch.int8)
    for _ in range(geometry.cells):
        noise = torch.rand((64, geometry.cells), generator=generator)
        actions = noise.masked_fill(~state.legal(), -1).argmax(1)
        state, won = play(state, actions, geometry)
        first = torch.where((first == 0) & (won != 0), won, first)
    assert bool((state.board != 0).all())
    for board, first_winner in zip(_boards(state.board, size), first.tolist(), strict=True):
        assert (connects(board, 1), connects(board, 2)) in ((True, False), (False, True))
        assert winner(board) == first_winner


@pytest.mark.parametrize("size", [2, 3, 5, 9])
def test_games_last_between_2n_minus_1_and_n_squared_moves(size: int) -> None:
    env = HexEnv(256, size, seed=1)
    lengths: list[int] = []
    while len(lengths) < 1000:
        result = env.step_random()
        lengths += result.moves[result.done].tolist()
    assert min(lengths) >= 2 * size - 1
    assert max(lengths) <= size * size
    if size <= 3:  # on small boards the shortest game happens among 1000 random ones
        assert min(lengths) == 2 * size - 1


@pytest.mark.parametrize("size", [3, 4, 6])
def test_transposing_and_swapping_colours_swaps_the_winner(size: int) -> None:
    geometry = HexGeometry(size)
    state = initial_state(geometry, 300)
    # The mirror game plays every move transposed, by the other colour, so player 2 opens it.
    mirror = replace(state, to_move=torch.full_like(state.to_move, 2))
    generator = torch.Generator().manual_seed(size)
    ended = torch.zeros(300, dtype=torch.bool)
    for _ in range(geometry.cells):
        noise = torch.rand((300, geometry.cells), generator=generator)
        actions = noise.masked_fill(~state.legal(), -1).argmax(1)
        state, won = play(state, actions, geometry)
        mirror, mirror_won = play(mirror, geometry.transpose[actions], geometry)
        live = ~ended
        assert torch.equal(mirror_won[live], torch.where(won == 0, 0, 3 - won)[live])
        ended |= won != 0
    assert bool(ended.all())
    mirrored_boards = _boards(mirror.board, size)
    for board, mirrored in zip(_boards(state.board, size), mirrored_boards, strict=True):
        assert winner(mirrored) == 3 - winner(board)


def test_auto_reset_empties_only_the_finished_boards() -> None:
    env = HexEnv(64, 3, seed=5)
    while True:
        before, mover = env.state.board.clone(), env.to_move.clone()
        actions = env.random_actions()
        result = env.step(actions)
        if result.done.any() and not result.done.all():
            break
    done = result.done
    assert bool((env.board[done] == 0).all())
    assert bool((env.to_move[done] == 1).all())
    expected = before.clone()
    expected[torch.arange(64), actions] = mover
    assert torch.equal(env.state.board[~done], expected[~done])
    assert torch.equal(env.to_move[~done], 3 - mover[~done])
    assert bool((result.winner[~done] == 0).all())
    assert torch.equal(result.winner[done], mover[done])


def test_a_seed_fixes_the_trajectory() -> None:
    def trajectory(seed: int) -> list[list[int]]:
        env = HexEnv(16, 5, seed=seed)
        boards = []
        for _ in range(40):
            env.step_random()
            boards.append(env.state.board.flatten().tolist())
        return boards

    assert trajectory(3) == trajectory(3)
    assert trajectory(3) != trajectory(4)


def test_an_illegal_action_names_the_boards_and_changes_nothing() -> None:
    env = HexEnv(4, 3, seed=0)
    env.step(torch.tensor([0, 1, 2, 3]))
    before = env.board.clone()
    with pytest.raises(IllegalActionError, match=r"env 1 \(occupied: 1\), 3 \(off the board: 9\)"):
        env.step(torch.tensor([4, 1, 5, 9]))
    assert torch.equal(env.board, before)
    with pytest.raises(RLBenchError, match=r"shape \[4\]"):
        env.step(torch.tensor([0, 1]))
    with pytest.raises(IllegalActionError, match="integer tensor"):
        env.step(torch.zeros(4))


def test_bad_sizes_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="board size must be an integer of at least 2"):
        HexEnv(4, 1)
    with pytest.raises(ValueError, match="n_envs must be a positive integer"):
        HexEnv(0, 5)


def test_the_observation_shows_the_mover_connecting_rows() -> None:
    geometry = HexGeometry(3)
    state = initial_state(geometry, 1)
    state, _ = play(state, torch.tensor([1]), geometry)  # player 1 at (0, 1)
    planes = observe(state, geometry)  # player 2 to move: transposed, colours swapped
    assert planes.shape == (1, 2, 3, 3)
    assert planes[0, 1].nonzero().tolist() == [[1, 0]]
    assert planes[0, 0].sum() == 0
    state, _ = play(state, torch.tensor([5]), geometry)  # player 2 at (1, 2)
    planes = observe(state, geometry)  # player 1 to move: as is
    assert planes[0, 0].nonzero().tolist() == [[0, 1]]
    assert planes[0, 1].nonzero().tolist() == [[1, 2]]


def test_canonical_mapping_is_its_own_inverse() -> None:
    geometry = HexGeometry(4)
    values = torch.arange(32, dtype=torch.float32).view(2, 16)
    to_move = torch.tensor([1, 2], dtype=torch.int8)
    canonical = to_canonical(values, to_move, geometry)
    assert torch.equal(canonical[0], values[0])
    assert canonical[1].view(4, 4).T.reshape(-1).tolist() == values[1].tolist()
    assert torch.equal(from_canonical(canonical, to_move, geometry), values)


@pytest.mark.parametrize("dense", [False, True])
def test_random_play_draws_every_empty_cell_uniformly(dense: bool) -> None:
    geometry = HexGeometry(3)
    state = initial_state(geometry, 1)
    for action in (0, 4, 8, 2):  # a board with five empty cells left
        state, _ = play(state, torch.tensor([action]), geometry)
    many = replace(
        state,
        **{
            name: getattr(state, name).repeat_interleave(20_000, 0)
            for name in ("board", "labels", "groups", "to_move", "moves")
        },
    )
    actions = random_legal_actions(many, torch.Generator().manual_seed(0), dense=dense)
    counts = torch.bincount(actions, minlength=9)
    assert counts[[0, 2, 4, 8]].sum() == 0
    shares = counts[[1, 3, 5, 6, 7]].float() / len(actions)
    assert torch.allclose(shares, torch.full((5,), 0.2), atol=0.01)
