"""Exact play on small boards (up to 4x4): the perfect-play reference.

A position is two bitmasks, one per player (bit ``r*size + c``). A memoised negamax answers
"does the player to move win?"; Hex has no draws, so that boolean is the whole value. What
keeps it fast in pure Python:

* a win check on ints: the stones reachable from a goal edge grow by a six-way shift of the
  bitmask until they stop growing (a flood fill of a few integer operations per step);
* the no-draw shortcut: if the mover cannot connect even with every empty cell, the opponent
  wins, and if the opponent cannot, the mover wins; most positions end there;
* one-move wins and threats from the same fill: a mover who can connect at once wins, one
  facing two cells where the opponent would connect loses, and one facing a single such cell
  must play it;
* an early exit at the first winning move, tried centre first and after the move that last
  won at the same depth (a killer move);
* one table of answers per board size and process, keyed on the position or its 180-degree
  rotation (which maps each player's goal edges to themselves).

Solving 4x4 from the empty board, every opening move included, takes a fraction of a
second (about 60,000 positions).

>>> from overseer_rlbench.hex import HexGeometry, initial_state
>>> geometry = HexGeometry(3)
>>> Solver(3).value(initial_state(geometry, 1)).tolist()
[1.0]
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from .evaluate import Evaluation, Evaluator

if TYPE_CHECKING:
    import torch

    from .hex import HexGeometry, HexState

__all__ = ["MAX_SOLVER_SIZE", "Solver", "SolverAgent", "oracle_evaluator"]

MAX_SOLVER_SIZE = 4


class _Tables:
    """Bit tricks and the answer table of one board size (one per process, see `_tables`)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.cells = cells = size * size
        self.full = full = (1 << cells) - 1
        first_column = sum(1 << (r * size) for r in range(size))
        last_column = first_column << (size - 1)
        first_row = (1 << size) - 1
        last_row = first_row << (size * (size - 1))
        # Goal edges: player 1 joins the first and last rows, player 2 the first and last columns.
        self.goals = {1: (first_row, last_row), 2: (first_column, last_column)}
        self.not_first, self.not_last = full & ~first_column, full & ~last_column
        centre = (size - 1) / 2
        by_centre = sorted(
            range(cells), key=lambda i: abs(i // size - centre) + abs(i % size - centre)
        )
        self.order = [1 << i for i in by_centre]  # centre first: winning moves come early
        self.reversed = _bit_reversal_table(cells)
        self.memo: dict[int, bool] = {}
        # The last winning move found at each depth is tried first by its siblings.
        self.killers = [0] * (cells + 1)

    def spread(self, bits: int) -> int:
        """``bits`` and their six hex neighbours (shifts masked so rows do not wrap)."""
        size, left, right = self.size, bits & self.not_first, bits & self.not_last
        grown = bits | (bits >> size) | (bits << size) | (right << 1) | (left >> 1)
        return (grown | (right >> (size - 1)) | (left << (size - 1))) & self.full

    def reach(self, stones: int, seeds: int) -> int:
        """The ``stones`` connected to ``seeds`` (a flood fill)."""
        size, not_first, not_last = self.size, self.not_first, self.not_last
        reach = stones & seeds
        while True:
            # One step of `spread`, inlined: this loop is where the solver spends its time.
            left, right = reach & not_first, reach & not_last
            grown = reach | (reach >> size) | (reach << size) | (right << 1) | (left >> 1)
            grown = (grown | (right >> (size - 1)) | (left << (size - 1))) & stones
            if grown == reach:
                return reach
            reach = grown

    def connects(self, stones: int, player: int) -> bool:
        """Whether ``stones`` join ``player``'s two goal edges."""
        start, end = self.goals[player]
        return bool(self.reach(stones, start) & end)

    def finishing(self, stones: int, empty: int, player: int) -> int:
        """The empty cells where one more stone joins ``player``'s goal edges."""
        start, end = self.goals[player]
        near_start = self.spread(self.reach(stones, start)) | start
        near_end = self.spread(self.reach(stones, end)) | end
        return near_start & near_end & empty

    def mover_wins(self, p1: int, p2: int, mover: int) -> bool:
        """Whether ``mover`` wins with best play; nobody has connected yet."""
        cells, table = self.cells, self.reversed
        key = min(p1 | (p2 << cells), table[p1] | (table[p2] << cells))
        answer = self.memo.get(key)
        if answer is None:
            answer = self._solve(p1, p2, mover)
            self.memo[key] = answer
        return answer

    def _solve(self, p1: int, p2: int, mover: int) -> bool:
        empty = self.full & ~(p1 | p2)
        mine, theirs = (p1, p2) if mover == 1 else (p2, p1)
        other = 3 - mover
        # No draws in Hex: whoever cannot connect even on every empty cell has lost.
        if not self.connects(mine | empty, mover):
            return False
        if not self.connects(theirs | empty, other):
            return True
        if self.finishing(mine, empty, mover):
            return True
        threats = self.finishing(theirs, empty, other)
        if threats & (threats - 1):
            return False  # two ways for the opponent to win: only one can be blocked
        depth = (p1 | p2).bit_count()
        killer = self.killers[depth]
        if threats:
            moves = [threats]
        elif killer & empty:
            moves = [killer] + [bit for bit in self.order if bit & empty and bit != killer]
        else:
            moves = [bit for bit in self.order if bit & empty]
        for bit in moves:
            child = (p1 | bit, p2) if mover == 1 else (p1, p2 | bit)
            if not self.mover_wins(child[0], child[1], other):
                self.killers[depth] = bit
                return True
        return False


def _bit_reversal_table(bits: int) -> list[int]:
    """``table[x]``: ``x`` with its ``bits`` low bits in reverse order (a 180-degree turn)."""
    table = [0] * (1 << bits)
    for x in range(1, 1 << bits):
        table[x] = (table[x >> 1] >> 1) | ((x & 1) << (bits - 1))
    return table


@cache
def _tables(size: int) -> _Tables:
    return _Tables(size)


class Solver:
    """Exact values and winning moves of Hex positions on boards up to 4x4.

    Answers are shared by every solver of the same size in the process, so only the first
    call pays for the search.

    Args:
        size: side of the board, 2 to :data:`MAX_SOLVER_SIZE`.

    Raises:
        ValueError: a board too large (or too small) to solve.
    """

    def __init__(self, size: int) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or not 2 <= size <= MAX_SOLVER_SIZE:
            raise ValueError(
                f"the exact solver handles board sizes 2..{MAX_SOLVER_SIZE}, got {size!r}: "
                "rate larger boards against mcts or trained agents instead"
            )
        self.size = size
        self._tables = _tables(size)

    def value(self, state: HexState) -> torch.Tensor:
        """float32 ``[n]``: +1 where the player to move wins with best play, else -1.

        A board where somebody has already connected is -1: the previous mover won.
        """
        import torch

        values = [1.0 if self._mover_wins(p1, p2) else -1.0 for p1, p2 in self._positions(state)]
        return torch.tensor(values, dtype=torch.float32, device=state.board.device)

    def winning_moves(self, state: HexState) -> torch.Tensor:
        """bool ``[n, cells]``: the moves after which the player to move wins with best play.

        All false on a lost board and on a board where the game is already over.
        """
        import torch

        tables, rows = self._tables, []
        for p1, p2 in self._positions(state):
            mover = _mover(p1, p2)
            row = [False] * tables.cells
            # On a lost board no move wins: skip proving it once per move.
            if self._mover_wins(p1, p2):
                for cell in range(tables.cells):
                    bit = 1 << cell
                    if not bit & (p1 | p2):
                        row[cell] = self._move_wins(p1, p2, bit, mover)
            rows.append(row)
        return torch.tensor(rows, dtype=torch.bool, device=state.board.device).view(
            -1, tables.cells
        )

    def winning_move(
        self, state: HexState, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """int64 ``[n]``: a move after which the player to move wins; -1 where none does.

        Cheaper than :meth:`winning_moves` (it stops at the first winning move). With a CPU
        ``generator``, moves are tried in random order: a uniform choice among the winners.
        """
        import torch

        cells, chosen = self._tables.cells, []
        for p1, p2 in self._positions(state):
            move = -1
            if self._mover_wins(p1, p2):
                order = list(range(cells))
                if generator is not None:
                    order = torch.randperm(cells, generator=generator).tolist()
                mover = _mover(p1, p2)
                for cell in order:
                    bit = 1 << cell
                    if not bit & (p1 | p2) and self._move_wins(p1, p2, bit, mover):
                        move = cell
                        break
            chosen.append(move)
        return torch.tensor(chosen, dtype=torch.long, device=state.board.device)

    def _move_wins(self, p1: int, p2: int, bit: int, mover: int) -> bool:
        tables = self._tables
        child = (p1 | bit, p2) if mover == 1 else (p1, p2 | bit)
        if tables.connects(child[mover - 1], mover):
            return True
        return not tables.mover_wins(child[0], child[1], 3 - mover)

    def _mover_wins(self, p1: int, p2: int) -> bool:
        if self._finished(p1, p2):
            return False
        return self._tables.mover_wins(p1, p2, _mover(p1, p2))

    def _finished(self, p1: int, p2: int) -> bool:
        return self._tables.connects(p1, 1) or self._tables.connects(p2, 2)

    def _positions(self, state: HexState) -> list[tuple[int, int]]:
        """Each board as (player 1 bits, player 2 bits)."""
        import torch

        cells = self._tables.cells
        if state.board.shape[1] != cells:
            raise ValueError(
                f"a {self.size}x{self.size} solver got boards of {state.board.shape[1]} cells: "
                "use Solver(size) with the board's own size"
            )
        board = state.board.to("cpu", torch.long)
        weights = torch.tensor([1 << i for i in range(cells)], dtype=torch.long)
        p1 = ((board == 1).long() * weights).sum(1).tolist()
        p2 = ((board == 2).long() * weights).sum(1).tolist()
        return list(zip(p1, p2, strict=True))


def _mover(p1: int, p2: int) -> int:
    """The player to move: the first player moves whenever the stone counts are equal."""
    return 1 if p1.bit_count() == p2.bit_count() else 2


def oracle_evaluator(size: int) -> Evaluator:
    """An :class:`~overseer_rlbench.evaluate.Evaluator` with the exact value and a flat prior.

    In place of a network, it lets a search be tested against perfect knowledge.
    """
    solver = Solver(size)

    def evaluate(state: HexState, geometry: HexGeometry) -> Evaluation:
        import torch

        logits = torch.zeros((state.n_envs, geometry.cells), device=state.board.device)
        return Evaluation(logits=logits, value=solver.value(state))

    return evaluate


class SolverAgent:
    """Perfect play: a winning move whenever there is one (seeded choice among them).

    On a lost board every legal move loses against best play; it then plays a random legal
    move, which still wins against opponents who err.

    Args:
        size: side of the board, 2 to :data:`MAX_SOLVER_SIZE`.
        name: the agent's name in matches and ratings.
        seed: seeds the choice among equally good moves.
    """

    def __init__(self, size: int, name: str = "solver", seed: int = 0) -> None:
        import torch

        self.name = name
        self.solver = Solver(size)
        self.generator = torch.Generator().manual_seed(seed)

    def act(self, state: HexState, geometry: HexGeometry) -> torch.Tensor:
        """int64 ``[n]``: one move per board (legal, winning when a win exists)."""
        import torch

        move = self.solver.winning_move(state, self.generator).cpu()
        noise = torch.rand(state.board.shape, generator=self.generator)
        fallback = noise.masked_fill_(state.board.cpu() != 0, -1.0).argmax(dim=1)
        return torch.where(move >= 0, move, fallback).to(state.board.device)
