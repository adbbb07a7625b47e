"""What is measured, and how one process is run and read.

A :class:`Variant` is one way to run one of the timed scripts (``bench_give.py``,
``bench_probe.py``) for one peer: plainly, under ``voir`` or under ``overseer``, with or
without a voirfile and a data stream. The script times itself and prints ``BENCH {json}``;
this module runs it, checks that the values it gave really arrived where they were sent, and
returns the cost of one call in nanoseconds.

A :class:`Measure` is one row of the comparison: a voir variant and an overseer-core
variant timed under the same conditions, and the goal the issue sets for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from venvs import Venv

HERE = Path(__file__).resolve().parent
VOIRFILES = HERE / "voirfiles"

# The launchers read these; a value inherited from the caller's shell would change the run.
_SCRUBBED_ENVIRONMENT = (
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
    "DATA_FD",
    "VOIRFILE",
    "OVERSEER_DATA_STDOUT",
    "OVERSEER_RUN_PID",
    "BENCH_CHECK",
)


class RunFailed(Exception):
    """A benchmark process failed or its values did not arrive; the message says which."""


@dataclass(frozen=True)
class Variant:
    """One way to run a timed script.

    Attributes:
        key: a unique name, ``peer/what``.
        peer: ``voir`` or ``overseer``.
        command: the command line; ``{n}`` and ``{rounds}`` are filled in at run time.
        voirfile: the voirfile's name under ``voirfiles/``; ``None`` for a plain ``python``
            run, ``""`` for a launcher with no voirfile.
        data: open a data file on ``$DATA_FD`` and check it holds every value given.
        check: run once with ``BENCH_CHECK=1``, where the voirfile counts what it receives.
    """

    key: str
    peer: str
    command: tuple[str, ...]
    voirfile: str | None = None
    data: bool = False
    check: bool = False


@dataclass(frozen=True)
class Measure:
    """One row of the comparison.

    Attributes:
        key: a short name, used in the raw results.
        title: what the row measures, as shown in the table.
        voir: the key of voir's variant.
        overseer: the key of overseer-core's variant.
        n: calls (or assignments) per timed loop.
        goal_us: the issue's goal for overseer-core, in microseconds.
    """

    key: str
    title: str
    voir: str
    overseer: str
    n: int
    goal_us: float


def variants(voir: Venv, overseer: Venv) -> dict[str, Variant]:
    """Every variant, by key."""
    give = str(HERE / "bench_give.py")
    probe = str(HERE / "bench_probe.py")
    sizes = ("--n", "{n}", "--rounds", "{rounds}")
    voir_run = (str(voir.command("voir")), give, "--give", "giving", *sizes)
    overseer_run = (str(overseer.command("overseer")), give, "--give", "overseer", *sizes)
    listed = [
        Variant("voir/plain", "voir", (str(voir.python), give, "--give", "giving", *sizes)),
        Variant(
            "overseer/plain",
            "overseer",
            (str(overseer.python), give, "--give", "overseer", *sizes),
        ),
        # voir's own building block: a giving.given() context in a plain python process.
        Variant(
            "voir/given",
            "voir",
            (str(voir.python), give, "--give", "giving", "--listen", "given", *sizes),
        ),
        Variant("voir/run-subscribe", "voir", voir_run, "subscribe.py", check=True),
        Variant("overseer/run-subscribe", "overseer", overseer_run, "subscribe.py", check=True),
        Variant("voir/run-log", "voir", voir_run, "log_x.py", data=True),
        Variant(
            "overseer/run-log-given",
            "overseer",
            (overseer_run[0], "--log-given", *overseer_run[1:]),
            "",
            data=True,
        ),
        Variant("overseer/run-log", "overseer", overseer_run, "log_x.py", data=True),
        Variant(
            "voir/run-probe",
            "voir",
            (str(voir.command("voir")), probe, *sizes),
            "probe_x.py",
            check=True,
        ),
        Variant(
            "overseer/run-probe",
            "overseer",
            (str(overseer.command("overseer")), probe, *sizes),
            "probe_x.py",
            check=True,
        ),
    ]
    return {variant.key: variant for variant in listed}


MEASURES = (
    Measure("give_none", "`give(x=1)`, no listener", "voir/plain", "overseer/plain", 100_000, 0.15),
    Measure(
        "give_listener",
        "`give(x=1)`, one listener (voir: `with given()` + `subscribe`)",
        "voir/given",
        "overseer/run-subscribe",
        50_000,
        0.5,
    ),
    Measure(
        "give_listener_run",
        "`give(x=1)`, one listener, both in a real run (voirfile `ov.given.subscribe`)",
        "voir/run-subscribe",
        "overseer/run-subscribe",
        50_000,
        0.5,
    ),
    Measure(
        "give_fd3",
        "`give(x=1)` written to the data fd (voir: `where('x') >> ov.log`; ours: `--log-given`)",
        "voir/run-log",
        "overseer/run-log-given",
        20_000,
        3.0,
    ),
    Measure(
        "give_fd3_operator",
        "`give(x=1)` written to the data fd, both `ov.given.where('x') >> ov.log`",
        "voir/run-log",
        "overseer/run-log",
        20_000,
        3.0,
    ),
    Measure(
        "probe",
        "probe `//f > x`, per probed assignment",
        "voir/run-probe",
        "overseer/run-probe",
        20_000,
        1.0,
    ),
)


def environment(voirfile: str | None, check: bool = False) -> dict[str, str]:
    """The environment of a benchmark process: the caller's, less what steers a launcher."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENVIRONMENT}
    if voirfile is not None:
        # Both launchers read $VOIRFILE; set, it stops voir from searching parent folders.
        env["VOIRFILE"] = str(VOIRFILES / voirfile) if voirfile else ""
    if check:
        env["BENCH_CHECK"] = "1"
    return env


