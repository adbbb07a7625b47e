"""AlphaZero training: self-play actors and a learner, alternating on one device.

Each iteration plays one move on every self-play board (:class:`~.selfplay.SelfPlay`), puts
the positions of finished games in the replay buffer, then takes as many learner steps as
keep ``reuse`` learner samples per self-play position. The loss is the cross-entropy of the
network's policy against the search's policy plus the squared error of its value against
the game's outcome; AdamW optimises it, in bf16 autocast on CUDA.

Budgets (``max_seconds``, ``max_samples``, ``max_flops``) count the whole training, every
run resumed from the folder's checkpoints included: ``train`` picks up from the latest
checkpoint in ``folder`` and stops when any budget is spent or ``stop()`` says so.
Training compute, the x-axis of the scaling study, is counted as network evaluations in
self-play times the forward FLOPs, plus learner samples times three forward FLOPs (forward
and backward); the search's own bookkeeping is left out.

>>> summary = train(
...     TrainConfig(size=3, preset="tiny", n_envs=8, simulations=4, batch_size=32, max_samples=64)
... )
>>> summary.samples >= 64, summary.stopped_by
(True, 'max_samples')
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import metrics
from .checkpoint import (
    checkpoint_path,
    checkpoints_in,
    latest_checkpoint,
    load_checkpoint,
    load_model_state,
)
from .checkpoint import save_checkpoint as write_checkpoint
from .errors import CheckpointError
from .network import NetworkEvaluator, NetworkShape, build_network, flops_per_position
from .network import network_shape as shape_of
from .replay import ReplayBuffer
from .selfplay import SelfPlay

if TYPE_CHECKING:
    import torch

    from .mcts import Algorithm
    from .selfplay import Samples

__all__ = ["TrainConfig", "TrainSummary", "train"]

ALGORITHMS = ("puct", "regularized", "gumbel")
# Self-play positions the replay buffer holds, in games of every board (see replay_games).
_DEFAULT_REPLAY_GAMES = 8


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on.

    Attributes:
        size: board side.
        preset: network preset name (see :data:`~.network.PRESETS`) or a shape.
        n_envs: self-play games played at once.
        simulations: search simulations per move.
        algorithm: ``"puct"``, ``"regularized"`` or ``"gumbel"``.
        c_puct: the search's exploration constant.
        dirichlet_alpha: root noise of self-play searches (``None``: none).
        explore_moves: first moves of each game drawn from the search policy (the later
            ones are the search's choice); ``None`` means half the cells.
        batch_size: learner samples per step.
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        reuse: learner samples per self-play position (how often a sample is learned from).
        replay_games: replay capacity, in games of every board (``n_envs * size**2 / 2``
            positions each, an average game's length being about half the board).
        max_seconds: training time budget, resumed runs included.
        max_samples: learner samples budget.
        max_flops: training compute budget.
        checkpoint_minutes: time between checkpoints (one is always written at the end).
        keep_checkpoints: how many of the latest checkpoints stay in the folder; ``None``
            keeps them all (each is an agent of the scaling study, at its training compute).
        folder: where checkpoints go and are resumed from; ``None`` writes none.
        device: torch device of everything.
        seed: seeds the network, the self-play and the learner's sampling.
        amp: bf16 autocast on CUDA (never on CPU).
        epoch_steps: learner steps per epoch, the period of reported metrics.
    """

    size: int = 5
    preset: str | NetworkShape = "xs"
    n_envs: int = 256
    simulations: int = 32
    algorithm: Algorithm = "puct"
    c_puct: float = 1.25
    dirichlet_alpha: float | None = 0.3
    explore_moves: int | None = None
    batch_size: int = 512
    lr: float = 1e-3
    weight_decay: float = 1e-4
    reuse: float = 4.0
    replay_games: float = _DEFAULT_REPLAY_GAMES
    max_seconds: float | None = None
    max_samples: int | None = None
    max_flops: float | None = None
    checkpoint_minutes: float = 5.0
    keep_checkpoints: int | None = None
    folder: Path | None = None
    device: str = "cpu"
    seed: int = 0
    amp: bool = True
    epoch_steps: int = 50

    def __post_init__(self) -> None:
        shape_of(self.preset)
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm {self.algorithm!r} is unknown: use one of {ALGORITHMS}")
        for name in ("size", "n_envs", "simulations", "batch_size", "epoch_steps"):
            _check_whole(name, getattr(self, name), least=2 if name == "size" else 1)
        for name in ("lr", "reuse", "replay_games", "checkpoint_minutes"):
            _check_positive(name, getattr(self, name))
        if self.keep_checkpoints is not None:
            _check_whole("keep_checkpoints", self.keep_checkpoints, least=1)
        for name in ("max_seconds", "max_samples", "max_flops"):
            if getattr(self, name) is not None:
                _check_positive(name, getattr(self, name))

    @property
    def shape(self) -> NetworkShape:
        """The network's shape."""
        return shape_of(self.preset)

    @property
    def replay_capacity(self) -> int:
        """Samples the replay buffer holds."""
        positions = self.replay_games * self.n_envs * self.size**2 / 2
        return max(self.batch_size, math.ceil(positions))

    def explore(self) -> int:
        """Moves drawn from the search policy at the start of each game."""
        return self.size**2 // 2 if self.explore_moves is None else self.explore_moves


