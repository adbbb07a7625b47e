"""Reference agents: random play, random-playout values, and the pure-MCTS agent."""

from __future__ import annotations

from itertools import permutations

import pytest
import torch

from overseer_rlbench.agents import (
    PolicyAgent,
    RandomAgent,
    SearchAgent,
    mcts_agent,
    network_agent,
    rollout_evaluator,
)
from overseer_rlbench.arena import play_match
from overseer_rlbench.evaluate import Evaluation, Evaluator, uniform_evaluator
from overseer_rlbench.hex import HexGeometry, HexState, initial_state, play
from overseer_rlbench.mcts import SearchConfig
from overseer_rlbench.network import build_network
from overseer_rlbench.reference import winner
from overseer_rlbench.solver import oracle_evaluator


def played(geometry: HexGeometry, moves: list[list[int]]) -> HexState:
    """Boards reached by playing each row of ``moves`` from empty (rows of equal length)."""
    state = initial_state(geometry, len(moves))
    for step in zip(*moves, strict=True):
        state, _ = play(state, torch.tensor(step), geometry)
    return state


def exact_random_value(board: list[int], size: int, mover: int) -> float:
    """The mover's mean outcome over every order of filling the empty cells at random."""
    empty = [c for c, s in enumerate(board) if s == 0]
    total, count = 0.0, 0
    for order in permutations(empty):
        filled = list(board)
        for k, cell in enumerate(order):
            filled[cell] = mover if k % 2 == 0 else 3 - mover
        rows = [filled[r * size : (r + 1) * size] for r in range(size)]
        total += 1.0 if winner(rows) == mover else -1.0
        count += 1
    return total / count


def test_random_agent_plays_legal_moves_uniformly_and_reproducibly() -> None:
    geometry = HexGeometry(3)
    state = played(geometry, [[4, 0]] * 3000)
    actions = RandomAgent(seed=1).act(state, geometry)
    assert bool(state.legal().gather(1, actions.unsqueeze(1)).all())
    counts = torch.bincount(actions, minlength=9)
    assert counts[[0, 4]].tolist() == [0, 0]
    free = counts[[1, 2, 3, 5, 6, 7, 8]].float()  # 3000 / 7 ~ 429 each, sd ~ 19
    assert float((free - 3000 / 7).abs().max()) < 90
    assert torch.equal(RandomAgent(seed=1).act(state, geometry), actions)
    assert not torch.equal(RandomAgent(seed=2).act(state, geometry), actions)


def test_rollout_values_match_the_exact_mean_of_random_endings() -> None:
    size, geometry = 3, HexGeometry(3)
    # Five stones each way would finish many games; these leave 4 empty cells unfinished.
    boards = [[4, 0, 1, 3, 5], [0, 8, 2, 6, 4], [1, 2, 3, 5, 7]]
    state = played(geometry, boards)
    evaluation = rollout_evaluator(rollouts=3000, seed=0)(state, geometry)
    for k, row in enumerate(state.board.tolist()):
        expected = exact_random_value(row, size, int(state.to_move[k]))
        assert float(evaluation.value[k]) == pytest.approx(expected, abs=0.06)
    assert torch.equal(evaluation.logits, torch.zeros(3, 9))


def test_rollout_value_is_exact_when_the_game_is_already_decided() -> None:
    geometry = HexGeometry(3)
    # Player 1 joined rows 0..2 down column 0 on its last move: player 2 to move has lost.
    finished = played(geometry, [[0, 1, 3, 4, 6]])
    # One empty cell left, the ending is forced: compare with the reference rules.
    last = played(geometry, [[7, 5, 4, 1, 6, 8, 3, 0]])
    evaluate = rollout_evaluator(rollouts=4, seed=1)
    assert evaluate(finished, geometry).value.tolist() == [-1.0]
    board = last.board[0].tolist()
    expected = exact_random_value(board, 3, int(last.to_move[0]))
    assert evaluate(last, geometry).value.tolist() == [expected]


