"""Bradley-Terry Elo: known ratings recovered from simulated tournaments, within intervals."""

from __future__ import annotations

import math

import pytest
import torch

from overseer_rlbench.ratings import ELO_PER_LOGIT, fit_bradley_terry

TRUE_ELO = torch.tensor([0.0, 120.0, -80.0, 300.0, 520.0], dtype=torch.float64)
NAMES = ["anchor", "b", "c", "d", "e"]


def simulated_wins(elo: torch.Tensor, games: int, generator: torch.Generator) -> torch.Tensor:
    """A round robin of ``games`` per pair where i beats j with the Bradley-Terry chance."""
    p = torch.sigmoid((elo.unsqueeze(1) - elo.unsqueeze(0)) / ELO_PER_LOGIT)
    upper = torch.triu(torch.ones_like(p, dtype=torch.bool), diagonal=1)
    counts = torch.full_like(p, float(games))
    won = torch.binomial(counts, p, generator=generator) * upper
    return (won + (games - won.T) * upper.T).long()


def test_simulated_ratings_are_recovered_within_their_intervals() -> None:
    generator = torch.Generator().manual_seed(0)
    covered, total, ordered = 0, 0, 0
    for _ in range(40):
        ratings = fit_bradley_terry(simulated_wins(TRUE_ELO, 200, generator), NAMES)
        inside = (ratings.low <= TRUE_ELO) & (ratings.high >= TRUE_ELO)
        covered += int(inside[1:].sum())
        total += len(NAMES) - 1
        ordered += int(torch.equal(ratings.elo.argsort(), TRUE_ELO.argsort()))
    assert covered / total >= 0.88  # nominal 95%; a wrong variance drops far below
    assert covered / total < 1.0  # and not so wide that nothing ever falls out
    assert ordered >= 36


def test_intervals_shrink_with_more_games_and_the_errors_with_them() -> None:
    generator = torch.Generator().manual_seed(1)
    few = fit_bradley_terry(simulated_wins(TRUE_ELO, 50, generator), NAMES)
    many = fit_bradley_terry(simulated_wins(TRUE_ELO, 5000, generator), NAMES)
    assert bool(((many.high - many.low)[1:] < (few.high - few.low)[1:] / 5).all())
    assert float((many.elo - TRUE_ELO).abs().max()) < 30.0


def test_the_anchor_is_zero_with_an_empty_interval_and_moving_it_shifts_everyone() -> None:
    wins = simulated_wins(TRUE_ELO, 100, torch.Generator().manual_seed(2))
    by_first = fit_bradley_terry(wins, NAMES)
    by_d = fit_bradley_terry(wins, NAMES, anchor="d")
    assert by_d.anchor == "d"
    assert by_d.of("d") == 0.0
    assert float(by_d.low[3]) == float(by_d.high[3]) == 0.0
    assert float(by_first.low[0]) == float(by_first.high[0]) == 0.0
    assert torch.allclose(by_d.elo, by_first.elo - by_first.elo[3], atol=1e-6)
    assert torch.equal(fit_bradley_terry(wins, NAMES, anchor=3).elo, by_d.elo)


def test_two_agents_match_the_closed_form_with_the_virtual_draw() -> None:
    ratings = fit_bradley_terry(torch.tensor([[0, 30], [70, 0]]), ["a", "b"], confidence=0.9)
    won, lost = 70.5, 30.5  # one virtual draw: half a game each way
    assert ratings.of("b") == pytest.approx(ELO_PER_LOGIT * math.log(won / lost), abs=1e-9)
    p = won / (won + lost)
    stderr = ELO_PER_LOGIT / math.sqrt((won + lost) * p * (1 - p))
    assert float(ratings.high[1] - ratings.elo[1]) == pytest.approx(1.6448536 * stderr, rel=1e-6)


def test_an_undefeated_agent_gets_a_finite_rating_set_by_the_prior() -> None:
    ratings = fit_bradley_terry(torch.tensor([[0, 0], [100, 0]]), ["loser", "winner"])
    assert ratings.of("winner") == pytest.approx(ELO_PER_LOGIT * math.log(201), abs=1e-6)
    stronger = fit_bradley_terry(torch.tensor([[0, 0], [100, 0]]), ["l", "w"], prior_games=0.1)
    assert math.isfinite(stronger.of("w"))
    assert stronger.of("w") > ratings.of("winner")
    assert bool(torch.isfinite(stronger.low).all() & torch.isfinite(stronger.high).all())


def test_table_lists_the_strongest_first() -> None:
    ratings = fit_bradley_terry(torch.tensor([[0, 30], [70, 0]]), ["weak", "strong"])
    lines = ratings.table().splitlines()
    assert lines[0].split()[0] == "agent"
    assert "95% interval" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["strong", "weak"]


@pytest.mark.parametrize(
    ("wins", "names", "message"),
    [
        ([[0, 1, 2], [1, 0, 3]], ["a", "b"], "must be square"),
        ([[0, 1], [1, 0]], ["a", "b", "c"], "2 names were given|3 names were given"),
        ([[0, -1], [1, 0]], ["a", "b"], "non-negative"),
        ([[0, float("nan")], [1, 0]], ["a", "b"], "finite"),
        ([[2, 1], [1, 0]], ["a", "b"], "diagonal"),
        (
            [[0, 3, 0], [2, 0, 0], [0, 0, 0]],
            ["a", "b", "idle"],
            r"no games cannot be rated: \['idle'\]",
        ),
        (
            [[0, 3, 0, 0], [2, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]],
            ["a", "b", "c", "d"],
            r"agents \['c', 'd'\] never played",
        ),
    ],
)
def test_a_bad_matrix_is_a_one_line_error(
    wins: list[list[float]], names: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        fit_bradley_terry(torch.tensor(wins), names)
    assert "\n" not in str(caught.value)


def test_bad_anchor_confidence_and_prior_are_refused() -> None:
    wins = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="anchor 'z' is not one of"):
        fit_bradley_terry(wins, ["a", "b"], anchor="z")
    with pytest.raises(ValueError, match=r"anchor index must be in 0\.\.1"):
        fit_bradley_terry(wins, ["a", "b"], anchor=2)
    with pytest.raises(ValueError, match="confidence"):
        fit_bradley_terry(wins, ["a", "b"], confidence=1.0)
    with pytest.raises(ValueError, match="prior_games must be positive"):
        fit_bradley_terry(wins, ["a", "b"], prior_games=0.0)
