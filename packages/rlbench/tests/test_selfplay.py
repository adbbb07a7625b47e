"""Self-play: finished games become samples with the right targets, in the canonical frame."""

from __future__ import annotations

import itertools

import torch

from overseer_rlbench.evaluate import Evaluation, uniform_evaluator
from overseer_rlbench.hex import HexGeometry, HexState
from overseer_rlbench.mcts import SearchConfig
from overseer_rlbench.selfplay import Samples, SelfPlay


def _play_games(play: SelfPlay, games: int) -> list[Samples]:
    finished: list[Samples] = []
    while play.games < games:
        finished.append(play.step())
    return finished


def _split_games(samples: list[Samples]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(plies, values) of each game: a game's samples run from ply 0 up, in order."""
    plies = torch.cat([s.obs.sum(dim=(1, 2, 3)) for s in samples]).long()
    values = torch.cat([s.value for s in samples])
    starts = [*(plies == 0).nonzero().flatten().tolist(), len(plies)]
    return [(plies[a:b], values[a:b]) for a, b in itertools.pairwise(starts)]


def test_every_position_of_a_game_gets_its_movers_outcome() -> None:
    config = SearchConfig(simulations=4)
    play = SelfPlay(uniform_evaluator, size=3, n_envs=6, config=config, explore_moves=9, seed=3)
    samples = _play_games(play, games=12)
    games = _split_games(samples)
    assert len(games) == sum(s.games for s in samples) == play.games
    for plies, values in games:
        length = len(plies)
        assert plies.tolist() == list(range(length))
        assert 5 <= length <= 9  # 2n-1 to n**2 stones on 3x3
        # The last mover connected and won; values alternate back to the first move.
        expected = [1.0 if (length - 1 - ply) % 2 == 0 else -1.0 for ply in range(length)]
        assert values.tolist() == expected
    first_wins = sum(len(plies) % 2 == 1 for plies, _ in games)
    assert first_wins == sum(s.first_player_wins for s in samples)


def test_samples_are_counted_and_shaped() -> None:
    config = SearchConfig(simulations=2)
    play = SelfPlay(uniform_evaluator, size=2, n_envs=5, config=config, explore_moves=4)
    samples = _play_games(play, games=10)
    assert sum(s.count for s in samples) == play.positions_finished
    assert play.moves == 5 * len(samples)
    for batch in samples:
        assert batch.obs.shape == (batch.count, 2, 2, 2)
        assert batch.policy.shape == (batch.count, 4)
        torch.testing.assert_close(batch.policy.sum(dim=1), torch.ones(batch.count))


def _favouring(first: int, second: int) -> object:
    """An evaluator whose prior, in each board's own frame, prefers ``first`` then ``second``."""

    def evaluate(state: HexState, geometry: HexGeometry) -> Evaluation:
        logits = torch.zeros(state.n_envs, geometry.cells)
        logits[:, first], logits[:, second] = 10.0, 5.0
        return Evaluation(logits, torch.zeros(state.n_envs))

    return evaluate


def test_policy_targets_are_stored_in_the_canonical_frame() -> None:
    # Board cell 1 = (0, 1) first, then 2 = (0, 2). Player 1 takes 1; player 2 then wants 2,
    # which in its (transposed) canonical frame is (2, 0) = 6.
    config = SearchConfig(simulations=16)
    evaluator = _favouring(first=1, second=2)
    play = SelfPlay(evaluator, size=3, n_envs=4, config=config, explore_moves=0)  # type: ignore[arg-type]
    samples = _play_games(play, games=4)
    policy = torch.cat([s.policy for s in samples])
    plies = torch.cat([s.obs for s in samples]).sum(dim=(1, 2, 3)).long()
    assert policy[plies == 0].argmax(dim=1).tolist() == [1] * 4
    assert policy[plies == 1].argmax(dim=1).tolist() == [6] * 4


def test_early_moves_are_drawn_from_the_policy_then_chosen_by_the_search() -> None:
    config = SearchConfig(simulations=8)
    greedy = SelfPlay(_favouring(1, 2), 3, 16, config, explore_moves=0)  # type: ignore[arg-type]
    greedy.step()
    assert set(greedy.env.board.view(16, 9).argmax(dim=1).tolist()) == {1}
    exploring = SelfPlay(uniform_evaluator, 3, 16, config, explore_moves=1, seed=0)
    exploring.step()
    assert len(set(exploring.env.board.view(16, 9).argmax(dim=1).tolist())) > 3


def test_a_seed_fixes_the_games() -> None:
    config = SearchConfig(simulations=4, dirichlet_alpha=0.3)

    def run(seed: int) -> torch.Tensor:
        play = SelfPlay(uniform_evaluator, 3, 4, config, explore_moves=3, seed=seed)
        values = [s.value for s in _play_games(play, games=8)]
        return torch.cat([*values, play.env.state.board.flatten().float()])

    assert torch.equal(run(5), run(5))
    assert not torch.equal(run(5), run(6))
