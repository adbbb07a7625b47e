"""``HexEnv``: many Hex boards stepped at once, with auto-reset, on one device.

>>> env = HexEnv(n_envs=4, size=5, seed=0)
>>> env.board.shape, env.board.dtype
(torch.Size([4, 5, 5]), torch.int8)
>>> result = env.step(env.random_actions())
>>> result.done.tolist(), env.to_move.tolist()
([False, False, False, False], [2, 2, 2, 2])

A board whose game ends in a step is reset to empty in the same call; ``result.winner`` says
who won it (1 or 2) and is 0 on the others. :mod:`overseer_rlbench.hex` holds the rules as
pure functions for code, like a search, that keeps positions of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import IllegalActionError
from .hex import HexGeometry, HexState, initial_state, play, random_legal_actions, reset_finished
from .observation import observe

if TYPE_CHECKING:
    import torch

__all__ = ["HexEnv", "StepResult"]

# How many offending boards an IllegalActionError lists before it says "and N more".
_SHOWN_INDICES = 8


@dataclass(frozen=True)
class StepResult:
    """What one :meth:`HexEnv.step` did.

    Attributes:
        done: bool ``[n_envs]``, the boards whose game ended (they are empty again).
        winner: int8 ``[n_envs]``, the winner on those boards, 0 elsewhere.
        moves: int64 ``[n_envs]``, the length of the games that ended, 0 elsewhere.
    """

    done: torch.Tensor
    winner: torch.Tensor
    moves: torch.Tensor


class HexEnv:
    """``n_envs`` Hex boards of ``size`` on ``device``, stepped together.

    Args:
        n_envs: how many boards.
        size: side of each board (at least 2).
        device: a torch device; every tensor the env returns lives there.
        seed: seeds the env's own generator (:meth:`random_actions`); ``None`` draws one.

    Attributes:
        geometry: the :class:`~overseer_rlbench.hex.HexGeometry` of the board.
        state: the current :class:`~overseer_rlbench.hex.HexState` (replaceable).
    """

    def __init__(
        self,
        n_envs: int,
        size: int,
        device: torch.device | str = "cpu",
        seed: int | None = None,
    ) -> None:
        import torch

        if not isinstance(n_envs, int) or isinstance(n_envs, bool) or n_envs < 1:
            raise ValueError(f"n_envs must be a positive integer, got {n_envs!r}")
        self.geometry = HexGeometry(size, device)
        self.n_envs = n_envs
        self.size = size
        self.device = self.geometry.device
        self.generator = torch.Generator(self.device)
        if seed is None:
            self.generator.seed()
        else:
            self.generator.manual_seed(seed)
        self._empty = initial_state(self.geometry, n_envs)
        self.state: HexState = self._empty

    @property
    def board(self) -> torch.Tensor:
        """int8 ``[n_envs, size, size]``: 0 empty, 1 and 2 the players' stones."""
        return self.state.board.view(self.n_envs, self.size, self.size)

    @property
    def to_move(self) -> torch.Tensor:
        """int8 ``[n_envs]``: the player to move on each board, 1 or 2."""
        return self.state.to_move

    def legal(self) -> torch.Tensor:
        """bool ``[n_envs, size*size]``: the empty cells; action ``r*size + c``."""
        return self.state.legal()

    def observe(self) -> torch.Tensor:
        """float32 ``[n_envs, 2, size, size]``, the network's input (see :mod:`.observation`)."""
        return observe(self.state, self.geometry)

    def reset(self) -> None:
        """Empty every board."""
        self.state = self._empty

    def random_actions(self) -> torch.Tensor:
        """int64 ``[n_envs]``: a uniformly random legal action on each board."""
        return random_legal_actions(self.state, self.generator)

    def step(self, actions: torch.Tensor) -> StepResult:
        """Play ``actions`` (int ``[n_envs]``) on every board; reset the boards that end.

        Raises:
            IllegalActionError: some action is off the board or on a stone; the message
                names those boards, and no board has changed.
        """
        actions = self._checked(actions)
        return self._step(actions)

    def step_random(self) -> StepResult:
        """One step of uniformly random play (legal by construction, so unchecked)."""
        return self._step(self.random_actions())

    def _step(self, actions: torch.Tensor) -> StepResult:
        import torch

        state, winner = play(self.state, actions, self.geometry)
        done = winner != 0
        moves = torch.where(done, state.moves, 0)
        self.state = reset_finished(state, done)
        return StepResult(done=done, winner=winner, moves=moves)

    def _checked(self, actions: torch.Tensor) -> torch.Tensor:
        import torch

        actions = torch.as_tensor(actions)  # a list of ints is welcome too
        if actions.shape != (self.n_envs,) or actions.dtype.is_floating_point:
            message = (
                f"actions must be an integer tensor of shape [{self.n_envs}] (one per board), "
                f"got {actions.dtype} {list(actions.shape)}"
            )
            raise IllegalActionError(message)
        actions = actions.to(self.device, torch.long)
        off_board = (actions < 0) | (actions >= self.geometry.cells)
        clamped = actions.clamp(0, self.geometry.cells - 1).unsqueeze(1)
        occupied = self.state.board.gather(1, clamped).squeeze(1) != 0
        bad = off_board | occupied
        if bool(bad.any()):
            raise IllegalActionError(self._describe(bad, actions, off_board))
        return actions

    def _describe(self, bad: torch.Tensor, actions: torch.Tensor, off: torch.Tensor) -> str:
        indices = bad.nonzero().flatten().tolist()
        shown = ", ".join(
            f"{i} ({'off the board' if off[i] else 'occupied'}: {int(actions[i])})"
            for i in indices[:_SHOWN_INDICES]
        )
        more = f" and {len(indices) - _SHOWN_INDICES} more" if len(indices) > _SHOWN_INDICES else ""
        cells = self.geometry.cells
        return (
            f"illegal action on env {shown}{more}: play an empty cell in 0..{cells - 1} "
            "(see env.legal())"
        )
