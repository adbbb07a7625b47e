"""What a scaling study trains: board sizes x network presets x training budgets.

``suite rl study`` hands its spec to the grid file through ``$OVERSEER_RL_STUDY`` (JSON), so
the grid, run by xpmanager in this process or another, plans the same XPs.

>>> spec = StudySpec(sizes=(3,), presets=("tiny",), samples=(1000, 4000))
>>> [run["samples"] for run in spec.runs()]
[1000, 4000]
>>> StudySpec.from_json(spec.to_json()) == spec
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from overseer_rlbench.errors import RLBenchError

__all__ = ["STUDY_ENV", "StudySpec", "budget_flags", "instruments_installed", "threads_per_run"]

#: The environment variable holding the spec (JSON) of the running study.
STUDY_ENV = "OVERSEER_RL_STUDY"


@dataclass(frozen=True)
class StudySpec:
    """The grid of a scaling study.

    Attributes:
        sizes: board sizes.
        presets: network presets (see :data:`overseer_rlbench.network.PRESETS`).
        samples: training budgets, in learner samples; with the preset they set the compute.
        simulations: search simulations per self-play move.
        n_envs: self-play boards.
        device: torch device of the runs.
        seed: seed of every run.
        threads: torch threads of each run on CPU (0: torch's choice, every core).
    """

    sizes: tuple[int, ...] = (3, 4)
    presets: tuple[str, ...] = ("tiny", "xs")
    samples: tuple[int, ...] = (8_000, 32_000)
    simulations: int = 16
    n_envs: int = 128
    device: str = "cpu"
    seed: int = 0
    threads: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def runs(self) -> Iterator[dict[str, Any]]:
        """The arguments of each training run, smallest compute first within a size."""
        for size in self.sizes:
            for preset in self.presets:
                for samples in self.samples:
                    yield {
                        "size": size,
                        "preset": preset,
                        "samples": samples,
                        "simulations": self.simulations,
                        "n_envs": self.n_envs,
                        "device": self.device,
                        "seed": self.seed,
                        "threads": self.threads,
                        **self.extra,
                    }

    def to_json(self) -> str:
        """The spec as one JSON object."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StudySpec:
        """Read a spec :meth:`to_json` wrote.

        Raises:
            RLBenchError: the text is not such a spec.
        """
        try:
            values = json.loads(text)
            tuples = {key: tuple(values[key]) for key in ("sizes", "presets", "samples")}
            return cls(**{**values, **tuples})
        except (ValueError, TypeError, KeyError) as error:
            message = (
                f"${STUDY_ENV} is not a study spec ({error}): unset it or let `rl study` set it"
            )
            raise RLBenchError(message) from None

    @classmethod
    def from_environment(cls) -> StudySpec:
        """The spec in ``$OVERSEER_RL_STUDY``, else the default one."""
        text = os.environ.get(STUDY_ENV)
        return cls.from_json(text) if text else cls()


def threads_per_run(jobs: int, cores: int | None = None) -> int:
    """Each of ``jobs`` runs at once gets its share of the CPU cores for torch.

    More threads than cores make the runs wait on one another: two runs of two threads each
    on two cores trained 6x slower (100 s against 16 s) than with one thread each.

    >>> threads_per_run(2, cores=2), threads_per_run(1, cores=2), threads_per_run(4, cores=2)
    (1, 2, 1)
    """
    available = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, available // max(jobs, 1))


def budget_flags(samples: int) -> list[str]:
    """The overseer flags that end a run at ``samples`` learner samples, when the standard
    instruments are installed (else none: the trainer's own ``--samples`` ends it).

    The early stop reads the ``samples`` the trainer gives with each learner step, a count
    its checkpoints keep: a resumed run stops at the same budget. The trainer's own budget
    stays, for a run without the overseer; under it, the early stop comes first, inside the
    give of the step that reaches the budget, and the trainer saves its checkpoint as it ends.

    >>> budget_flags(8000)  # with overseer-instruments installed
    ['--early-stop-key=samples', '--early-stop-at=8000']
    """
    if not instruments_installed():
        return []
    return ["--early-stop-key=samples", f"--early-stop-at={samples}"]


def instruments_installed() -> bool:
    """Whether overseer-instruments is installed, so that its flags may be given to runs."""
    import importlib.util

    return importlib.util.find_spec("overseer_instruments") is not None
