"""Synthetic runs for tests, snapshots and benchmarks: the same seed, the same runs.

::

    clock = FakeClock()
    source = FakeSource(6, points=200, clock=clock, seed=0, live=2, gpus=1)
    source.poll()  # True: six runs, four done and two running
    source.advance(5.0)  # five seconds later: five more points on each live run
    source.poll()  # True again; False once nothing new happened

Every value comes from ``random.Random`` seeded by ``seed`` and the run's index, and every
time from the clock, so two sources built and advanced alike hold identical runs. Runs are
made through :meth:`Run.apply` from runner-shaped entries, so they behave as real ones do.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .clock import FakeClock
from .model import Run, RunSet

__all__ = ["FakeSource"]

_ADJECTIVES = ("calm", "brave", "quiet", "lucky", "swift", "bright", "gentle", "bold", "eager")
_NOUNS = ("river", "falcon", "meadow", "comet", "harbor", "maple", "otter", "summit", "willow")
_LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3)
_BATCH_SIZES = (32, 64, 128, 256)
_OPTIMIZERS = ("adam", "sgd", "adamw")
_GPU_MEMORY = 85_520_809_984
#: Seconds between a run's creation and its first step.
_START_DELAY = 60.0


@dataclass
class _Simulation:
    """One synthetic run and where its curves stand."""

    run: Run
    random: random.Random
    pid: int
    total: int
    decay: float
    floor: float
    log_every: int
    step: int = 0
    carry: float = 0.0
    device: str | None = None


class FakeSource:
    """Deterministic synthetic runs; see the module docstring.

    Args:
        n_runs: how many runs.
        metrics: the metric names each run gives ("loss" decays, "accuracy" rises, any
            other name decays like a loss).
        points: points per metric already there at the start.
        clock: the time of every point; :meth:`advance` moves it.
        seed: what the values are drawn from.
        live: how many of the runs (the newest) are still running.
        gpus: devices the live runs report gpudata for (0: none).
        log_lines: log lines per run already there at the start.
    """

    def __init__(
        self,
        n_runs: int = 6,
        *,
        metrics: Sequence[str] = ("loss", "accuracy"),
        points: int = 200,
        clock: FakeClock | None = None,
        seed: int = 0,
        live: int = 2,
        gpus: int = 0,
        log_lines: int = 50,
    ) -> None:
        self.clock = clock or FakeClock()
        self.title = f"fake: {n_runs} runs, seed {seed}"
        self.runs = RunSet()
        self._metrics = tuple(metrics)
        self._gpus = gpus
        self._live: list[_Simulation] = []
        self._count = n_runs
        self._changed = True
        names = random.Random(f"names:{seed}")
        first_live = n_runs - min(live, n_runs)
        for index in range(n_runs):
            simulation = self._simulation(index, seed, names, points, log_lines)
            self._fill(simulation, points, live=index >= first_live, index=index)
            self.runs.add(simulation.run)

    def poll(self) -> bool:
        """Whether runs were added or advanced since the last poll."""
        changed, self._changed = self._changed, False
        return changed

    def close(self) -> None:
        """Nothing to stop."""

    def advance(self, seconds: float, rate: float = 1.0) -> None:
        """Move the clock ``seconds`` on; each live run gives ``rate`` points a second.

        A live run that reaches its last step ends (completed) and stays still after.
        """
        before = self.clock.now()
        self.clock.advance(seconds)
        for simulation in list(self._live):
            simulation.carry += seconds * rate
            count = int(simulation.carry)
            simulation.carry -= count
            for number in range(1, count + 1):
                self._give_step(simulation, before + seconds * number / count)
                if simulation.step >= simulation.total:
                    self._finish(simulation, before + seconds)
                    break
            if count:
                self.runs.touch(simulation.run.sig)
                self._changed = True

    def _simulation(
        self, index: int, seed: int, names: random.Random, points: int, log_lines: int
    ) -> _Simulation:
        name = f"{names.choice(_ADJECTIVES)}-{names.choice(_NOUNS)}-{index}"
        args: dict[str, Any] = {
            "lr": _LEARNING_RATES[index % len(_LEARNING_RATES)],
            "batch_size": _BATCH_SIZES[index // 2 % len(_BATCH_SIZES)],
            "optimizer": _OPTIMIZERS[index % len(_OPTIMIZERS)],
        }
        run = Run(
            f"{names.getrandbits(48):012x}",
            name,
            args=args,
            config={**args, "epochs": 10, "seed": index},
        )
        curves = random.Random(f"curves:{seed}:{index}")
        span = max(points, 1)
        return _Simulation(
            run,
            curves,
            pid=1000 + index,
            total=3 * span,
            decay=curves.uniform(0.2, 0.6) * span,
            floor=curves.uniform(0.05, 0.3),
            log_every=max(1, span // max(log_lines, 1)) if log_lines else 0,
        )

    def _fill(self, simulation: _Simulation, points: int, *, live: bool, index: int) -> None:
        """Give the points a run already has: up to now when live, long ago when done."""
        now = self.clock.now()
        end = now if live else now - 900.0 * (self._count - index) - 300.0
        start = end - points
        simulation.run.created = start - _START_DELAY
        simulation.total = 3 * max(points, 1) if live else points
        if self._gpus and live:
            simulation.device = str(len(self._live) % self._gpus)
        simulation.run.apply(_entry("start", {"argv": ["train.py"], "pid": simulation.pid}, start))
        for step in range(points):
            self._give_step(simulation, start + step + 1)
        if live:
            self._live.append(simulation)
        elif index % 4 == 2:
            self._fail(simulation, end)
        else:
            self._finish(simulation, end)

    def _give_step(self, simulation: _Simulation, t: float) -> None:
        step = simulation.step
        values: dict[str, Any] = {"step": step}
        for name in self._metrics:
            values[name] = self._value(simulation, name, step)
        run, pid = simulation.run, simulation.pid
        run.apply({**_entry("data", values, t), "pid": pid})
        if step % 10 == 0:
            progress = {"progress": [step, simulation.total], "task": "train"}
            run.apply({**_entry("data", progress, t), "pid": pid})
            if simulation.device is not None:
                run.apply({**_entry("data", self._gpudata(simulation), t), "pid": pid})
        if simulation.log_every and step % simulation.log_every == 0:
            run.apply(_line(self._log_text(simulation, step, values), "stdout", t))
        simulation.step += 1

    def _value(self, simulation: _Simulation, name: str, step: int) -> float:
        shape = math.exp(-step / simulation.decay)
        noise = simulation.random.gauss(0.0, 0.02)
        if name == "accuracy":
            accuracy = 1.0 - simulation.floor - (0.9 - simulation.floor) * shape + noise / 2
            return min(1.0, max(0.0, accuracy))
        return max(1e-6, simulation.floor + 2.0 * shape + noise)

    def _log_text(self, simulation: _Simulation, step: int, values: dict[str, Any]) -> str:
        shown = " ".join(f"{key} {value:.4g}" for key, value in values.items() if key != "step")
        if step % (10 * simulation.log_every) == 5 * simulation.log_every:
            return f"WARNING: step {step} slower than usual ({shown})"
        return f"step {step} {shown}".rstrip()

    def _gpudata(self, simulation: _Simulation) -> dict[str, Any]:
        load = min(1.0, max(0.0, 0.85 + simulation.random.gauss(0.0, 0.05)))
        used = int(_GPU_MEMORY * (0.6 + 0.1 * simulation.random.random()))
        device = {
            "name": "NVIDIA H100 80GB HBM3",
            "uuid": f"GPU-fake-{simulation.device}",
            "load": round(load, 3),
            "memory": [used, _GPU_MEMORY],
            "temperature": 55 + round(20 * load),
            "power": round(200.0 + 400.0 * load, 1),
            "processes": [{"pid": simulation.pid, "memory": used}],
        }
        return {"gpudata": {simulation.device: device}, "task": "main"}

    def _fail(self, simulation: _Simulation, t: float) -> None:
        run = simulation.run
        run.apply(_line("Traceback (most recent call last):", "stderr", t))
        run.apply(_line("RuntimeError: CUDA out of memory", "stderr", t))
        error = {"type": "RuntimeError", "message": "CUDA out of memory"}
        run.apply({**_entry("error", error, t), "pid": simulation.pid})
        run.apply(_entry("end", {"returncode": 1, "duration": t - (run.started or t)}, t))

    def _finish(self, simulation: _Simulation, t: float) -> None:
        run = simulation.run
        run.apply(_entry("end", {"returncode": 0, "duration": t - (run.started or t)}, t))
        if simulation in self._live:
            self._live.remove(simulation)


def _entry(event: str, data: Any, t: float) -> dict[str, Any]:
    return {"event": event, "data": data, "pipe": None, "t": t, "index": 0}


def _line(text: str, pipe: str, t: float) -> dict[str, Any]:
    return {"event": "line", "data": text, "pipe": pipe, "t": t, "index": 0}