def test_rollout_evaluator_is_seeded_and_checks_its_count() -> None:
    geometry = HexGeometry(4)
    state = initial_state(geometry, 16)
    values = [rollout_evaluator(rollouts=2, seed=5)(state, geometry).value for _ in range(2)]
    assert torch.equal(values[0], values[1])
    assert set(values[0].tolist()) <= {-1.0, 0.0, 1.0}
    with pytest.raises(ValueError, match="rollouts must be a positive integer, got 0"):
        rollout_evaluator(rollouts=0)


def test_random_agents_split_a_match_evenly() -> None:
    result = play_match(RandomAgent("a", seed=3), RandomAgent("b", seed=4), 4, games=1000)
    assert 0.44 < result.score < 0.56


def test_mcts_agent_has_a_fixed_budget_name_and_beats_random() -> None:
    agent = mcts_agent(simulations=64, seed=1)
    assert agent.name == "mcts-64"
    assert agent.config.simulations == 64
    assert agent.config.algorithm == "puct"
    for size, games in ((4, 40), (5, 20)):
        result = play_match(agent, RandomAgent(seed=2), size, games)
        assert result.score > 0.8, (size, result.wins.tolist())


def test_search_agent_plays_the_searchs_legal_choice_reproducibly() -> None:
    geometry = HexGeometry(4)
    state = played(geometry, [[5, 6], [0, 15], [9, 10]])
    config = SearchConfig(algorithm="gumbel", simulations=8, gumbel_considered=4)
    actions = [
        SearchAgent("g", uniform_evaluator, config, seed=3).act(state, geometry) for _ in range(2)
    ]
    assert torch.equal(actions[0], actions[1])
    assert actions[0].dtype == torch.long
    assert bool(state.legal().gather(1, actions[0].unsqueeze(1)).all())


def test_search_agent_with_the_exact_oracle_never_loses_as_first_player() -> None:
    agent = SearchAgent("oracle", oracle_evaluator(3), SearchConfig(simulations=32), seed=0)
    result = play_match(agent, RandomAgent(seed=4), 3, games=40)
    assert bool((result.winner[result.a_first] == 1).all())


def favouring(cells: list[int]) -> Evaluator:
    """An evaluator whose prior prefers ``cells`` in that order (the first most)."""

    def evaluate(state: HexState, geometry: HexGeometry) -> Evaluation:
        logits = torch.zeros((state.n_envs, geometry.cells))
        for rank, cell in enumerate(cells):
            logits[:, cell] = 10.0 - rank
        return Evaluation(logits=logits, value=torch.zeros(state.n_envs))

    return evaluate


def test_policy_agent_plays_its_favourite_legal_move() -> None:
    geometry = HexGeometry(3)
    state = played(geometry, [[0, 8], [4, 1], [2, 3]])
    actions = PolicyAgent("p", favouring([4, 2, 7])).act(state, geometry)
    assert actions.tolist() == [4, 2, 4]  # the favourite where empty, else the next one
    sampled = PolicyAgent("t", favouring([4, 2, 7]), temperature=1.0, seed=0)
    many = sampled.act(played(geometry, [[0, 8]] * 500), geometry)
    assert set(many.tolist()) <= {1, 2, 3, 4, 5, 6, 7}
    assert int((many == 4).sum()) > 300  # e^10 against e^9 and e^8: mostly the favourite
    with pytest.raises(ValueError, match="temperature must be at least 0"):
        PolicyAgent("bad", uniform_evaluator, temperature=-1.0)


def test_network_agent_plays_greedily_or_searches() -> None:
    geometry = HexGeometry(3)
    model = build_network(3, "tiny")
    greedy = network_agent(model, name="net")
    searching = network_agent(model, name="net-8", simulations=8, algorithm="gumbel")
    assert isinstance(greedy, PolicyAgent)
    assert isinstance(searching, SearchAgent)
    assert searching.config.simulations == 8
    state = played(geometry, [[4, 0], [1, 2]])
    for agent in (greedy, searching):
        actions = agent.act(state, geometry)
        assert bool(state.legal().gather(1, actions.unsqueeze(1)).all())
