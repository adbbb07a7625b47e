"""Plain, one-board-at-a-time Hex rules: the reference the batched code is tested against.

Slow on purpose: a breadth-first search from a player's first edge, in pure Python.

>>> winner([[1, 0], [1, 2]])
1
>>> winner([[0, 0], [0, 0]])
0
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from .hex import NEIGHBOUR_OFFSETS

__all__ = ["connects", "winner"]


def connects(board: Sequence[Sequence[int]], player: int) -> bool:
    """Whether ``player``'s stones join their two edges (1: rows, 2: columns)."""
    size = len(board)

    def stone(r: int, c: int) -> bool:
        return board[r][c] == player if player == 1 else board[c][r] == player

    # Player 2 is player 1 on the transposed board (the neighbour set is symmetric under it).
    frontier = deque((0, c) for c in range(size) if stone(0, c))
    seen = set(frontier)
    while frontier:
        r, c = frontier.popleft()
        if r == size - 1:
            return True
        for dr, dc in NEIGHBOUR_OFFSETS:
            nr, nc = r + dr, c + dc
            if 0 <= nr < size and 0 <= nc < size and (nr, nc) not in seen and stone(nr, nc):
                seen.add((nr, nc))
                frontier.append((nr, nc))
    return False


def winner(board: Sequence[Sequence[int]]) -> int:
    """1 or 2 when that player connects their edges, else 0."""
    for player in (1, 2):
        if connects(board, player):
            return player
    return 0
