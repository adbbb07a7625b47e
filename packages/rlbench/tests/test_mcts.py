"""The batched search: budgets, wins, the regularised policy, perfect play with an oracle."""

from __future__ import annotations

import importlib
import math
from dataclasses import fields
from functools import partial
from typing import Any

import pytest
import torch

from overseer_rlbench import _regularized, _tree
from overseer_rlbench._gumbel import halving_schedule
from overseer_rlbench.evaluate import Evaluation, uniform_evaluator
from overseer_rlbench.hex import HexGeometry, HexState, initial_state, play
from overseer_rlbench.mcts import SearchConfig, SearchResult, regularized_policy, search
from overseer_rlbench.reference import winner
from overseer_rlbench.solver import Solver, oracle_evaluator

ALGORITHMS = ("puct", "regularized", "gumbel")
# The module, not the function the package re-exports under the same name.
search_module = importlib.import_module("overseer_rlbench.mcts")


def random_positions(size: int, per_length: int, seed: int = 0) -> HexState:
    """Boards still in play after 0, 1, 2, ... random moves, ``per_length`` of each."""
    geometry = HexGeometry(size)
    generator = torch.Generator().manual_seed(seed)
    kept: list[HexState] = []
    state = initial_state(geometry, per_length)
    alive = torch.ones(per_length, dtype=torch.bool)
    for _ in range(geometry.cells - 1):
        kept.append(_select(state, alive))
        noise = torch.rand((per_length, geometry.cells), generator=generator)
        actions = noise.masked_fill(~state.legal(), -1.0).argmax(dim=1)
        state, winner = play(state, actions, geometry)
        alive &= winner == 0
    return _concat(kept)


def _select(state: HexState, mask: torch.Tensor) -> HexState:
    return HexState(*(getattr(state, f.name)[mask] for f in fields(state)))


def _concat(states: list[HexState]) -> HexState:
    names = [f.name for f in fields(HexState)]
    return HexState(*(torch.cat([getattr(s, name) for s in states]) for name in names))


def immediate_wins(state: HexState, geometry: HexGeometry) -> torch.Tensor:
    """bool ``[n, cells]``: the moves that win on the spot."""
    wins = torch.zeros_like(state.legal())
    for cell in range(geometry.cells):
        actions = torch.full((state.n_envs,), cell, dtype=torch.long)
        _, winner = play(state, actions, geometry)
        wins[:, cell] = (winner != 0) & state.legal()[:, cell]
    return wins


def config(algorithm: str, simulations: int, **options: Any) -> SearchConfig:
    return SearchConfig(algorithm=algorithm, simulations=simulations, **options)  # type: ignore[arg-type]


# -- budgets and legality --------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_root_visits_sum_to_the_simulations_and_stay_on_legal_moves(algorithm: str) -> None:
    geometry = HexGeometry(4)
    state = random_positions(4, 3, seed=1)
    result = search(state, geometry, uniform_evaluator, config(algorithm, 24))
    legal = state.legal()
    assert result.visits.sum(dim=1).tolist() == [24] * state.n_envs
    assert not result.visits[~legal].any()
    assert not result.policy[~legal].any()
    assert torch.allclose(result.policy.sum(dim=1), torch.ones(state.n_envs), atol=1e-5)
    assert legal.gather(1, result.action.unsqueeze(1)).all()
    assert result.value.abs().max() <= 1.0


def test_puct_policy_is_the_visit_shares() -> None:
    geometry = HexGeometry(3)
    state = random_positions(3, 2, seed=2)
    result = search(state, geometry, uniform_evaluator, config("puct", 20))
    assert torch.allclose(result.policy, result.visits.float() / 20)


def greedy_on_occupied(state: HexState, geometry: HexGeometry) -> Evaluation:
    """A prior that puts nearly all its mass on occupied cells: a search must ignore it."""
    logits = torch.where(state.board != 0, 50.0, 0.0)
    return Evaluation(logits=logits, value=torch.zeros(state.n_envs))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_illegal_actions_get_nothing_even_when_the_prior_wants_them(algorithm: str) -> None:
    geometry = HexGeometry(4)
    state = random_positions(4, 2, seed=3)
    state = _select(state, state.moves >= 3)
    result = search(state, geometry, greedy_on_occupied, config(algorithm, 16))
    occupied = ~state.legal()
    assert not result.visits[occupied].any()
    assert not result.policy[occupied].any()
    assert not occupied.gather(1, result.action.unsqueeze(1)).any()