def _check_whole(name: str, value: Any, least: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f"TrainConfig.{name} must be a whole number >= {least}, got {value!r}")


def _check_positive(name: str, value: Any) -> None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or value <= 0:
        raise ValueError(f"TrainConfig.{name} must be a number above 0, got {value!r}")


@dataclass(frozen=True)
class TrainSummary:
    """What a training run did, counted over the whole training (resumed runs included).

    Attributes:
        steps: learner steps.
        samples: learner samples (steps times batch size).
        games: self-play games finished.
        moves: self-play moves played in this run (every board's).
        flops: training compute, floating-point operations.
        seconds: training time.
        checkpoint: the last checkpoint written, ``None`` without a folder.
        stopped_by: ``"max_seconds"``, ``"max_samples"``, ``"max_flops"`` or ``"stop"``.
        metrics: the last epoch's metrics (empty if no epoch ended).
        model: the trained network, on the training device.
    """

    steps: int
    samples: int
    games: int
    moves: int
    flops: float
    seconds: float
    checkpoint: Path | None
    stopped_by: str
    metrics: dict[str, float] = field(default_factory=dict)
    model: torch.nn.Module | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        """One line for a terminal: the counts, the time, why it stopped, where it is saved.

        Example: ``"1200 learner steps (614400 samples), 5391 games, 3.1e+13 FLOPs in
        182.4 s; stopped by max_seconds; saved to runs/a/checkpoint-000001200.pt"``.
        """
        saved = f"; saved to {self.checkpoint}" if self.checkpoint is not None else ""
        return (
            f"{self.steps} learner steps ({self.samples} samples), {self.games} games, "
            f"{self.flops:.2g} FLOPs in {self.seconds:.1f} s; stopped by {self.stopped_by}{saved}"
        )


