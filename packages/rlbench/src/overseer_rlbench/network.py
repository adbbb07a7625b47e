"""The policy-value network: a residual convolutional tower, sized by a preset.

The network reads the canonical observation of :mod:`~overseer_rlbench.observation` (the
player to move connects row 0 to the last row) and returns a policy over the cells in that
frame and a value in ``[-1, 1]`` for the player to move. :class:`NetworkEvaluator` wraps it
as an :class:`~overseer_rlbench.evaluate.Evaluator` for the search, mapping the policy back
to each board's own action space.

The board is framed by a ring of stones before the first convolution: rows above and below
hold the mover's stones, columns left and right the opponent's (the corners hold both), so
the goal edges look like the groups they extend and the network need not learn them.

>>> model = build_network(5, "tiny")
>>> import torch
>>> logits, value = model(torch.zeros(3, 2, 5, 5))
>>> logits.shape, value.shape
(torch.Size([3, 25]), torch.Size([3]))
>>> flops_per_position(5, PRESETS["tiny"])
246144
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from .evaluate import Evaluation
from .observation import from_canonical, observe

if TYPE_CHECKING:
    import torch

    from .hex import HexGeometry, HexState

__all__ = [
    "PRESETS",
    "NetworkEvaluator",
    "NetworkShape",
    "build_network",
    "flops_per_position",
    "network_shape",
]

_KERNEL = 3 * 3
_INPUT_PLANES = 2


@dataclass(frozen=True)
class NetworkShape:
    """How wide (channels) and deep (residual blocks) a network is."""

    width: int
    depth: int

    def __post_init__(self) -> None:
        for name in ("width", "depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                message = f"network {name} must be a whole number of at least 1, got {value!r}"
                raise ValueError(message)


#: The named shapes the scaling study sweeps, smallest first.
PRESETS: dict[str, NetworkShape] = {
    "tiny": NetworkShape(16, 1),
    "xs": NetworkShape(32, 2),
    "s": NetworkShape(64, 4),
    "m": NetworkShape(128, 6),
    "l": NetworkShape(256, 8),
    "xl": NetworkShape(256, 16),
}


def network_shape(preset: str | NetworkShape) -> NetworkShape:
    """The shape a preset name stands for (a shape is returned as it is).

    Raises:
        ValueError: an unknown preset name; the message lists the known ones.
    """
    if isinstance(preset, NetworkShape):
        return preset
    if preset not in PRESETS:
        known = ", ".join(PRESETS)
        message = f"unknown network preset {preset!r}: use one of {known} or a NetworkShape"
        raise ValueError(message)
    return PRESETS[preset]


def flops_per_position(size: int, shape: NetworkShape) -> int:
    """Floating-point operations of one forward pass on one position.

    Counts two operations per multiply-add of every convolution and linear layer, the
    convention of ``torch.utils.flop_counter``; biases, activations and the edge framing
    are left out (they are a few percent on the smallest networks, less on the others).

    Example: ``tiny`` (width 16, depth 1) on 5x5 is ``2 * 25 * (2*9*16 + 2*9*16*16 + 16)``
    (stem, block, policy head per cell) ``+ 2 * (16*16 + 16)`` (value head) ``= 246144``.
    """
    cells, width = size * size, shape.width
    stem = _INPUT_PLANES * _KERNEL * width
    tower = shape.depth * 2 * _KERNEL * width * width
    policy_head = width
    value_head = width * width + width
    return 2 * (cells * (stem + tower + policy_head) + value_head)


def build_network(size: int, preset: str | NetworkShape) -> torch.nn.Module:
    """A fresh residual policy-value network for boards of ``size``.

    ``forward(obs)`` takes float32 ``[n, 2, size, size]`` and returns ``(logits, value)``:
    float ``[n, size*size]`` in the canonical frame, and float ``[n]`` in ``[-1, 1]``.
    The module has ``size`` and ``shape`` attributes, which checkpoints record.
    """
    if not isinstance(size, int) or isinstance(size, bool) or size < 2:
        raise ValueError(f"board size must be an integer of at least 2, got {size!r}")
    network_class = _network_class()
    return network_class(size, network_shape(preset))


@lru_cache(maxsize=1)
def _network_class() -> type[torch.nn.Module]:
    """The module classes, defined on first use so that importing this module needs no torch."""
    import torch
    from torch import nn

    class ResidualBlock(nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.first = nn.Conv2d(width, width, 3, padding=1)
            self.second = nn.Conv2d(width, width, 3, padding=1)
            # A block starts as the identity, so a deep tower trains without normalisation.
            for parameter in self.second.parameters():
                nn.init.zeros_(parameter)

        def forward(self, features: torch.Tensor) -> torch.Tensor:
            update: torch.Tensor = self.second(torch.relu(self.first(torch.relu(features))))
            return features + update

    class PolicyValueNetwork(nn.Module):
        frame: torch.Tensor

        def __init__(self, size: int, shape: NetworkShape) -> None:
            super().__init__()
            self.size, self.shape = size, shape
            self.register_buffer("frame", _edge_frame(size), persistent=False)
            self.stem = nn.Conv2d(_INPUT_PLANES, shape.width, 3)
            self.tower = nn.Sequential(*(ResidualBlock(shape.width) for _ in range(shape.depth)))
            self.policy_head = nn.Conv2d(shape.width, 1, 1)
            self.value_hidden = nn.Linear(shape.width, shape.width)
            self.value_out = nn.Linear(shape.width, 1)

        def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            framed = nn.functional.pad(obs, (1, 1, 1, 1)) + self.frame
            features = torch.relu(self.tower(self.stem(framed)))
            logits = self.policy_head(features).flatten(1)
            pooled = features.mean(dim=(2, 3))
            value = self.value_out(torch.relu(self.value_hidden(pooled)))
            return logits, torch.tanh(value).squeeze(1)

    return PolicyValueNetwork


def _edge_frame(size: int) -> torch.Tensor:
    """float32 ``[2, size+2, size+2]``: the mover's stones above and below the board, the
    opponent's left and right of it (the canonical mover connects top to bottom)."""
    import torch

    frame = torch.zeros((_INPUT_PLANES, size + 2, size + 2))
    frame[0, (0, -1), :] = 1.0
    frame[1, :, (0, -1)] = 1.0
    return frame


class NetworkEvaluator:
    """A network as an :class:`~overseer_rlbench.evaluate.Evaluator` for the search.

    Evaluates without gradients, in bf16 autocast on CUDA when ``amp`` is set (never on
    CPU), and returns float32 logits in each board's own action space.

    Attributes:
        model: the wrapped network.
        positions: how many positions it has evaluated (compute accounting).
    """

    def __init__(self, model: torch.nn.Module, amp: bool = False) -> None:
        self.model = model
        self.amp = amp
        self.positions = 0

    def __call__(self, state: HexState, geometry: HexGeometry) -> Evaluation:
        import torch

        obs = observe(state, geometry)
        autocast = self.amp and obs.device.type == "cuda"
        with torch.no_grad(), torch.autocast(obs.device.type, torch.bfloat16, enabled=autocast):
            logits, value = self.model(obs)
        self.positions += state.n_envs
        logits = from_canonical(logits.float(), state.to_move, geometry)
        return Evaluation(logits=logits, value=value.float())