def optimist(state: HexState, geometry: HexGeometry) -> Evaluation:
    """Every position is won for its mover: every move searched looks lost."""
    return Evaluation(torch.zeros(state.n_envs, geometry.cells), torch.ones(state.n_envs))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_chosen_action_was_searched(algorithm: str) -> None:
    # Unsearched moves keep the root's mean value, above the -1 of every searched one; the
    # policy may favour them (regularised), the choice may not.
    geometry = HexGeometry(3)
    state = initial_state(geometry, 4)
    result = search(state, geometry, optimist, config(algorithm, 3))
    assert (result.visits.gather(1, result.action.unsqueeze(1)) > 0).all()


# -- wins --------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_an_immediate_win_is_found_and_chosen(algorithm: str) -> None:
    geometry = HexGeometry(4)
    state = random_positions(4, 6, seed=4)
    wins = immediate_wins(state, geometry)
    state, wins = _select(state, wins.any(dim=1)), wins[wins.any(dim=1)]
    assert state.n_envs >= 10
    options = {"gumbel_considered": geometry.cells} if algorithm == "gumbel" else {}
    result = search(state, geometry, uniform_evaluator, config(algorithm, 32, **options))
    assert wins.gather(1, result.action.unsqueeze(1)).all()
    # The winning child is terminal: worth +1 whatever the (null) evaluator says.
    assert (result.value > 0).all()


def test_finished_games_are_never_shown_to_the_evaluator() -> None:
    geometry = HexGeometry(3)
    # Player 1 to move, owning (0, 1) and (1, 1): (2, 0) or (2, 1) connects at once.
    board = torch.tensor([[0, 1, 0, 2, 1, 0, 0, 0, 2]], dtype=torch.int8)
    state = _position(board, geometry)
    seen: list[torch.Tensor] = []

    def liar(state: HexState, geometry: HexGeometry) -> Evaluation:
        # Says every position it is shown is lost for the mover.
        seen.extend(state.board.clone())
        return Evaluation(torch.zeros(state.n_envs, geometry.cells), -torch.ones(state.n_envs))

    for algorithm in ALGORITHMS:
        result = search(state, geometry, liar, config(algorithm, 12))
        assert result.action.item() in (6, 7)
    assert len(seen) == 3 * 13
    assert not any(winner(board.view(3, 3).tolist()) for board in seen)