def run_variant(variant: Variant, n: int, rounds: int, workdir: Path) -> float:
    """Run ``variant`` once and return the nanoseconds one call costs.

    Raises:
        RunFailed: the process failed, printed no result, or lost values.
    """
    command = [part.format(n=n, rounds=rounds) for part in variant.command]
    env = environment(variant.voirfile)
    if not variant.data:
        result = _read(_execute(command, env, workdir, None), variant)
        return float(result["ns"])
    with tempfile.TemporaryFile(dir=workdir) as data:
        result = _read(_execute(command, env, workdir, data.fileno()), variant)
        data.seek(0)
        written = data.read().count(b'"x"')
    if written < result["gives"]:
        message = f"{variant.key}: {written} of {result['gives']} given values reached the data fd"
        raise RunFailed(message)
    return float(result["ns"])


def check_variant(variant: Variant, workdir: Path) -> None:
    """Run ``variant`` small, with its voirfile counting, and check every value arrived.

    Raises:
        RunFailed: the process failed, or the voirfile saw fewer values than were given.
    """
    command = [part.format(n=1000, rounds=1) for part in variant.command]
    stdout = _execute(command, environment(variant.voirfile, check=True), workdir, None)
    result = _read(stdout, variant)
    seen = [line for line in stdout.splitlines() if line.startswith("BENCH-SEEN ")]
    count = int(seen[-1].split()[1]) if seen else 0
    if count < result["gives"]:
        message = f"{variant.key}: the voirfile received {count} of {result['gives']} values"
        raise RunFailed(message)


def _execute(command: list[str], env: dict[str, str], workdir: Path, data_fd: int | None) -> str:
    descriptors: tuple[int, ...] = ()
    if data_fd is not None:
        env = {**env, "DATA_FD": str(data_fd)}
        descriptors = (data_fd,)
    process = subprocess.run(
        command,
        cwd=workdir,
        env=env,
        pass_fds=descriptors,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if process.returncode != 0:
        tail = (process.stderr.strip().splitlines() or ["(no output)"])[-1]
        message = f"exit status {process.returncode}: {tail}"
        raise RunFailed(message)
    return process.stdout


def _read(stdout: str, variant: Variant) -> dict[str, float]:
    for line in reversed(stdout.splitlines()):
        if line.startswith("BENCH "):
            result: dict[str, float] = json.loads(line[len("BENCH ") :])
            return result
    message = f"{variant.key}: the script printed no BENCH line"
    raise RunFailed(message)
