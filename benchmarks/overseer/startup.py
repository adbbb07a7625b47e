"""Start-up: the wall time of running ``trivial.py`` (``pass``) in a fresh process.

Each round runs, in turn: the voir environment's ``python``, ``voir``, the overseer-core
environment's ``python``, ``overseer``, then both launchers again with a voirfile holding one
instrument of the usual kind (run without giving by overseer-core), then with one using an
operator only giving has, and last ``python -c "import giving"`` in the overseer-core environment. A
launcher's overhead is its time minus its own environment's ``python`` in the same round, so
a slow moment of the machine hits both sides of the difference.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from measures import HERE, RunFailed, environment
from venvs import Venv


@dataclass(frozen=True)
class Launch:
    """One command started in each round.

    Attributes:
        key: ``peer/what``; ``peer/python`` is the baseline of ``peer``'s launches.
        command: the command line.
        voirfile: as for :class:`measures.Variant`.
    """

    key: str
    command: tuple[str, ...]
    voirfile: str | None


#: (voir's launch, overseer-core's launch, what the row says), in table order; each
#: launch's baseline is ``<peer>/python``.
OVERHEADS = (
    ("voir/bare", "overseer/bare", "no voirfile"),
    ("voir/one", "overseer/one", "voirfile with one instrument (`ov.given.where(...).subscribe`)"),
    (
        "voir/giving-operator",
        "overseer/giving-operator",
        "voirfile with one instrument using a giving-only operator (`ov.given.throttle(1.0)`)",
    ),
)


def launches(voir: Venv, overseer: Venv) -> list[Launch]:
    """The commands of one round, in the order they run."""
    trivial = str(HERE / "trivial.py")
    voir_command = (str(voir.command("voir")), trivial)
    overseer_command = (str(overseer.command("overseer")), trivial)
    return [
        Launch("voir/python", (str(voir.python), trivial), None),
        Launch("voir/bare", voir_command, ""),
        Launch("overseer/python", (str(overseer.python), trivial), None),
        Launch("overseer/bare", overseer_command, ""),
        Launch("voir/one", voir_command, "one_instrument.py"),
        Launch("overseer/one", overseer_command, "one_instrument.py"),
        Launch("voir/giving-operator", voir_command, "giving_operator.py"),
        Launch("overseer/giving-operator", overseer_command, "giving_operator.py"),
        # What an instrument touching ov.given adds: the giving library's import.
        Launch("overseer/import-giving", (str(overseer.python), "-c", "import giving"), None),
    ]


def measure(
    voir: Venv, overseer: Venv, rounds: int, workdir: Path
) -> tuple[dict[str, list[float]], dict[str, str]]:
    """Seconds of every launch by key, one value per round, and the launches that failed.

    A launch that fails once is not started again; the others go on.
    """
    plan = launches(voir, overseer)
    times: dict[str, list[float]] = {launch.key: [] for launch in plan}
    errors: dict[str, str] = {}
    for timed in [False] + [True] * rounds:  # one untimed round: files cached, as in a real run
        for launch in plan:
            if launch.key in errors:
                continue
            try:
                elapsed = _seconds(launch, workdir)
            except RunFailed as error:
                errors[launch.key] = str(error)
                continue
            if timed:
                times[launch.key].append(elapsed)
    return times, errors


def _seconds(launch: Launch, workdir: Path) -> float:
    env = environment(launch.voirfile)
    start = time.perf_counter()
    process = subprocess.run(
        launch.command,
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        tail = (process.stderr.strip().splitlines() or ["(no output)"])[-1]
        message = f"exit status {process.returncode}: {tail}"
        raise RunFailed(message)
    return elapsed