def _position(boards: torch.Tensor, geometry: HexGeometry) -> HexState:
    """The HexState of ``boards`` (its stones replayed, player 1's first, alternating)."""
    states = []
    for board in boards:
        ones = (board == 1).nonzero().flatten().tolist()
        twos = (board == 2).nonzero().flatten().tolist()
        state = initial_state(geometry, 1)
        for k in range(len(ones) + len(twos)):
            cell = (ones if k % 2 == 0 else twos)[k // 2]
            state, _ = play(state, torch.tensor([cell]), geometry)
        states.append(state)
    return _concat(states)


# -- the regularised policy ------------------------------------------------------------------


def two_action_policy(q1: float, q2: float, p1: float, lam: float) -> list[float]:
    """pi_bar by hand: with two actions, sum = 1 is a quadratic in alpha (the larger root)."""
    p2 = 1.0 - p1
    b = q1 + q2 + lam
    c = q1 * q2 + lam * (p1 * q2 + p2 * q1)
    alpha = (b + math.sqrt(b * b - 4.0 * c)) / 2.0
    return [lam * p1 / (alpha - q1), lam * p2 / (alpha - q2)]


@pytest.mark.parametrize(
    ("q1", "q2", "p1", "lam"),
    [(1.0, 0.0, 0.5, 1.0), (0.3, -0.2, 0.9, 0.05), (-1.0, 1.0, 0.99, 2.0), (0.0, 0.0, 0.3, 0.7)],
)
def test_regularized_policy_matches_the_two_action_closed_form(
    q1: float, q2: float, p1: float, lam: float
) -> None:
    q = torch.tensor([[q1, q2]])
    prior = torch.tensor([[p1, 1.0 - p1]])
    policy = regularized_policy(q, prior, torch.ones(1, 2, dtype=torch.bool), torch.tensor([lam]))
    assert policy[0].tolist() == pytest.approx(two_action_policy(q1, q2, p1, lam), abs=1e-6)


def random_problem(n: int, actions: int, seed: int) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    q = torch.rand((n, actions), generator=generator) * 2 - 1
    legal = torch.rand((n, actions), generator=generator) < 0.7
    legal[:, 0] = True
    logits = torch.randn((n, actions), generator=generator) * 3
    prior = logits.masked_fill(~legal, -torch.inf).softmax(dim=1)
    scale = 10.0 ** torch.randint(-4, 3, (n,), generator=generator)
    multiplier = torch.rand(n, generator=generator) * scale
    return q, prior, legal, multiplier


def test_regularized_policy_sums_to_one_and_maximises_its_objective() -> None:
    q, prior, legal, multiplier = (
        t.double() if t.is_floating_point() else t for t in random_problem(64, 25, seed=5)
    )
    policy = regularized_policy(q, prior, legal, multiplier)
    assert torch.allclose(policy.sum(dim=1), torch.ones(64, dtype=torch.float64))
    assert not policy[~legal].any()

    def objective(y: torch.Tensor) -> torch.Tensor:
        ratio = torch.where(legal, prior / y.clamp_min(1e-300), 1.0)
        return (q * y).sum(dim=1) - multiplier * (prior * ratio.log()).sum(dim=1)

    best = objective(policy)
    generator = torch.Generator().manual_seed(6)
    for _ in range(20):
        bumped = policy * torch.exp(0.05 * torch.randn(policy.shape, generator=generator))
        bumped = bumped / bumped.sum(dim=1, keepdim=True)
        assert (objective(bumped) <= best + 1e-9).all()


def test_regularized_policy_limits() -> None:
    q = torch.tensor([[0.5, 0.1, -0.3, 0.5]])
    prior = torch.tensor([[0.1, 0.2, 0.3, 0.4]])
    legal = torch.ones(1, 4, dtype=torch.bool)
    # Equal values leave the prior as it is; a huge multiplier too.
    flat = regularized_policy(torch.zeros(1, 4), prior, legal, torch.tensor([0.3]))
    assert torch.allclose(flat, prior, atol=1e-6)
    assert torch.allclose(
        regularized_policy(q, prior, legal, torch.tensor([1e6])), prior, atol=1e-5
    )
    # No multiplier: all the mass on the best values, split by the prior.
    greedy = regularized_policy(q, prior, legal, torch.tensor([0.0]))
    assert greedy[0].tolist() == pytest.approx([0.2, 0.0, 0.0, 0.8], abs=1e-5)


@pytest.mark.parametrize("actions", [2, 9, 121, 361])
def test_newton_agrees_with_bisection_on_random_batches(actions: int) -> None:
    q, prior, legal, multiplier = random_problem(256, actions, seed=actions)
    wide = (q.double(), prior.double(), legal, multiplier.double())
    exact = _regularized.bisection_policy(*wide)
    assert (regularized_policy(q, prior, legal, multiplier).double() - exact).abs().max() < 1e-5
    # In float64 Newton's method lands on the same root to rounding.
    assert (_regularized.regularized_policy(*wide) - exact).abs().max() < 1e-10


def test_the_multiplier_has_the_square_root() -> None:
    multiplier = _regularized.selection_multiplier(
        2.0, torch.tensor([0.0, 16.0, 100.0]), torch.tensor([10.0, 4.0, 100.0])
    )
    assert multiplier.tolist() == pytest.approx([0.0, 2.0 * 4 / 20, 2.0 * 10 / 200])


# -- Gumbel's sequential halving ---------------------------------------------------------------


def test_halving_schedules() -> None:
    assert halving_schedule(1, 5) == (0, 1, 2, 3, 4)
    assert halving_schedule(2, 6) == (0, 0, 1, 1, 2, 2)
    # 16 actions, 64 simulations: 4 rounds of 16 x 1, 8 x 2, 4 x 4, 2 x 8 visits.
    schedule = halving_schedule(16, 64)
    assert schedule[:16] == (0,) * 16
    assert schedule[16:32] == (1,) * 8 + (2,) * 8
    assert schedule[32:48] == (3,) * 4 + (4,) * 4 + (5,) * 4 + (6,) * 4
    assert schedule[48:] == tuple(v for v in range(7, 15) for _ in range(2))


def test_gumbel_spends_the_budget_by_sequential_halving() -> None:
    geometry = HexGeometry(4)
    state = initial_state(geometry, 8)
    settings = config("gumbel", 12, gumbel_considered=4)
    result = search(state, geometry, uniform_evaluator, settings, torch.Generator().manual_seed(0))
    # Four actions get a visit each, then the better two share the rest.
    assert (
        result.visits.sort(dim=1, descending=True).values[:, :5].tolist() == [[5, 5, 1, 1, 0]] * 8
    )
    # The draws pick different actions on different boards.
    assert len({tuple(row) for row in (result.visits > 0).tolist()}) > 1


# -- perfect play with an exact value oracle ---------------------------------------------------


@pytest.mark.parametrize("size", [3, 4])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_with_an_exact_oracle_the_search_plays_perfectly(size: int, algorithm: str) -> None:
    geometry = HexGeometry(size)
    solver = Solver(size)
    state = random_positions(size, 4 if size == 3 else 3, seed=7)
    won = solver.value(state) > 0
    state = _select(state, won)
    assert state.n_envs >= 10
    options = {"gumbel_considered": geometry.cells} if algorithm == "gumbel" else {}
    simulations = 32 if size == 3 else 64
    result = search(
        state, geometry, oracle_evaluator(size), config(algorithm, simulations, **options)
    )
    winning = solver.winning_moves(state)
    assert winning.gather(1, result.action.unsqueeze(1)).all()


@pytest.mark.parametrize("size", [3, 4])
def test_with_an_exact_oracle_the_first_player_never_loses_to_random(size: int) -> None:
    geometry = HexGeometry(size)
    games = 16
    state = initial_state(geometry, games)
    generator = torch.Generator().manual_seed(8)
    searcher = partial(search, geometry=geometry, evaluator=oracle_evaluator(size))
    done = torch.zeros(games, dtype=torch.bool)
    winners = torch.zeros(games, dtype=torch.int8)
    while not done.all():
        playing = _select(state, ~done)
        if int(playing.to_move[0]) == 1:
            actions = searcher(playing, config=config("puct", 24)).action
        else:
            noise = torch.rand(playing.board.shape, generator=generator)
            actions = noise.masked_fill(~playing.legal(), -1.0).argmax(dim=1)
        after, winner = play(playing, actions, geometry)
        index = (~done).nonzero().flatten()
        state = _scatter(state, index, after)
        winners[index] = winner
        done[index] = winner != 0
    assert (winners == 1).all()


def _scatter(state: HexState, index: torch.Tensor, source: HexState) -> HexState:
    parts = {}
    for f in fields(HexState):
        whole = getattr(state, f.name).clone()
        whole[index] = getattr(source, f.name)
        parts[f.name] = whole
    return HexState(**parts)


# -- randomness, settings, devices -------------------------------------------------------------


def seeded(algorithm: str, seed: int, **options: Any) -> SearchResult:
    geometry = HexGeometry(4)
    state = random_positions(4, 2, seed=9)
    generator = torch.Generator().manual_seed(seed)
    return search(state, geometry, uniform_evaluator, config(algorithm, 16, **options), generator)


@pytest.mark.parametrize(
    ("algorithm", "options"),
    [("puct", {"dirichlet_alpha": 0.3}), ("regularized", {"dirichlet_alpha": 0.3}), ("gumbel", {})],
)
def test_a_seed_fixes_the_result_and_another_seed_changes_it(
    algorithm: str, options: dict[str, Any]
) -> None:
    first, again, other = (seeded(algorithm, seed, **options) for seed in (1, 1, 2))
    for name in ("policy", "visits", "value", "action"):
        assert torch.equal(getattr(first, name), getattr(again, name))
    assert not torch.equal(first.visits, other.visits)


def test_without_noise_puct_is_deterministic_and_ignores_the_generator() -> None:
    assert torch.equal(seeded("puct", 1).visits, seeded("puct", 2).visits)


def test_dirichlet_noise_moves_the_root_prior_only_by_its_fraction() -> None:
    geometry = HexGeometry(3)
    state = initial_state(geometry, 64)
    generator = torch.Generator().manual_seed(3)
    noisy = config("puct", 2, dirichlet_alpha=0.3, dirichlet_fraction=0.25)
    # With two simulations the two visited moves follow the noisy prior's two largest
    # entries; with a flat prior and no noise they are always the first two cells.
    result = search(state, geometry, uniform_evaluator, noisy, generator)
    assert (result.visits.argmax(dim=1) != 0).any()
    plain = search(state, geometry, uniform_evaluator, config("puct", 2))
    assert plain.visits[:, :2].eq(1).all()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"algorithm": "alphazero"}, "algorithm"),
        ({"simulations": 0}, "simulations"),
        ({"simulations": 2.5}, "simulations"),
        ({"algorithm": "gumbel", "simulations": 1}, "simulations"),
        ({"c_puct": 0.0}, "c_puct"),
        ({"c_puct": math.inf}, "c_puct"),
        ({"dirichlet_alpha": -0.3}, "dirichlet_alpha"),
        ({"dirichlet_fraction": 1.5}, "dirichlet_fraction"),
        ({"gumbel_considered": 0}, "gumbel_considered"),
        ({"gumbel_c_visit": -1.0}, "gumbel_c_visit"),
        ({"gumbel_c_scale": 0.0}, "gumbel_c_scale"),
    ],
)
def test_bad_settings_are_refused_with_the_field_the_value_and_the_fix(
    options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=rf"^SearchConfig\.{field} = .* is invalid: use ") as info:
        SearchConfig(**options)
    assert "\n" not in str(info.value)
    assert repr(options[field]) in str(info.value)


