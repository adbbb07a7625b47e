"""Two-word aliases: stable per signature, unique per store."""

from __future__ import annotations

import itertools

from overseer_xpmanager.aliases import ADJECTIVES, NOUNS, alias_candidates, alias_for


def test_an_alias_is_a_pure_function_of_the_signature() -> None:
    assert alias_for("63e21adfdcc3") == alias_for("63e21adfdcc3")
    assert alias_for("63e21adfdcc3") != alias_for("8b6ccc8a17cc")


def test_the_probe_order_visits_every_pair_once() -> None:
    pairs = len(ADJECTIVES) * len(NOUNS)
    first = list(itertools.islice(alias_candidates("0123456789ab"), pairs))
    assert len(set(first)) == pairs


def test_a_taken_alias_moves_to_the_next_free_one() -> None:
    own = alias_for("63e21adfdcc3")
    other = alias_for("63e21adfdcc3", lambda alias: alias == own)
    assert other != own
    assert other.count("-") == 1


def test_words_are_lowercase_and_unique() -> None:
    for words in (ADJECTIVES, NOUNS):
        assert len(set(words)) == len(words)
        assert all(word.isalpha() and word.islower() for word in words)
