"""Batched Monte-Carlo tree search: every board's tree grown at once on the state's device.

Three algorithms share one tree and one loop (:func:`search`):

- ``"puct"``: AlphaZero. Select ``argmax Q + c_puct * P * sqrt(N_node) / (1 + N)``, where
  ``N_node`` counts the node's own evaluation too (so the first choice at a new node follows
  the prior); the policy is the root's visit shares, the action the most visited move.
- ``"regularized"``: Grill et al. (2020). Select ``argmax pi_bar - N / (1 + sum N)``, where
  ``pi_bar`` is :func:`regularized_policy` with ``lambda = c_puct * sqrt(sum N) / (|A| +
  sum N)``; the policy is the root's ``pi_bar``, the action its best visited move.
- ``"gumbel"``: Danihelka et al. (2022), Gumbel AlphaZero: Gumbel-top-k and sequential
  halving at the root, completed Q values, improved policy ``softmax(logits + sigma(q))``
  (see :mod:`overseer_rlbench._gumbel`).

Conventions: values are for the player to move at a node and are negated on the way up.
An unvisited action's value is its parent's current mean value for PUCT and regularised
search (first-play urgency; with a null network every value is 0) and ``v_mix`` for Gumbel.
A winning move leads to a terminal child, worth +1 to the mover, whose value never comes
from the evaluator. Illegal actions get no visits, no policy mass and are never chosen.
All randomness (Dirichlet noise, Gumbel draws) comes from ``generator``: a seed fixes the
result.

>>> from overseer_rlbench.evaluate import uniform_evaluator
>>> from overseer_rlbench.hex import HexGeometry, initial_state
>>> geometry = HexGeometry(3)
>>> state = initial_state(geometry, 2)
>>> result = search(state, geometry, uniform_evaluator, SearchConfig(simulations=16))
>>> result.visits.sum(dim=1).tolist(), result.policy.shape
([16, 16], torch.Size([2, 9]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Literal, Protocol

from . import _regularized
from ._gumbel import GumbelStrategy
from ._puct import PuctStrategy
from ._regularized import RegularizedStrategy
from ._tree import Rows, Tree, backup, descend, expand, node_rows
from .hex import BOTH_EDGES

if TYPE_CHECKING:
    import torch

    from .evaluate import Evaluator
    from .hex import HexGeometry, HexState

__all__ = ["Algorithm", "SearchConfig", "SearchResult", "regularized_policy", "search"]

Algorithm = Literal["puct", "regularized", "gumbel"]
ALGORITHMS: tuple[Algorithm, ...] = ("puct", "regularized", "gumbel")


@dataclass(frozen=True)
class SearchConfig:
    """How to search.

    Attributes:
        algorithm: ``"puct"``, ``"regularized"`` or ``"gumbel"``.
        simulations: simulations per search, at least 1 (Gumbel: at least 2).
        c_puct: exploration constant of PUCT and of regularised search.
        dirichlet_alpha: concentration of the Dirichlet noise mixed into the root prior
            (PUCT and regularised; Gumbel explores by its own noise), ``None`` for none.
        dirichlet_fraction: weight of that noise in the root prior.
        gumbel_considered: actions sampled at the root by Gumbel-top-k (``m``).
        gumbel_c_visit: ``c_visit`` of ``sigma``.
        gumbel_c_scale: ``c_scale`` of ``sigma``.

    Raises:
        ValueError: a setting out of range; the message names it and what to use.
    """

    algorithm: Algorithm = "puct"
    simulations: int = 64
    c_puct: float = 1.25
    dirichlet_alpha: float | None = None
    dirichlet_fraction: float = 0.25
    gumbel_considered: int = 16
    gumbel_c_visit: float = 50.0
    gumbel_c_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            _reject("algorithm", self.algorithm, "use one of 'puct', 'regularized', 'gumbel'")
        least = 2 if self.algorithm == "gumbel" else 1
        if not _is_int(self.simulations) or self.simulations < least:
            _reject("simulations", self.simulations, f"use an integer of at least {least}")
        _check_number("c_puct", self.c_puct, positive=True)
        if self.dirichlet_alpha is not None:
            _check_number("dirichlet_alpha", self.dirichlet_alpha, positive=True, none=True)
        _check_number("dirichlet_fraction", self.dirichlet_fraction, positive=False)
        if self.dirichlet_fraction > 1:
            _reject("dirichlet_fraction", self.dirichlet_fraction, "use a weight in [0, 1]")
        if not _is_int(self.gumbel_considered) or self.gumbel_considered < 1:
            _reject("gumbel_considered", self.gumbel_considered, "use an integer of at least 1")
        _check_number("gumbel_c_visit", self.gumbel_c_visit, positive=False)
        _check_number("gumbel_c_scale", self.gumbel_c_scale, positive=True)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_number(name: str, value: object, positive: bool, none: bool = False) -> None:
    valid = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > 0 or (value == 0 and not positive))
    )
    if valid:
        return
    fix = "a finite number above 0" if positive else "a finite number of at least 0"
    _reject(name, value, f"use {fix}" + (" or None to turn it off" if none else ""))


def _reject(name: str, value: object, fix: str) -> None:
    message = f"SearchConfig.{name} = {value!r} is invalid: {fix}"
    raise ValueError(message)


@dataclass(frozen=True)
class SearchResult:
    """What a search found on every board.

    Attributes:
        policy: float32 ``[n, cells]``, the improved policy (the training target), summing
            to 1 over the legal actions and 0 on the others.
        visits: int64 ``[n, cells]``, the root's visit counts; each row sums to
            ``simulations``.
        value: float32 ``[n]``, the root's value for the player to move: the mean of all
            its simulations (PUCT, regularised), the improved policy's expected completed
            value (Gumbel, whose halving spends visits on actions it then drops).
        action: int64 ``[n]``, the search's choice, always legal.
    """

    policy: torch.Tensor
    visits: torch.Tensor
    value: torch.Tensor
    action: torch.Tensor


def regularized_policy(
    q: torch.Tensor, prior: torch.Tensor, legal: torch.Tensor, multiplier: torch.Tensor
) -> torch.Tensor:
    """Grill et al.'s ``pi_bar = argmax_y q.y - multiplier * KL(prior, y)``, batched.

    The solution is ``pi_bar(a) = multiplier * prior(a) / (alpha - q(a))`` with ``alpha``
    such that it sums to one; ``alpha`` is found by Newton's method from the left end of a
    bracket, safeguarded by bisection (:mod:`overseer_rlbench._regularized`). In the search
    the multiplier is ``c_puct * sqrt(N) / (|A| + N)``.

    Args:
        q: float ``[n, actions]``, action values.
        prior: float ``[n, actions]``, renormalised over the legal actions.
        legal: bool ``[n, actions]``; illegal actions get 0.
        multiplier: float ``[n]`` (or a scalar tensor), ``lambda`` above, at least 0.

    Returns:
        float ``[n, actions]``, each row summing to 1.

    >>> import torch
    >>> q = torch.tensor([[1.0, 0.0, 5.0]])
    >>> prior = torch.tensor([[0.5, 0.5, 0.0]])
    >>> legal = torch.tensor([[True, True, False]])
    >>> policy = regularized_policy(q, prior, legal, torch.tensor([1.0]))
    >>> [round(p, 4) for p in policy[0].tolist()]  # 1/sqrt(2), 1 - 1/sqrt(2), illegal
    [0.7071, 0.2929, 0.0]
    """
    return _regularized.regularized_policy(q, prior, legal, multiplier)


class _Strategy(Protocol):
    def prior_of(self, logits: torch.Tensor, penalty: torch.Tensor) -> torch.Tensor: ...
    def prepare(self, tree: Tree, simulations: int, generator: torch.Generator | None) -> None: ...
    def root_scores(self, rows: Rows, simulation: int) -> torch.Tensor: ...
    def interior_scores(self, rows: Rows) -> torch.Tensor: ...
    def finish(self, root: Rows) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...


def _strategy(config: SearchConfig) -> _Strategy:
    if config.algorithm == "gumbel":
        return GumbelStrategy(
            config.gumbel_considered, config.gumbel_c_visit, config.gumbel_c_scale
        )
    alpha, fraction = config.dirichlet_alpha, config.dirichlet_fraction
    noise = None if alpha is None or fraction == 0 else (alpha, fraction)
    if config.algorithm == "regularized":
        return RegularizedStrategy(config.c_puct, noise)
    return PuctStrategy(config.c_puct, noise)


def search(
    state: HexState,
    geometry: HexGeometry,
    evaluator: Evaluator,
    config: SearchConfig,
    generator: torch.Generator | None = None,
) -> SearchResult:
    """Search from every board of ``state`` at once, ``config.simulations`` times.

    Each simulation walks every board's tree down to a new leaf, evaluates all the leaves in
    one ``evaluator`` call and backs the values up. The tree is preallocated and everything
    stays on the state's device.

    Args:
        state: the root positions; none may be finished (every board has a move to make).
        geometry: the board's geometry, on the state's device.
        evaluator: prior logits and value of a batch of positions (e.g. a network).
        config: the algorithm and its settings.
        generator: the source of all randomness, on the state's device; ``None`` draws
            from torch's default generator.

    Returns:
        The :class:`SearchResult` of every board.

    Raises:
        ValueError: a finished board, or a geometry or generator on another device.
    """
    import torch

    device = state.board.device
    _check_devices(device, geometry, generator)
    n_envs, cells = state.board.shape
    if n_envs == 0:
        nothing = torch.zeros((0, cells), device=device)
        empty = torch.zeros(0, dtype=torch.long, device=device)
        return SearchResult(nothing, nothing.long(), nothing[:, 0], empty)
    max_depth = _checked_depth(state, geometry)
    strategy = _strategy(config)
    tree = Tree.allocate(n_envs, cells, config.simulations + 1, device)
    evaluation = evaluator(state, geometry)
    root_over = torch.zeros_like(state.to_move, dtype=torch.bool)
    tree.write(0, state, strategy.prior_of, evaluation, root_over)
    strategy.prepare(tree, config.simulations, generator)
    limit = _DepthLimit(device, max_depth)
    for simulation in range(config.simulations):
        root_scores = partial(strategy.root_scores, simulation=simulation)
        steps = limit.steps(simulation)
        descent = descend(tree, root_scores, strategy.interior_scores, steps, limit.early_exit)
        leaf_value = expand(tree, descent, simulation + 1, evaluator, geometry, strategy.prior_of)
        backup(tree, descent, leaf_value)
        limit.record(simulation, descent.depth)
    root = node_rows(tree, tree.base)
    policy, action, value = strategy.finish(root)
    visits = root.visits.round().to(torch.int64)
    return SearchResult(policy=policy, visits=visits, value=value, action=action)


def _check_devices(
    device: torch.device, geometry: HexGeometry, generator: torch.Generator | None
) -> None:
    if geometry.device.type != device.type:
        message = (
            f"the geometry is on {geometry.device} but the boards are on {device}: "
            "build the geometry on the boards' device"
        )
        raise ValueError(message)
    if generator is not None and generator.device.type != device.type:
        message = (
            f"the generator is on {generator.device} but the boards are on {device}: "
            "use torch.Generator(device=...) on the boards' device"
        )
        raise ValueError(message)


def _checked_depth(state: HexState, geometry: HexGeometry) -> int:
    """The most moves left on any board; raises if a board is already won."""
    import torch

    finished = (state.groups == BOTH_EDGES).any(dim=1)
    summary = torch.stack([finished.long().sum(), (geometry.cells - state.moves).max()])
    finished_count, max_depth = summary.tolist()
    if finished_count:
        first = finished.nonzero()[:3].flatten().tolist()
        message = (
            f"search needs boards still in play, but {finished_count} are won already "
            f"(e.g. boards {first}): search only positions where a move remains to be made"
        )
        raise ValueError(message)
    return int(max_depth)


class _DepthLimit:
    """How many steps a descent may need, without waiting for the device.

    A simulation deepens the tree by at most one edge, so after simulation ``j`` left depth
    ``D``, a descent in simulation ``s`` takes at most ``D + s - j`` edges. Off CUDA the
    depth is read at once (free) and descents also stop as soon as every board is done
    (``early_exit``). On CUDA the depth is copied to the host without blocking and read once
    the copy has landed, so the loop never waits for the device and overshoots the true
    depth by a step or two; the extra steps change nothing, as every board sits them out.

    Args:
        device: the tree's device.
        max_depth: the most moves left on any board, a bound of its own.
        early_exit: stop descents once every board is done; by default everywhere but on
            CUDA (tests turn it off on the CPU to check the bounded loop gives the same).
    """

    def __init__(
        self, device: torch.device, max_depth: int, early_exit: bool | None = None
    ) -> None:
        import torch

        self.max_depth = max_depth
        self.early_exit = device.type != "cuda" if early_exit is None else early_exit
        self._watch = device.type == "cuda" and not self.early_exit
        self.depth = torch.zeros((), dtype=torch.long, device=device)
        self.known, self.known_after = 0, -1
        self._host = torch.zeros((), dtype=torch.long, pin_memory=self._watch)
        self._pending: tuple[int, torch.cuda.Event] | None = None

    def steps(self, simulation: int) -> int:
        """An upper bound on the edges a descent in ``simulation`` takes."""
        # torch.cuda.Event carries no annotations.
        if self._pending is not None and self._pending[1].query():  # type: ignore[no-untyped-call]
            self.known, self.known_after = int(self._host), self._pending[0]
            self._pending = None
        return min(self.max_depth, self.known + simulation - self.known_after)

    def record(self, simulation: int, depth: torch.Tensor) -> None:
        """Note the leaf depths of ``simulation``."""
        import torch

        if self.early_exit:
            self.known = max(self.known, int(depth.max()))
            self.known_after = simulation
        elif self._watch:
            self.depth = torch.maximum(self.depth, depth.max())
            if self._pending is None:
                self._host.copy_(self.depth, non_blocking=True)
                event = torch.cuda.Event()  # type: ignore[no-untyped-call]
                event.record()
                self._pending = (simulation, event)
