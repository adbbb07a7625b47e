"""What the network sees: every board from the point of view of the player to move.

Hex is symmetric under transposing the board and swapping the colours, so a board where the
second player moves is transposed: the player to move always connects row 0 to the last row,
in plane 0, and the opponent's stones are in plane 1. Policies are computed in that
canonical frame and mapped back with :func:`from_canonical` (a transpose, its own inverse).

>>> import torch
>>> from overseer_rlbench.hex import HexGeometry, initial_state, play
>>> geometry = HexGeometry(2)
>>> state, _ = play(initial_state(geometry, 1), torch.tensor([1]), geometry)
>>> observe(state, geometry)[0].tolist()  # player 2 to move: transposed, colours swapped
[[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 0.0]]]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from .hex import HexGeometry, HexState

__all__ = ["from_canonical", "observe", "to_canonical"]


def observe(state: HexState, geometry: HexGeometry) -> torch.Tensor:
    """float32 ``[n, 2, size, size]``: the mover's stones, then the opponent's, canonical."""
    import torch

    mover = state.to_move.unsqueeze(1)
    board = to_canonical(state.board, state.to_move, geometry)
    planes = torch.stack([board == mover, (board != mover) & (board != 0)], dim=1)
    size = geometry.size
    return planes.to(torch.float32).view(state.n_envs, 2, size, size)


def to_canonical(
    values: torch.Tensor, to_move: torch.Tensor, geometry: HexGeometry
) -> torch.Tensor:
    """``values`` ``[n, cells]`` per action, transposed on the boards where player 2 moves."""
    import torch

    transposed = values[:, geometry.transpose]
    return torch.where((to_move == 2).unsqueeze(1), transposed, values)


# Transposing is its own inverse, so mapping back is the same permutation.
from_canonical = to_canonical
