"""The replay buffer: the latest self-play positions, preallocated on the device.

A ring of ``capacity`` training samples, each the canonical observation of a position, the
search's policy there (canonical frame) and the game's outcome for the player to move. Adding
past the capacity overwrites the oldest samples; sampling draws uniformly with replacement.

>>> import torch
>>> buffer = ReplayBuffer(capacity=4, size=2)
>>> buffer.add(torch.zeros(6, 2, 2, 2), torch.full((6, 4), 0.25), torch.arange(6.0))
>>> len(buffer), sorted(buffer.value.tolist()), buffer.added
(4, [2.0, 3.0, 4.0, 5.0], 6)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["ReplayBuffer"]


class ReplayBuffer:
    """The last ``capacity`` samples of boards of ``size``, kept on ``device``.

    Observations are stored as booleans (they hold 0 and 1 only): a sample of a 9x9 board
    then takes 162 + 4 * 82 bytes.

    Attributes:
        obs: bool ``[capacity, 2, size, size]``.
        policy: float32 ``[capacity, size*size]``, canonical frame.
        value: float32 ``[capacity]``, +1 if the player to move went on to win, else -1.
        added: how many samples were ever added (the overwritten ones included).
    """

    def __init__(self, capacity: int, size: int, device: torch.device | str = "cpu") -> None:
        import torch

        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            message = f"replay capacity must be a whole number of at least 1, got {capacity!r}"
            raise ValueError(message)
        self.capacity, self.size = capacity, size
        self.device = torch.device(device)
        cells = size * size
        self.obs = torch.zeros((capacity, 2, size, size), dtype=torch.bool, device=self.device)
        self.policy = torch.zeros((capacity, cells), dtype=torch.float32, device=self.device)
        self.value = torch.zeros(capacity, dtype=torch.float32, device=self.device)
        self.added = 0

    def __len__(self) -> int:
        return min(self.added, self.capacity)

    def add(self, obs: torch.Tensor, policy: torch.Tensor, value: torch.Tensor) -> None:
        """Append ``k`` samples: obs ``[k, 2, size, size]``, policy ``[k, cells]``, value ``[k]``.

        Raises:
            ValueError: the three disagree on ``k`` or do not fit boards of this size.
        """
        import torch

        self._check(obs, policy, value)
        count = int(obs.shape[0])
        kept = min(count, self.capacity)
        # Of more samples than fit, only the last `capacity` would survive anyway.
        start = (self.added + count - kept) % self.capacity
        slots = (start + torch.arange(kept, device=self.device)) % self.capacity
        self.obs[slots] = obs[count - kept :].to(self.device, torch.bool)
        self.policy[slots] = policy[count - kept :].to(self.device, torch.float32)
        self.value[slots] = value[count - kept :].to(self.device, torch.float32)
        self.added += count

    def sample(
        self, batch: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``batch`` samples drawn uniformly with replacement: float32 obs, policy, value.

        Raises:
            ValueError: the buffer is empty.
        """
        import torch

        if len(self) == 0:
            raise ValueError("cannot sample an empty replay buffer: add self-play samples first")
        index = torch.randint(len(self), (batch,), generator=generator, device=self.device)
        return self.obs[index].float(), self.policy[index], self.value[index]

    def _check(self, obs: torch.Tensor, policy: torch.Tensor, value: torch.Tensor) -> None:
        count, size = int(obs.shape[0]), self.size
        expected = ((count, 2, size, size), (count, size * size), (count,))
        named = zip(("obs", "policy", "value"), (obs, policy, value), expected, strict=True)
        for name, tensor, shape in named:
            if tuple(tensor.shape) != shape:
                message = (
                    f"replay {name} has shape {list(tensor.shape)}, expected {list(shape)} "
                    f"for {count} samples of a {size}x{size} board"
                )
                raise ValueError(message)