def test_a_finished_board_is_refused() -> None:
    geometry = HexGeometry(2)
    state = initial_state(geometry, 3)
    # Player 1 takes (0, 0) and (1, 0) on board 1: connected, the game is over there.
    for actions in ([0, 0, 0], [1, 3, 1], [2, 1, 3]):
        state, _ = play(state, torch.tensor(actions), geometry)
    with pytest.raises(ValueError, match=r"1 are won already \(e\.g\. boards \[0\]\)"):
        search(state, geometry, uniform_evaluator, SearchConfig(simulations=4))


def test_a_geometry_on_another_device_is_refused() -> None:
    state = initial_state(HexGeometry(3), 2)
    with pytest.raises(ValueError, match="the geometry is on meta but the boards are on cpu"):
        search(state, HexGeometry(3, "meta"), uniform_evaluator, SearchConfig(simulations=4))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_fixed_length_descents_give_the_same_search(
    algorithm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On CUDA descents run a bounded number of steps with no early stop: same result."""
    geometry = HexGeometry(3)
    state = random_positions(3, 3, seed=10)
    evaluator = oracle_evaluator(3)
    settings = config(algorithm, 24, **({"dirichlet_alpha": 0.5} if algorithm != "gumbel" else {}))
    reference = search(state, geometry, evaluator, settings, torch.Generator().manual_seed(0))
    lengths: list[int] = []
    descend = search_module.descend

    def recording(*args: Any) -> _tree.Descent:
        descent: _tree.Descent = descend(*args)
        lengths.append(len(descent.edges))
        return descent

    bounded_limit = partial(search_module._DepthLimit, early_exit=False)
    monkeypatch.setattr(search_module, "_DepthLimit", bounded_limit)
    monkeypatch.setattr(search_module, "descend", recording)
    bounded = search(state, geometry, evaluator, settings, torch.Generator().manual_seed(0))
    for name in ("policy", "visits", "value", "action"):
        assert torch.equal(getattr(reference, name), getattr(bounded, name))
    assert lengths == [min(k + 1, geometry.cells) for k in range(24)]


@pytest.mark.gpu
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_cuda_search_agrees_with_the_cpu(algorithm: str) -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    state = random_positions(5, 4, seed=11)
    results = []
    for device in ("cpu", "cuda"):
        geometry = HexGeometry(5, device)
        moved = HexState(*(getattr(state, f.name).to(device) for f in fields(HexState)))
        result = search(moved, geometry, uniform_evaluator, config(algorithm, 32))
        results.append(result)
        assert result.visits.sum(dim=1).eq(32).all()
        assert moved.legal().gather(1, result.action.unsqueeze(1)).all()
    cpu, cuda = results
    if algorithm != "gumbel":  # Gumbel draws differ between the devices' generators
        assert torch.equal(cpu.visits, cuda.visits.cpu())
        assert torch.allclose(cpu.policy, cuda.policy.cpu(), atol=1e-5)