def train(
    config: TrainConfig,
    stop: Callable[[], bool] | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> TrainSummary:
    """Train a network by self-play until a budget is spent or ``stop()`` returns true.

    Args:
        config: the run's settings; at least one budget or ``stop`` should end it.
        stop: asked between steps; true ends the training (with a checkpoint).
        on_epoch: called with each epoch's metrics (also pushed to the running XP).

    Raises:
        ValueError: no budget and no ``stop``: the training would never end.
        CheckpointError: the folder's latest checkpoint is unreadable or is of another
            board size or network shape.
    """
    budgets = (config.max_seconds, config.max_samples, config.max_flops)
    if stop is None and all(budget is None for budget in budgets):
        message = "train() needs an end: set max_seconds, max_samples or max_flops, or pass stop"
        raise ValueError(message)
    run = _Run(config, stop, on_epoch)
    return run.loop()


class _Run:
    """One call of :func:`train`: the objects it drives and its counters."""

    def __init__(
        self,
        config: TrainConfig,
        stop: Callable[[], bool] | None,
        on_epoch: Callable[[dict[str, float]], None] | None,
    ) -> None:
        import torch

        self.config, self.stop, self.on_epoch = config, stop, on_epoch
        self.device = torch.device(config.device)
        self.amp = config.amp and self.device.type == "cuda"
        torch.manual_seed(config.seed)
        self.model = build_network(config.size, config.shape).to(self.device)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.flops_per_position = flops_per_position(config.size, config.shape)
        self.step = self.samples = self.games = 0
        self.flops = self.seconds_before = 0.0
        self.checkpoint: Path | None = None
        self.epochs = 0
        self.last_metrics: dict[str, float] = {}
        self._resume()
        self._build_actors()
        self.epoch = _Epoch()

    def _resume(self) -> None:
        path = latest_checkpoint(self.config.folder)
        if path is None:
            return
        checkpoint = load_checkpoint(path, self.device)
        if (checkpoint.size, checkpoint.shape) != (self.config.size, self.config.shape):
            message = (
                f"checkpoint {path} is of a {checkpoint.size}x{checkpoint.size} board and "
                f"network {checkpoint.shape}, the config asks for {self.config.size}x"
                f"{self.config.size} and {self.config.shape}: use another folder"
            )
            raise CheckpointError(message)
        load_model_state(self.model, checkpoint)
        if checkpoint.optimizer_state is not None:
            self.optimizer.load_state_dict(checkpoint.optimizer_state)
        self.step, self.samples, self.games = checkpoint.step, checkpoint.samples, checkpoint.games
        self.flops, self.seconds_before = checkpoint.flops, checkpoint.seconds
        self.epochs = self.step // self.config.epoch_steps
        self.checkpoint = path

    def _build_actors(self) -> None:
        import torch

        from .mcts import SearchConfig

        config = self.config
        # A resumed run must not replay the random stream of the run it continues.
        seed = config.seed + self.step
        search = SearchConfig(
            algorithm=config.algorithm,
            simulations=config.simulations,
            c_puct=config.c_puct,
            dirichlet_alpha=config.dirichlet_alpha,
        )
        self.evaluator = NetworkEvaluator(self.model, amp=config.amp)
        self.selfplay = SelfPlay(
            self.evaluator, config.size, config.n_envs, search, config.explore(), self.device, seed
        )
        self.replay = ReplayBuffer(config.replay_capacity, config.size, self.device)
        self.generator = torch.Generator(self.device)
        self.generator.manual_seed(seed + 1)
        self.credit = 0.0

    # ------------------------------------------------------------ the loop

    def loop(self) -> TrainSummary:
        self.started = self.last_checkpoint = time.perf_counter()
        metrics.give(use_cuda=self.device.type == "cuda")
        metrics.give(model=self.model)
        stopped_by = self._exhausted()
        try:
            while stopped_by is None:
                self._play()
                stopped_by = self._learn()
                self._maybe_checkpoint()
        finally:
            if self.epoch.steps:
                self._end_epoch()
            # A run that found its budget spent has nothing new to save.
            if self.config.folder is not None and (self.selfplay.moves or self.checkpoint is None):
                self._save()
        return self._summary(stopped_by)

    def _play(self) -> None:
        self.model.eval()
        start = time.perf_counter()
        samples = self.selfplay.step()
        self.epoch.selfplay_seconds += self._elapsed(start)
        self._count_evaluations()
        if samples.count:
            self.replay.add(samples.obs, samples.policy, samples.value)
            self.games += samples.games
            self.epoch.add_games(samples)
        if len(self.replay) >= self.config.batch_size:
            self.credit += self.config.n_envs * self.config.reuse

    def _learn(self) -> str | None:
        """Learner steps while the reuse credit lasts; the budget that ran out, if one did."""
        self.model.train()
        start, reason = time.perf_counter(), None
        while self.credit >= self.config.batch_size and reason is None:
            reason = self._exhausted()
            if reason is None:
                self._learner_step()
                self.credit -= self.config.batch_size
        self.epoch.learner_seconds += self._elapsed(start)
        if self.epoch.steps >= self.config.epoch_steps:
            self._end_epoch()
        return reason or self._exhausted()

    def _elapsed(self, start: float) -> float:
        """Seconds since ``start``, the device's queued work included."""
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter() - start

    def _learner_step(self) -> None:
        import torch

        obs, policy, value = self.replay.sample(self.config.batch_size, self.generator)
        with torch.autocast(self.device.type, torch.bfloat16, enabled=self.amp):
            logits, predicted = self.model(obs)
        log_policy = torch.log_softmax(logits.float(), dim=1)
        policy_loss = -(policy * log_policy).sum(dim=1).mean()
        value_loss = torch.nn.functional.mse_loss(predicted.float(), value)
        loss = policy_loss + value_loss
        self.optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        self.optimizer.step()
        self.step += 1
        self.samples += self.config.batch_size
        self.flops += 3.0 * self.config.batch_size * self.flops_per_position
        self.epoch.add_step(policy_loss.detach(), value_loss.detach())
        if metrics.listening():
            # samples: the budget so far, kept across resumes (what an early stop can end at).
            metrics.give(step=self.step, batch=obs, loss=float(loss.detach()), samples=self.samples)

    def _count_evaluations(self) -> None:
        self.flops += self.evaluator.positions * float(self.flops_per_position)
        self.epoch.moves += self.config.n_envs
        self.evaluator.positions = 0

    def _exhausted(self) -> str | None:
        config = self.config
        spent = (
            ("max_seconds", self.seconds(), config.max_seconds),
            ("max_samples", self.samples, config.max_samples),
            ("max_flops", self.flops, config.max_flops),
        )
        for name, used, budget in spent:
            if budget is not None and used >= budget:
                return name
        if self.stop is not None and self.stop():
            return "stop"
        return None

    def seconds(self) -> float:
        return self.seconds_before + time.perf_counter() - self.started

    # ------------------------------------------------------------ reporting and saving

    def _end_epoch(self) -> None:
        record = self.epoch.close(self)
        self.last_metrics = record
        if not metrics.push_metrics(record):
            metrics.give(**record)
        if self.on_epoch is not None:
            self.on_epoch(record)
        self.epoch = _Epoch()

    def _maybe_checkpoint(self) -> None:
        due = self.last_checkpoint + 60.0 * self.config.checkpoint_minutes
        if self.config.folder is not None and time.perf_counter() >= due:
            self._save()

    def _save(self) -> None:
        assert self.config.folder is not None
        self.checkpoint = write_checkpoint(
            checkpoint_path(self.config.folder, self.step),
            self.model,
            self.optimizer,
            step=self.step,
            samples=self.samples,
            flops=self.flops,
            games=self.games,
            seconds=self.seconds(),
            extra={"config": _plain_config(self.config)},
        )
        self.last_checkpoint = time.perf_counter()
        if self.config.keep_checkpoints is not None:
            _prune(self.config.folder, self.config.keep_checkpoints)

    def _summary(self, stopped_by: str | None) -> TrainSummary:
        return TrainSummary(
            steps=self.step,
            samples=self.samples,
            games=self.games,
            moves=self.selfplay.moves,
            flops=self.flops,
            seconds=self.seconds(),
            checkpoint=self.checkpoint,
            stopped_by=stopped_by or "stop",
            metrics=dict(self.last_metrics),
            model=self.model,
        )


def _prune(folder: Path, keep: int) -> None:
    """Delete all but the ``keep`` checkpoints of the highest steps in ``folder``."""
    for old in checkpoints_in(folder)[:-keep]:
        old.unlink(missing_ok=True)


def _plain_config(config: TrainConfig) -> dict[str, Any]:
    """The config as numbers and strings, which a checkpoint stores."""
    plain = asdict(config)
    plain["preset"] = asdict(config.shape)
    plain["folder"] = None if config.folder is None else str(config.folder)
    return plain


class _Epoch:
    """Sums over the learner steps and games of one epoch."""

    def __init__(self) -> None:
        self.steps = self.moves = self.games = self.first_wins = self.positions = 0
        self.policy_loss: torch.Tensor | float = 0.0
        self.value_loss: torch.Tensor | float = 0.0
        self.learner_seconds = self.selfplay_seconds = 0.0

    def add_step(self, policy_loss: torch.Tensor, value_loss: torch.Tensor) -> None:
        # Summed as tensors: turning them into numbers each step would wait for the GPU.
        self.policy_loss = self.policy_loss + policy_loss
        self.value_loss = self.value_loss + value_loss
        self.steps += 1

    def add_games(self, samples: Samples) -> None:
        self.games += samples.games
        self.first_wins += samples.first_player_wins
        self.positions += samples.count

    def close(self, run: _Run) -> dict[str, float]:
        steps, games = max(self.steps, 1), max(self.games, 1)
        run.epochs += 1
        return {
            "epoch": run.epochs,
            "learner_steps": run.step,
            "learner_samples": run.samples,
            "train_flops": run.flops,
            "selfplay_games": run.games,
            "seconds": run.seconds(),
            "policy_loss": float(self.policy_loss) / steps,
            "value_loss": float(self.value_loss) / steps,
            "selfplay_moves_per_s": self.moves / max(self.selfplay_seconds, 1e-9),
            "samples_per_s": self.steps * run.config.batch_size / max(self.learner_seconds, 1e-9),
            "first_player_win_rate": self.first_wins / games,
            "game_length": self.positions / games,
        }
