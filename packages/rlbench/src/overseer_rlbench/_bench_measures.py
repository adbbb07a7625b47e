"""The measures behind :func:`overseer_rlbench.bench.run_bench`: the plans and the timing.

Each group of :data:`GROUPS` takes a :class:`Context` and a :class:`Plan` and returns rows;
a group whose module cannot be imported raises :class:`Skipped` with the reason.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .bench import BenchRow

if TYPE_CHECKING:
    import torch

    from .evaluate import Evaluator
    from .mcts import SearchConfig, SearchResult
    from .replay import ReplayBuffer

__all__ = ["GROUPS", "Context", "Plan", "Skipped", "default_plan", "time_repeats"]

Work = Callable[[int], object]


class Skipped(Exception):
    """A measure that cannot run here; the message says why."""


@dataclass(frozen=True)
class Plan:
    """What is measured: board sizes, batches and settings of every group.

    ``network_sizes`` are the board sizes of the network, self-play, learner and arena
    measures; ``network_batch`` the boards of the searches with a network; ``selfplay_envs``
    the games of self-play; ``arena_games`` the games of one match.
    """

    env_sizes: tuple[int, ...]
    env_batches: tuple[int, ...]
    search_sizes: tuple[int, ...]
    search_batches: tuple[int, ...]
    simulations: int
    algorithms: tuple[str, ...]
    network_sizes: tuple[int, ...]
    network_batch: int
    presets: tuple[str, ...]
    selfplay_envs: int
    selfplay_preset: str
    learner_batch: int
    arena_games: int
    target_seconds: float

    def replaced(
        self,
        sizes: Sequence[int] | None,
        batches: Sequence[int] | None,
        search_batches: Sequence[int] | None,
        simulations: int | None,
        target_seconds: float | None,
    ) -> Plan:
        """The plan with what the caller gave instead of its own (sizes: every group's)."""
        plan = self
        if sizes is not None:
            every = tuple(sizes)
            plan = replace(plan, env_sizes=every, search_sizes=every, network_sizes=every)
        if batches is not None:
            plan = replace(plan, env_batches=tuple(batches))
        if search_batches is not None:
            plan = replace(plan, search_batches=tuple(search_batches))
        if simulations is not None:
            plan = replace(plan, simulations=simulations)
        if target_seconds is not None:
            plan = replace(plan, target_seconds=target_seconds)
        return plan


_ALGORITHMS = ("puct", "regularized", "gumbel")
_CPU = Plan(
    env_sizes=(5, 9, 11, 13),
    env_batches=(2**10, 2**12, 2**14),
    search_sizes=(11,),
    search_batches=(256, 1024),
    simulations=32,
    algorithms=_ALGORITHMS,
    network_sizes=(9,),
    network_batch=64,
    presets=("tiny", "xs", "s"),
    selfplay_envs=64,
    selfplay_preset="xs",
    learner_batch=512,
    arena_games=1024,
    target_seconds=0.3,
)
_CPU_QUICK = replace(
    _CPU,
    env_sizes=(5, 11),
    env_batches=(2**10,),
    search_sizes=(5,),
    search_batches=(64,),
    simulations=8,
    network_sizes=(5,),
    network_batch=16,
    presets=("tiny",),
    selfplay_envs=16,
    selfplay_preset="tiny",
    learner_batch=64,
    arena_games=64,
    target_seconds=0.05,
)
_CUDA = Plan(
    env_sizes=(5, 7, 9, 11, 13),
    env_batches=tuple(2**k for k in range(10, 21, 2)),
    search_sizes=(11,),
    search_batches=(2**10, 2**12, 2**14),
    simulations=32,
    algorithms=_ALGORITHMS,
    network_sizes=(11,),
    network_batch=2**10,
    presets=("tiny", "xs", "s", "m", "l", "xl"),
    selfplay_envs=2**10,
    selfplay_preset="s",
    learner_batch=2**11,
    arena_games=2**14,
    target_seconds=0.5,
)
_CUDA_QUICK = replace(
    _CUDA,
    env_sizes=(5, 11),
    env_batches=(2**12, 2**16),
    search_batches=(2**12,),
    presets=("s",),
    target_seconds=0.1,
)


def default_plan(device_type: str, quick: bool) -> Plan:
    """The plan for a device type: the CPU's is small enough for 2 cores."""
    if device_type == "cpu":
        return _CPU_QUICK if quick else _CPU
    return _CUDA_QUICK if quick else _CUDA


@dataclass(frozen=True)
class Context:
    """How every figure is taken, and where."""

    device: str
    repeats: int
    warmup: int
    target_seconds: float
    seed: int
    progress: Callable[[str], None] | None = None

    def measure(
        self, measure: str, size: int, batch: int, units: float, unit: str, detail: str, work: Work
    ) -> BenchRow:
        """A row of ``units`` per second of each ``work`` iteration, timed on this device."""
        if self.progress is not None:
            self.progress(f"{measure} {size}x{size} batch {batch}: {detail}")
        seconds = time_repeats(work, self.device, self.repeats, self.warmup, self.target_seconds)
        return self.row(measure, size, batch, [units / s for s in seconds], unit, detail)

    def row(
        self, measure: str, size: int, batch: int, values: list[float], unit: str, detail: str
    ) -> BenchRow:
        """A row of ``values`` (one per repeat) with this context's device facts."""
        import torch

        device = torch.device(self.device)
        return BenchRow(
            measure=measure,
            size=size,
            batch=batch,
            device=str(device),
            torch=torch.__version__,
            median=statistics.median(values),
            low=min(values),
            high=max(values),
            unit=unit,
            repeats=len(values),
            detail=detail,
            threads=torch.get_num_threads() if device.type == "cpu" else None,
        )


def time_repeats(
    work: Work,
    device: str,
    repeats: int,
    warmup: int,
    target_seconds: float,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Seconds per iteration of ``work(k)`` (``k`` iterations) in each of ``repeats`` repeats.

    ``warmup`` untimed calls come first, then one untimed call of one iteration sizes the
    repeats so that each lasts about ``target_seconds``.
    """
    for _ in range(warmup):
        work(1)
    one = _timed(work, 1, device, clock)
    iterations = max(1, min(1_000_000, round(target_seconds / max(one, 1e-9))))
    return [_timed(work, iterations, device, clock) / iterations for _ in range(repeats)]


def _timed(work: Work, iterations: int, device: str, clock: Callable[[], float]) -> float:
    import torch

    cuda = torch.device(device).type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
    began = clock()
    work(iterations)
    if cuda:
        torch.cuda.synchronize(device)
    return clock() - began


# ---------------------------------------------------------------- env and state


def env_rows(context: Context, plan: Plan) -> list[BenchRow]:
    """Env steps/s of random play: ``HexEnv.step_random`` (sampler, play, auto-reset)."""
    from .env import HexEnv

    rows = []
    for size in plan.env_sizes:
        for batch in plan.env_batches:
            env = HexEnv(batch, size, device=context.device, seed=context.seed)

            def work(iterations: int, env: HexEnv = env) -> None:
                for _ in range(iterations):
                    env.step_random()

            detail = "random play: sampler + play + auto-reset"
            rows.append(context.measure("env_steps", size, batch, batch, "steps/s", detail, work))
    return rows


def state_rows(context: Context, plan: Plan) -> list[BenchRow]:
    """Bytes of ``HexState`` per board, and of the search's preallocated tree per board."""
    from .hex import geometry_for, initial_state

    batch = plan.env_batches[0]
    rows = []
    for size in plan.env_sizes:
        geometry = geometry_for(size, context.device)
        per_env = initial_state(geometry, batch).nbytes() / batch
        rows.append(context.row("state_bytes", size, batch, [per_env], "bytes/env", "HexState"))
    return rows + _tree_rows(context, plan)


def _tree_rows(context: Context, plan: Plan) -> list[BenchRow]:
    """Bytes of the search's tree arrays per board, per search size (none without search)."""
    try:
        from ._tree import Tree
    except ImportError:
        return []
    import torch

    boards, nodes = 64, plan.simulations + 1
    rows = []
    for size in plan.search_sizes:
        tree = Tree.allocate(boards, size * size, nodes, torch.device(context.device))
        arrays = [value for value in vars(tree).values() if isinstance(value, torch.Tensor)]
        per_env = sum(array.nbytes for array in arrays) / boards
        detail = f"search tree arrays, {plan.simulations} simulations"
        rows.append(context.row("tree_bytes", size, boards, [per_env], "bytes/env", detail))
    return rows


# ---------------------------------------------------------------- search


def search_rows(context: Context, plan: Plan) -> list[BenchRow]:
    """Simulations/s of each algorithm with the null network (no evaluation work)."""
    from .evaluate import uniform_evaluator

    rows = []
    for size in plan.search_sizes:
        for batch in plan.search_batches:
            for algorithm in plan.algorithms:
                evaluator = uniform_evaluator
                row = _search_row(context, plan, size, batch, algorithm, evaluator, "null network")
                rows.append(row)
    return rows


def network_rows(context: Context, plan: Plan) -> list[BenchRow]:
    """Simulations/s of PUCT with each preset network (fresh weights: speed only)."""
    rows = []
    for size in plan.network_sizes:
        for preset in plan.presets:
            evaluator = _network_evaluator(context, size, preset)
            batch, network = plan.network_batch, f"network {preset}"
            rows.append(_search_row(context, plan, size, batch, "puct", evaluator, network))
    return rows


def _search_row(
    context: Context,
    plan: Plan,
    size: int,
    batch: int,
    algorithm: str,
    evaluator: Evaluator,
    network: str,
) -> BenchRow:
    """Simulations/s of searches from empty boards; the row's detail is
    ``"<algorithm>, <simulations> simulations, <network>"``, which reports parse."""
    import torch

    search, config_class = _search_api()
    from .hex import geometry_for, initial_state

    geometry = geometry_for(size, context.device)
    root = initial_state(geometry, batch)
    simulations = max(plan.simulations, 2) if algorithm == "gumbel" else plan.simulations
    config = config_class(algorithm=algorithm, simulations=simulations)  # type: ignore[arg-type]
    generator = torch.Generator(geometry.device).manual_seed(context.seed)

    def work(iterations: int) -> None:
        for _ in range(iterations):
            search(root, geometry, evaluator, config, generator)

    units = batch * simulations
    detail = f"{algorithm}, {simulations} simulations, {network}"
    return context.measure("search_sims", size, batch, units, "sims/s", detail, work)


def _search_api() -> tuple[Callable[..., SearchResult], type[SearchConfig]]:
    try:
        from .mcts import SearchConfig, search
    except ImportError as error:
        raise Skipped(f"the search module is not available ({error})") from None
    return search, SearchConfig


def _network_evaluator(context: Context, size: int, preset: str) -> Evaluator:
    model = _network(context, size, preset)
    from .network import NetworkEvaluator

    return NetworkEvaluator(model, amp=_on_cuda(context))


def _network(context: Context, size: int, preset: str) -> torch.nn.Module:
    try:
        from .network import build_network
    except ImportError as error:
        raise Skipped(f"the network module is not available ({error})") from None
    return build_network(size, preset).to(context.device).eval()


def _on_cuda(context: Context) -> bool:
    import torch

    return torch.device(context.device).type == "cuda"


# ---------------------------------------------------------------- self-play, learner, arena


def selfplay_rows(context: Context, plan: Plan) -> list[BenchRow]:
    """Self-play moves/s: PUCT with a preset network on every board, samples included."""
    rows = []
    for size in plan.network_sizes:
        evaluator = _network_evaluator(context, size, plan.selfplay_preset)
        _search, config_class = _search_api()
        from .selfplay import SelfPlay

        config = config_class(simulations=plan.simulations, dirichlet_alpha=0.3)
        batch = plan.selfplay_envs
        play = SelfPlay(evaluator, size, batch, config, size, context.device, context.seed)

        def work(iterations: int, play: SelfPlay = play) -> None:
            for _ in range(iterations):
                play.step()

        detail = f"puct, {plan.simulations} simulations, network {plan.selfplay_preset}"
        rows.append(context.measure("selfplay_moves", size, batch, batch, "moves/s", detail, work))
    return rows


def learner_rows(context: Context, plan: Plan) -> list[BenchRow]:
    """Learner samples/s: replay sampling, forward, loss, backward and an AdamW step.

    The loss is the training's (policy cross-entropy plus value squared error, bf16 autocast
    on CUDA); the buffer holds random samples, which cost the same as real ones.
    """
    from .replay import ReplayBuffer

    rows = []
    for size in plan.network_sizes:
        for preset in plan.presets:
            model = _network(context, size, preset).train()
            buffer = ReplayBuffer(max(plan.learner_batch, 4096), size, context.device)
            _fill(buffer, context)
            work = _learner_work(model, buffer, plan.learner_batch, context)
            detail = f"network {preset}, AdamW, replay sampling included"
            batch = plan.learner_batch
            rows.append(
                context.measure("learner_samples", size, batch, batch, "samples/s", detail, work)
            )
    return rows


def _fill(buffer: ReplayBuffer, context: Context) -> None:
    import torch

    generator = torch.Generator(buffer.device).manual_seed(context.seed)
    count, cells = buffer.capacity, buffer.size**2
    shape = (count, 2, buffer.size, buffer.size)
    obs = torch.rand(shape, generator=generator, device=buffer.device) < 0.3
    policy = torch.rand((count, cells), generator=generator, device=buffer.device).softmax(1)
    value = torch.rand(count, generator=generator, device=buffer.device).round() * 2 - 1
    buffer.add(obs, policy, value)


def _learner_work(
    model: torch.nn.Module, buffer: ReplayBuffer, batch: int, context: Context
) -> Work:
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    generator = torch.Generator(buffer.device).manual_seed(context.seed)
    amp = _on_cuda(context)

    def work(iterations: int) -> None:
        for _ in range(iterations):
            obs, policy, value = buffer.sample(batch, generator)
            with torch.autocast(buffer.device.type, torch.bfloat16, enabled=amp):
                logits, predicted = model(obs)
            policy_loss = -(policy * torch.log_softmax(logits.float(), dim=1)).sum(1).mean()
            loss = policy_loss + torch.nn.functional.mse_loss(predicted.float(), value)
            optimizer.zero_grad(set_to_none=True)
            torch.autograd.backward(loss)
            optimizer.step()

    return work


def arena_rows(context: Context, plan: Plan) -> list[BenchRow]:
    """Arena games/s: whole matches of two random agents, every game at once."""
    try:
        from .agents import RandomAgent
        from .arena import play_match
    except ImportError as error:
        raise Skipped(f"the arena module is not available ({error})") from None
    rows = []
    games = plan.arena_games
    for size in plan.network_sizes:

        def work(iterations: int, size: int = size) -> None:
            for _ in range(iterations):
                first, second = RandomAgent("a", context.seed), RandomAgent("b", context.seed + 1)
                play_match(first, second, size, games, context.device, context.seed)

        detail = "random vs random, whole games"
        rows.append(context.measure("arena_games", size, games, games, "games/s", detail, work))
    return rows


GROUPS: dict[str, Callable[[Context, Plan], list[BenchRow]]] = {
    "env": env_rows,
    "state": state_rows,
    "search": search_rows,
    "network": network_rows,
    "selfplay": selfplay_rows,
    "learner": learner_rows,
    "arena": arena_rows,
}
