"""Fixed-size search trees for a batch of boards: layout, descent, expansion and backup.

Layout: every array has one row per node of every board, flattened, so that one step of
the search is a handful of row gathers and scatters over all boards at once. Board ``b``
owns rows ``b * nodes + k`` for ``k < nodes = simulations + 1``: node 0 is its root and
simulation ``k`` writes node ``k + 1`` (a simulation that ends on a known terminal node
leaves its row unused).

Statistics live on edges, in the row of the node they leave: the prior, visit counts, sums
of backed-up values from the point of view of the player to move at that node, and a
penalty (0 on legal moves, ``-inf`` on occupied cells) side by side in one float array,
next to the row of the child. Selection then reads one contiguous row per board
(``index_select``), never scattered elements, and masks by adding the penalty: on the CPU
float arithmetic is vectorised where boolean masks and ``where`` run several times slower.
A node's own visits and mean value follow from its row and its evaluator value.

Nodes also keep their position, so expanding a leaf is a single
:func:`~overseer_rlbench.hex.play` from its parent. Nothing is zero-filled up front: a
node's rows are written when it is created.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .hex import HexGeometry, HexState, play, set_envs

if TYPE_CHECKING:
    import torch

    from .evaluate import Evaluation, Evaluator

__all__ = [
    "PENALTY",
    "PRIOR",
    "VALUE_SUM",
    "VISITS",
    "Descent",
    "Rows",
    "Tree",
    "backup",
    "descend",
    "expand",
    "mix_dirichlet",
    "node_rows",
]

# A prior row from an evaluation: the logits and the penalty row (0 legal, -inf illegal) in,
# probabilities (or log-probabilities, for Gumbel) out.
PriorOf = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]
Scores = Callable[["Rows"], "torch.Tensor"]
# The child of an edge not yet expanded.
UNEXPANDED = -1
# Planes of Tree.stats.
PRIOR, VISITS, VALUE_SUM, PENALTY = 0, 1, 2, 3
PLANES = 4
# Per thread: the arrays of the last tree made on the CPU, and their shape.
_reusable = threading.local()
# The largest tree kept for reuse: bigger ones would hold too much memory between searches.
REUSED_BYTES = 1 << 30


@dataclass
class Tree:
    """The preallocated arrays of one search (see the module docstring for the layout)."""

    nodes: int
    base: torch.Tensor  # int64 [n]: row of each board's root
    children: torch.Tensor  # int32 [rows, cells]: row of the child, UNEXPANDED if none
    # float32 [rows, 4, cells]: per edge the prior, the visits, the sum of values (for the
    # player to move at the row) and the legality penalty, read by selection in one gather.
    stats: torch.Tensor
    raw_value: torch.Tensor  # float32 [rows]: the evaluator's value of the node
    terminal: torch.Tensor  # bool [rows]
    board: torch.Tensor  # int8 [rows, cells]
    labels: torch.Tensor  # int16 (int32 past 181x181) [rows, cells]
    groups: torch.Tensor  # uint8 [rows, cells + 1]
    to_move: torch.Tensor  # int8 [rows]
    moves: torch.Tensor  # int64 [rows]
    # float32 [n, PLANES * cells]: where node_rows gathers. A fresh 2 MB block per step
    # costs page faults on the CPU when the allocator has handed the last one back.
    gathered: torch.Tensor

    @classmethod
    def allocate(cls, n_envs: int, cells: int, nodes: int, device: torch.device) -> Tree:
        """Uninitialised arrays for ``n_envs`` trees of ``nodes`` nodes.

        On the CPU the arrays of this thread's last tree of the same shape are reused, up
        to :data:`REUSED_BYTES`: fresh memory costs a page fault per 4 KiB on first touch,
        a fifth of a whole search with a null network. (On a GPU, torch's caching
        allocator already reuses blocks.)
        """
        key = (n_envs, cells, nodes, str(device))
        cached: Tree | None = getattr(_reusable, "tree", None)
        if cached is not None and getattr(_reusable, "key", None) == key:
            return cached
        _reusable.tree = _reusable.key = None  # let a tree of another shape go first
        tree = cls._fresh(n_envs, cells, nodes, device)
        if device.type == "cpu" and tree.nbytes() <= REUSED_BYTES:
            _reusable.tree, _reusable.key = tree, key
        return tree

    def nbytes(self) -> int:
        """Bytes of the tree's arrays."""
        return sum(value.nbytes for value in vars(self).values() if hasattr(value, "nbytes"))

    @classmethod
    def _fresh(cls, n_envs: int, cells: int, nodes: int, device: torch.device) -> Tree:
        import torch

        rows = n_envs * nodes
        label_type = torch.int16 if cells < torch.iinfo(torch.int16).max else torch.int32

        def empty(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.empty(shape, dtype=dtype, device=device)

        return cls(
            nodes=nodes,
            base=torch.arange(n_envs, device=device) * nodes,
            children=empty(rows, cells, dtype=torch.int32),
            stats=empty(rows, PLANES, cells),
            raw_value=empty(rows),
            terminal=empty(rows, dtype=torch.bool),
            board=empty(rows, cells, dtype=torch.int8),
            labels=empty(rows, cells, dtype=label_type),
            groups=empty(rows, cells + 1, dtype=torch.uint8),
            to_move=empty(rows, dtype=torch.int8),
            moves=empty(rows, dtype=torch.long),
            gathered=empty(n_envs, PLANES * cells),
        )

    def slot(self, array: torch.Tensor, node: int) -> torch.Tensor:
        """The rows of node ``node`` of every board in ``array``: a strided view."""
        n_envs = int(self.base.shape[0])
        used = array[: n_envs * self.nodes]
        return used.view(n_envs, self.nodes, *array.shape[1:])[:, node]

    def write(
        self,
        node: int,
        state: HexState,
        prior_of: PriorOf,
        evaluation: Evaluation,
        terminal: torch.Tensor,
    ) -> None:
        """Create node ``node`` of every board: position, prior, value, no children yet."""
        import torch

        for name in ("board", "labels", "groups", "to_move", "moves"):
            self.slot(getattr(self, name), node).copy_(getattr(state, name))
        self.slot(self.children, node).fill_(UNEXPANDED)
        stats = self.slot(self.stats, node)
        penalty = torch.where(state.board == 0, 0.0, -torch.inf)
        stats[:, PENALTY].copy_(penalty)
        stats[:, PRIOR].copy_(prior_of(evaluation.logits.to(torch.float32), penalty))
        stats[:, VISITS : VALUE_SUM + 1].zero_()
        self.slot(self.raw_value, node).copy_(evaluation.value)
        self.slot(self.terminal, node).copy_(terminal)

    def state_at(self, rows: torch.Tensor) -> HexState:
        """The positions at ``rows`` (int64 ``[n]``)."""
        import torch

        return HexState(
            board=self.board.index_select(0, rows),
            labels=self.labels.index_select(0, rows).to(torch.long),
            groups=self.groups.index_select(0, rows),
            to_move=self.to_move.index_select(0, rows),
            moves=self.moves.index_select(0, rows),
        )


class Rows(NamedTuple):
    """What selection sees at one node of every board; values are for its player to move.

    Attributes:
        prior: float32 ``[n, cells]`` as the algorithm stores it.
        penalty: float32 ``[n, cells]``, 0 on legal actions, ``-inf`` on the others: added
            to a score, it rules them out.
        visits: float32 ``[n, cells]``, the edges' visits.
        q: float32 ``[n, cells]``, the edges' mean values; 0 where unvisited.
        node_visits: float32 ``[n]``, the node's visits (1 + its edges').
        node_value: float32 ``[n]``, the node's mean value, its evaluation included.
        raw_value: float32 ``[n]``, the evaluator's value of the node.
    """

    prior: torch.Tensor
    penalty: torch.Tensor
    visits: torch.Tensor
    q: torch.Tensor
    node_visits: torch.Tensor
    node_value: torch.Tensor
    raw_value: torch.Tensor

    @property
    def legal(self) -> torch.Tensor:
        """bool ``[n, cells]``: the legal actions."""
        return self.penalty == 0

    def values(self) -> torch.Tensor:
        """The edges' mean values, the node's own mean value where unvisited."""
        import torch

        unvisited = (1.0 - self.visits).clamp_min(0.0)  # 1 where unvisited (q is 0), else 0
        return torch.addcmul(self.q, unvisited, self.node_value.unsqueeze(1))


def node_rows(tree: Tree, nodes: torch.Tensor) -> Rows:
    """The :class:`Rows` of the nodes at rows ``nodes`` (int64 ``[n]``).

    They are views of ``tree.gathered``: the next call overwrites them.
    """
    import torch

    flat = tree.stats.view(tree.stats.shape[0], -1)
    stats = torch.index_select(flat, 0, nodes, out=tree.gathered).view(-1, *tree.stats.shape[1:])
    visits, value_sum = stats[:, VISITS], stats[:, VALUE_SUM]
    raw_value = tree.raw_value.index_select(0, nodes)
    node_visits = 1.0 + visits.sum(dim=1)
    return Rows(
        prior=stats[:, PRIOR],
        penalty=stats[:, PENALTY],
        visits=visits,
        q=value_sum / visits.clamp_min(1.0),
        node_visits=node_visits,
        node_value=(raw_value + value_sum.sum(dim=1)) / node_visits,
        raw_value=raw_value,
    )


def mix_dirichlet(
    tree: Tree, alpha: float, fraction: float, generator: torch.Generator | None
) -> None:
    """Replace the root priors by ``(1 - fraction) * prior + fraction * Dir(alpha)`` noise
    over the legal actions (AlphaZero's exploration at the root)."""
    import torch

    stats = tree.slot(tree.stats, 0)
    prior, legal = stats[:, PRIOR], stats[:, PENALTY] == 0
    concentration = torch.full_like(prior, alpha)
    draws = torch._standard_gamma(concentration, generator=generator) * legal
    noise = draws / draws.sum(dim=1, keepdim=True).clamp_min(torch.finfo(draws.dtype).tiny)
    prior.mul_(1.0 - fraction).add_(fraction * noise)


class Descent(NamedTuple):
    """The path one simulation took on every board.

    Attributes:
        edges: int64 ``[n]`` per step, the edge taken as its index in a ``[rows, cells]``
            array flattened (``row * cells + action``); past a board's ``depth``, the edge
            its last node would take (a stand-in, never counted).
        parent: int64 ``[n]``, the last node that chose: the leaf's parent.
        action: int64 ``[n]``, its choice: the edge to the leaf.
        depth: int64 ``[n]``, edges from the root to the leaf.
    """

    edges: list[torch.Tensor]
    parent: torch.Tensor
    action: torch.Tensor
    depth: torch.Tensor


def descend(
    tree: Tree, root_scores: Scores, interior_scores: Scores, steps: int, early_exit: bool
) -> Descent:
    """Walk every board from its root until an unexpanded edge or a finished game.

    ``steps`` must bound the edges any board takes; with ``early_exit`` the loop also stops
    as soon as every board is done (a cheap check on the CPU, a sync on a GPU).
    """
    import torch

    cells = tree.children.shape[1]
    flat_children = tree.children.view(-1)
    node = tree.base
    active = torch.ones_like(node, dtype=torch.bool)
    parent, action = node, torch.zeros_like(node)
    depth = torch.zeros_like(node)
    edges: list[torch.Tensor] = []
    for step in range(steps):
        rows = node_rows(tree, node)
        chosen = (root_scores if step == 0 else interior_scores)(rows).argmax(dim=1)
        edge = node * cells + chosen
        child = flat_children.index_select(0, edge).to(torch.long)
        edges.append(edge)
        parent = torch.where(active, node, parent)
        action = torch.where(active, chosen, action)
        depth = depth + active.long()
        known = child != UNEXPANDED
        active = active & known & ~tree.terminal.index_select(0, child.clamp_min(0))
        node = torch.where(active, child, node)
        if early_exit and not bool(active.any()):
            break
    return Descent(edges, parent, action, depth)


def expand(
    tree: Tree,
    descent: Descent,
    node: int,
    evaluator: Evaluator,
    geometry: HexGeometry,
    prior_of: PriorOf,
) -> torch.Tensor:
    """Create the leaf each board reached as node ``node``; return the leaf's value.

    A leaf where the game is over (a winning move, new or seen before) is worth -1 to its
    player to move, who just lost. Its board is not shown to the evaluator: the parent's
    position, still in play, stands in and the answer is discarded, so evaluators never see
    a finished game and the batch keeps one shape.
    """
    import torch

    parent_state = tree.state_at(descent.parent)
    state, winner = play(parent_state, descent.action, geometry)
    edge = descent.parent * geometry.cells + descent.action
    flat_children = tree.children.view(-1)
    existing = flat_children.index_select(0, edge)
    expanding = existing == UNEXPANDED
    over = (winner != 0) | ~expanding
    evaluation = evaluator(set_envs(state, over, parent_state), geometry)
    tree.write(node, state, prior_of, evaluation, winner != 0)
    created = (tree.base + node).to(torch.int32)
    flat_children.index_copy_(0, edge, torch.where(expanding, created, existing))
    return torch.where(over, -1.0, evaluation.value.to(torch.float32))


def backup(tree: Tree, descent: Descent, value: torch.Tensor) -> None:
    """Add a visit and ``value`` (the leaf mover's, negated per ply) to every edge taken."""
    import torch

    steps = len(descent.edges)
    edges = torch.stack(descent.edges).flatten()
    levels = torch.arange(steps, device=value.device).unsqueeze(1)
    # The edge leaving depth d belongs to the player at d: value * (-1) ** (depth - d).
    ahead = descent.depth.unsqueeze(0) - levels
    taken = (ahead > 0).to(value.dtype)
    sign = 1.0 - 2.0 * (ahead % 2).to(value.dtype)
    cells = tree.children.shape[1]
    # In [rows, PLANES, cells] the edge's visits are at (row * PLANES + VISITS) * cells + action.
    visits = edges + (edges // cells) * ((PLANES - 1) * cells) + VISITS * cells
    both = torch.cat([visits, visits + cells])
    increments = torch.cat([taken.flatten(), (taken * sign * value).flatten()])
    # The steps a board sat out add 0 to an edge of its own: no two boards share an address,
    # so GPU atomics never queue on one, and the sums are exact in any order.
    tree.stats.view(-1).index_add_(0, both, increments)
