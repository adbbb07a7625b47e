"""Readable names for XPs: two words (``neat-funds``) chosen from the signature.

A signature is exact but hard to say; an alias is easy to say, type and glob
(``suite xp info '*-funds'``). The alias is a pure function of the signature, so one XP has
the same alias in every store, unless that alias is taken there, in which case the next free
pair in a fixed probe order is used (17,947 pairs, then `<sig[:6]>-N`).

Example:
    >>> alias_for("63e21adfdcc3")
    '...-...'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

__all__ = ["ADJECTIVES", "NOUNS", "alias_candidates", "alias_for"]

# Word lists read better as running text than as a column of quoted strings.
ADJECTIVES = (  # noqa: SIM905
    "able amber ample apt arctic awake bold brave brief bright brisk broad calm candid "
    "clean clear clever close cool cosy crisp curly dapper daring deep deft dense eager "
    "early easy epic even exact fair fancy fast fine firm fit fleet fond free fresh frank "
    "glad gold good grand great green happy hardy hazy hearty high honest humble ideal "
    "jolly just keen kind large lean level light lively lucid lucky lunar magic major "
    "mellow merry mighty mild minty modest neat nice nimble noble novel open pale plain "
    "plucky polar prime proud quick quiet rapid rare ready regal rich right robust rosy "
    "royal rural rustic safe sage salty sharp shiny silent silky simple sleek smart smooth "
    "snowy social solar solid sonic spare stable steady stout sunny super sure swift tidy "
    "tiny topaz true vivid warm wise witty young zesty"
).split()

NOUNS = (  # noqa: SIM905
    "acorn anchor apple arrow aspen atlas badge bagel basil beacon berry birch bison "
    "blossom bridge brook cabin cactus camel canyon cedar cherry cider cliff clover comet "
    "coral cotton crane creek daisy delta dune eagle ember falcon fern ferry fig finch "
    "fjord flint forest fox funds garden gecko glacier grove harbor hazel heron hill "
    "island ivy jade jasper kayak kettle kiwi koala lagoon lake lantern lark lemon lily "
    "lotus maple marble meadow melon mesa mint moose moss nectar oak oasis olive orchid "
    "otter owl panda pebble pepper pine plum pond poppy prairie quail quartz raven reef "
    "ridge river robin saddle sage salmon sparrow spruce squid stone summit swan thistle "
    "thunder tiger tulip tundra valley velvet violet walnut willow wren yarrow zebra "
    "zephyr badger bamboo breeze canoe dolphin harp iris juniper lynx nutmeg"
).split()

_PAIRS = len(ADJECTIVES) * len(NOUNS)


def alias_candidates(sig: str) -> Iterator[str]:
    """Every alias in the probe order for ``sig``: its own pair first, then the next ones."""
    start = int(sig, 16) % _PAIRS
    # 7919 is prime and does not divide the pair count, so the walk visits every pair once.
    for step in range(_PAIRS):
        index = (start + step * 7919) % _PAIRS
        adjective, noun = divmod(index, len(NOUNS))
        yield f"{ADJECTIVES[adjective]}-{NOUNS[noun]}"
    for step in range(_PAIRS):
        yield f"{sig[:6]}-{step}"


def alias_for(sig: str, is_taken: Callable[[str], bool] = lambda _alias: False) -> str:
    """The first alias of ``sig``'s probe order that ``is_taken`` does not refuse."""
    for alias in alias_candidates(sig):
        if not is_taken(alias):
            return alias
    message = f"no free alias for XP {sig}: the store's aliases folder is full; remove old XPs"
    raise RuntimeError(message)
