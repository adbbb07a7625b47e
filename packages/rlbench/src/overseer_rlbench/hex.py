"""The rules of Hex on a batch of boards, as pure functions over tensors.

A position is a :class:`HexState`: the stones, the connected groups and the player to move
of ``n_envs`` boards at once. :func:`play` places one stone on every board and says who won;
it never resets a board, so a search can keep the states of its tree and step any of them.
:class:`~overseer_rlbench.env.HexEnv` wraps these with auto-reset, a sampler and checks.

Players: 1 connects row 0 to row ``size-1``, 2 connects column 0 to column ``size-1``; the
first player moves first and there is no swap rule. Cell ``(r, c)`` is action ``r*size + c``
and touches ``(r-1, c), (r-1, c+1), (r, c-1), (r, c+1), (r+1, c-1), (r+1, c)``.

Groups are tracked incrementally: every stone carries the label of its group (the cell index
of the group's latest stone) and every label the bitmask of the two goal edges the group
touches. A new stone merges the groups of its same-coloured neighbours by relabelling them,
which costs one gather over the board, so a step is O(size**2) per board with no loop.

>>> import torch
>>> geometry = HexGeometry(3)
>>> state = initial_state(geometry, 2)
>>> state, winner = play(state, torch.tensor([4, 0]), geometry)
>>> state.to_move.tolist(), winner.tolist()
([2, 2], [0, 0])
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = [
    "HexGeometry",
    "HexState",
    "initial_state",
    "play",
    "random_legal_actions",
    "reset_finished",
    "select_envs",
    "set_envs",
]

# (dr, dc) of the six neighbours of a cell, in the order the module docstring gives them.
NEIGHBOUR_OFFSETS = ((-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0))
START_EDGE, END_EDGE, BOTH_EDGES = 1, 2, 3


class HexGeometry:
    """The constant tables of one board size on one device.

    Attributes:
        size: side of the board.
        cells: ``size * size``, also the label of "no group" (an index past the board).
        neighbours: int64 ``[cells, 6]``, each cell's neighbours; the cell itself stands for a
            neighbour off the board (a stone is its own friend, so lookups need no padding).
        edges: uint8 ``[3, cells]``; ``edges[player, cell]`` is the goal-edge mask of ``cell``
            for that player (row 0 / last row for player 1, column 0 / last for player 2).
        transpose: int64 ``[cells]``, the action of the transposed cell (an involution).
    """

    def __init__(self, size: int, device: torch.device | str = "cpu") -> None:
        import torch

        if not isinstance(size, int) or isinstance(size, bool) or size < 2:
            raise ValueError(f"board size must be an integer of at least 2, got {size!r}")
        self.size = size
        self.cells = size * size
        self.device = torch.device(device)
        neighbours = torch.arange(self.cells).unsqueeze(1).repeat(1, 6)
        edges = torch.zeros((3, self.cells), dtype=torch.uint8)
        for r in range(size):
            for c in range(size):
                cell = r * size + c
                for k, (dr, dc) in enumerate(NEIGHBOUR_OFFSETS):
                    if 0 <= r + dr < size and 0 <= c + dc < size:
                        neighbours[cell, k] = (r + dr) * size + c + dc
                edges[1, cell] = _edge_mask(r, size)
                edges[2, cell] = _edge_mask(c, size)
        rows, columns = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
        self.neighbours = neighbours.to(self.device)
        self.edges = edges.to(self.device)
        self.transpose = (columns * size + rows).reshape(-1).to(self.device)

    def __repr__(self) -> str:
        return f"HexGeometry(size={self.size}, device={str(self.device)!r})"


def _edge_mask(index: int, size: int) -> int:
    return (START_EDGE if index == 0 else 0) | (END_EDGE if index == size - 1 else 0)


@lru_cache(maxsize=32)
def geometry_for(size: int, device: str) -> HexGeometry:
    """The shared :class:`HexGeometry` of ``size`` on ``device`` (built once)."""
    return HexGeometry(size, device)


@dataclass(frozen=True)
class HexState:
    """Positions of a batch of boards; every field's first dimension is the board.

    Attributes:
        board: int8 ``[n, cells]``: 0 empty, 1 and 2 the players' stones.
        labels: int64 ``[n, cells]``: each stone's group label, ``cells`` on empty cells.
        groups: uint8 ``[n, cells + 1]``: goal-edge mask of each label (last column: none).
        to_move: int8 ``[n]``: 1 or 2.
        moves: int64 ``[n]``: stones on the board.
    """

    board: torch.Tensor
    labels: torch.Tensor
    groups: torch.Tensor
    to_move: torch.Tensor
    moves: torch.Tensor

    @property
    def n_envs(self) -> int:
        """How many boards the state holds."""
        return int(self.board.shape[0])

    def legal(self) -> torch.Tensor:
        """bool ``[n, cells]``: the empty cells."""
        return self.board == 0

    def nbytes(self) -> int:
        """Bytes of tensor storage the state uses."""
        return sum(getattr(self, f.name).nbytes for f in fields(self))


def initial_state(geometry: HexGeometry, n_envs: int) -> HexState:
    """``n_envs`` empty boards, the first player to move."""
    import torch

    device, cells = geometry.device, geometry.cells
    return HexState(
        board=torch.zeros((n_envs, cells), dtype=torch.int8, device=device),
        labels=torch.full((n_envs, cells), cells, dtype=torch.long, device=device),
        groups=torch.zeros((n_envs, cells + 1), dtype=torch.uint8, device=device),
        to_move=torch.ones(n_envs, dtype=torch.int8, device=device),
        moves=torch.zeros(n_envs, dtype=torch.long, device=device),
    )


def play(
    state: HexState, actions: torch.Tensor, geometry: HexGeometry
) -> tuple[HexState, torch.Tensor]:
    """Place a stone of the player to move at ``actions`` on every board.

    The caller guarantees the actions are legal (:class:`~overseer_rlbench.env.HexEnv` checks).
    Returns the new state, with the other player to move, and int8 ``[n]`` ``winner``: the
    player who just connected their edges, else 0. Boards are never reset here.
    """
    import torch

    cells = geometry.cells
    player = state.to_move
    column = actions.unsqueeze(1)
    board = state.board.scatter(1, column, player.unsqueeze(1))
    around = geometry.neighbours[actions]  # [n, 6]; off the board: the new stone itself
    friendly = board.gather(1, around) == player.unsqueeze(1)
    # The new stone's own label is still "none" (``cells``), so it merges nothing.
    merged = torch.where(friendly, state.labels.gather(1, around), cells)
    edge = geometry.edges[player.long(), actions]
    reach = _or_reduce(state.groups.gather(1, merged), edge)
    absorbed = torch.zeros((state.n_envs, cells + 1), dtype=torch.bool, device=actions.device)
    absorbed.scatter_(1, merged, True)
    absorbed[:, cells] = False
    labels = torch.where(absorbed.gather(1, state.labels), column, state.labels)
    labels.scatter_(1, column, column)
    groups = state.groups.scatter(1, column, reach.unsqueeze(1))
    winner = torch.where(reach == BOTH_EDGES, player, torch.zeros_like(player))
    new = HexState(board, labels, groups, 3 - player, state.moves + 1)
    return new, winner


def _or_reduce(masks: torch.Tensor, initial: torch.Tensor) -> torch.Tensor:
    """Bitwise OR of ``masks`` along dimension 1, starting from ``initial``."""
    result = initial
    for k in range(masks.shape[1]):
        result = result | masks[:, k]
    return result


def select_envs(state: HexState, index: torch.Tensor) -> HexState:
    """The boards at ``index`` (indices or a bool mask), as a new state."""
    return HexState(*(getattr(state, f.name)[index] for f in fields(state)))


def set_envs(state: HexState, mask: torch.Tensor, source: HexState) -> HexState:
    """``state`` with the boards where bool ``mask`` is set taken from ``source`` (same n)."""
    import torch

    def pick(mine: torch.Tensor, theirs: torch.Tensor) -> torch.Tensor:
        shape = (-1,) + (1,) * (mine.dim() - 1)
        return torch.where(mask.view(shape), theirs, mine)

    return replace(
        state,
        **{f.name: pick(getattr(state, f.name), getattr(source, f.name)) for f in fields(state)},
    )


def reset_finished(state: HexState, done: torch.Tensor) -> HexState:
    """``state`` with the boards where bool ``done`` is set emptied, player 1 to move.

    Mutates the tensors of ``state`` in place: pass a state that :func:`play` just returned.
    """
    import torch

    rows = done.unsqueeze(1)
    state.board.masked_fill_(rows, 0)
    state.labels.masked_fill_(rows, state.labels.shape[1])
    state.groups.masked_fill_(rows, 0)
    return replace(
        state,
        to_move=torch.where(done, 1, state.to_move).to(torch.int8),
        moves=torch.where(done, 0, state.moves),
    )


# Rejection rounds of the sampler before the exact draw takes the boards still unlucky.
_REJECTION_ROUNDS = 6


def random_legal_actions(
    state: HexState, generator: torch.Generator, dense: bool | None = None
) -> torch.Tensor:
    """int64 ``[n]``: a uniformly random empty cell of each board (none may be full).

    The sparse draw (the default on the CPU) picks a cell per board and redraws those that hit
    a stone, a few rounds, then draws exactly among the empty cells of the boards still
    unlucky: each round costs O(n), not O(n * cells). The dense draw (the default on other
    devices) takes the argmax of uniform noise over the empty cells: more arithmetic but no
    host-device synchronisation, which costs more than the arithmetic on a GPU.
    """
    import torch

    n, cells = state.board.shape
    device = state.board.device
    if dense if dense is not None else device.type != "cpu":
        return _dense_draw(state.board, generator)
    actions = torch.randint(cells, (n,), generator=generator, device=device)
    for _ in range(_REJECTION_ROUNDS):
        taken = state.board.gather(1, actions.unsqueeze(1)).squeeze(1) != 0
        again = torch.randint(cells, (n,), generator=generator, device=device)
        actions = torch.where(taken, again, actions)
    taken = state.board.gather(1, actions.unsqueeze(1)).squeeze(1) != 0
    unlucky = taken.nonzero().squeeze(1)
    if len(unlucky):
        actions[unlucky] = _dense_draw(state.board[unlucky], generator)
    return actions


def _dense_draw(board: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    import torch

    noise = torch.rand(board.shape, generator=generator, device=board.device)
    return noise.masked_fill_(board != 0, -1.0).argmax(dim=1)
