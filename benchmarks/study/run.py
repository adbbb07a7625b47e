"""The main job, timed: README's first Quickstart command and `suite rl study`; writes its
RESULTS.md section.

    python benchmarks/study/run.py            # about 10 minutes on 2 cores
    python benchmarks/study/run.py --quick    # a smoke run (tiny study); RESULTS.md untouched

Measures, each in a folder of its own under a temporary directory:

- the whole Quickstart command, as README writes it, in a fresh clone of the repository's
  HEAD and a fresh virtual environment (pip installs included);
- `suite rl study` alone in this environment, fresh, ``--repeats`` times (2 runs at once,
  the default), and the time until the arena starts (the grid of trainings);
- the same study run again on its finished store: every run must be reused;
- the same study one run at a time (``-j 1``): the side by side, in the same session.

No other project runs this job: boardlaw's scaling study runs for hours on GPUs. The goal
is issue 9's: the Quickstart command in under 10 minutes on 2 CPU cores. The raw numbers of
the last run go to ``.bench/study-results.json``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))  # benchmarks/results.py

from results import describe_machine, machine, publish, spread  # noqa: E402

TITLE = "The main job: the Quickstart's scaling study"
WRITER = "benchmarks/study/run.py"
RAW_RESULTS = ROOT / ".bench" / "study-results.json"
GOAL_SECONDS = 600.0
QUICK_STUDY = ["--sizes", "3", "--presets", "tiny", "--samples", "2000", "--games", "8"]


class RunFailed(RuntimeError):
    """A timed command failed, or did something else than what it is timed for."""


@dataclass
class Timed:
    """One timed command: its wall time, when the study and its arena began (seconds from
    the command's start), and what it printed."""

    seconds: float
    study_at: float | None
    arena_at: float | None
    output: list[str] = field(default_factory=list)

    @property
    def submitted(self) -> int:
        """How many runs the grid submitted (trained) in this command."""
        return sum(1 for line in self.output if re.match(r"xp: \S+ \(\S+\) submitted", line))


def main(argv: list[str] | None = None) -> int:
    """Time the Quickstart and the study; return 1 if a measure failed, else 0."""
    options = _parse(argv)
    began = time.perf_counter()
    measures: dict[str, list[dict[str, Any]]] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="overseer-study-bench-") as scratch:
        for name, measure in _plan(options, Path(scratch)):
            print(f"bench: {name}...", file=sys.stderr, flush=True)
            try:
                measures.setdefault(name, []).append(measure())
            except RunFailed as error:
                errors[name] = str(error)
                print(f"bench: {name} failed: {error}", file=sys.stderr)
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": time.perf_counter() - began,
        "machine": machine(),
        "head": _git("rev-parse", "--short", "HEAD"),
        "quickstart": quickstart_command(),
        "study_arguments": options.study,
        "measures": measures,
        "errors": errors,
        "load": os.getloadavg(),
    }
    publish(TITLE, WRITER, render(results), results, RAW_RESULTS, write=options.write)
    return 1 if errors else 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="fresh studies in this env")
    parser.add_argument("--no-quickstart", dest="quickstart", action="store_false")
    parser.add_argument("--quick", action="store_true", help="a tiny study, not written")
    parser.add_argument("--no-write", dest="write", action="store_false", default=None)
    options = parser.parse_args(argv)
    options.study = QUICK_STUDY if options.quick else []
    if options.quick:
        options.repeats, options.quickstart = 1, False
    if options.write is None:
        options.write = not options.quick
    return options


def _plan(options: argparse.Namespace, scratch: Path) -> list[tuple[str, Any]]:
    """The measures in the order they run: (name, a function returning one sample)."""
    plan: list[tuple[str, Any]] = []
    if options.quickstart:
        plan.append(("quickstart", lambda: time_quickstart(scratch / "quickstart")))
    for repeat in range(options.repeats):
        folder = scratch / f"study-{repeat}"
        plan.append(("study", lambda folder=folder: time_study(folder, options.study)))
        plan.append(("rerun", lambda folder=folder: time_rerun(folder, options.study)))
    one_at_a_time = [*options.study, "-j", "1"]
    plan.append(("one at a time", lambda: time_study(scratch / "serial", one_at_a_time)))
    return plan


def quickstart_command() -> str:
    """README's first Quickstart command: the first ```sh block after "## Quickstart"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1]
    found = re.search(r"```sh\n(.+?)\n```", section, re.DOTALL)
    if found is None:
        raise SystemExit("README.md has no ```sh block under ## Quickstart")
    return found.group(1).strip()


def time_quickstart(folder: Path) -> dict[str, Any]:
    """The Quickstart command in a fresh clone and a fresh virtual environment."""
    folder.mkdir(parents=True)
    clone = folder / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    environment = folder / "env"
    venv.EnvBuilder(with_pip=True).create(environment)
    binaries = str(environment / "bin")
    env = {**os.environ, "VIRTUAL_ENV": str(environment)}
    env["PATH"] = os.pathsep.join([binaries, env.get("PATH", "")])
    for variable in ("PYTHONPATH", "OVERSEER_XP_DIR", "PYTHONHOME"):
        env.pop(variable, None)
    timed = _timed(["bash", "-c", quickstart_command()], clone, env)
    _check_study(timed, clone / "rl-study", fresh=True)
    return {**_sample(timed), "installs_s": timed.study_at}


def time_study(folder: Path, arguments: list[str]) -> dict[str, Any]:
    """`suite rl study` in a fresh folder, in this environment."""
    folder.mkdir(parents=True)
    timed = _timed(_suite("rl", "study", *arguments), folder, _environment())
    _check_study(timed, folder / "rl-study", fresh=True)
    return _sample(timed)


def time_rerun(folder: Path, arguments: list[str]) -> dict[str, Any]:
    """`suite rl study` again on the finished study of ``folder``."""
    timed = _timed(_suite("rl", "study", *arguments), folder, _environment())
    _check_study(timed, folder / "rl-study", fresh=False)
    return _sample(timed)


def _suite(*words: str) -> list[str]:
    return [sys.executable, "-m", "overseer_suite", *words]


def _environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "OVERSEER_XP_DIR"}


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> Timed:
    """Run ``command``, noting the moments its output first shows the study and the arena."""
    start = time.perf_counter()
    marks: dict[str, float] = {}
    lines: list[str] = []
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        for prefix in ("rl study:", "arena,"):
            if prefix not in marks and line.startswith(prefix):
                marks[prefix] = time.perf_counter() - start
        lines.append(line.rstrip("\n"))
    status = process.wait()
    seconds = time.perf_counter() - start
    if status != 0:
        tail = "\n".join(lines[-5:])
        raise RunFailed(f"{' '.join(command[-3:])} exited with {status}:\n{tail}")
    return Timed(seconds, marks.get("rl study:"), marks.get("arena,"), lines)


def _check_study(timed: Timed, store: Path, *, fresh: bool) -> None:
    """Fail unless the study ended with its files, and trained (fresh) or reused its runs."""
    if timed.study_at is None or timed.arena_at is None:
        raise RunFailed("the study never printed its first line ('rl study:') or its arena")
    for name in ("frontier.png", "study.json"):
        if not (store / name).is_file():
            raise RunFailed(f"the study did not write {store / name}")
    if not any("suite tui" in line for line in timed.output[-5:]):
        raise RunFailed("the study did not end with how to open suite tui")
    if fresh and timed.submitted == 0:
        raise RunFailed("a fresh study submitted no run")
    if not fresh and timed.submitted:
        raise RunFailed(f"the rerun trained {timed.submitted} runs again instead of reusing them")


def _sample(timed: Timed) -> dict[str, Any]:
    return {
        "seconds": timed.seconds,
        "arena_at_s": timed.arena_at,
        "submitted": timed.submitted,
        "output_tail": timed.output[-12:],
    }


def _git(*words: str) -> str:
    done = subprocess.run(["git", *words], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() or "?"


def render(results: dict[str, Any]) -> str:
    """The section's markdown."""
    measures = results["measures"]
    head = (
        f"## {TITLE}\n\n"
        f"Run on {results['date']} ({results['duration_s']:.0f} s for the whole benchmark),"
        f" on commit `{results['head']}`.\n"
        f"Machine: {describe_machine(results['machine'])};"
        f" load average {results['load'][0]:.2f} at the end (other processes shared the cores).\n"
        "No peer: no other project runs this job on a CPU (boardlaw's study takes hours on"
        " GPUs); the side by side is the same study one run at a time.\n"
    )
    rows = [
        "| measure | median [min-max] | runs | goal | goal met? |",
        "| --- | --- | --- | --- | --- |",
        _row(
            "the Quickstart command, fresh clone and venv, installs included",
            measures.get("quickstart"),
            "seconds",
            GOAL_SECONDS,
            results,
        ),
        _row("... of which pip installs", measures.get("quickstart"), "installs_s", None, results),
        _row(
            "`suite rl study`, fresh (2 runs at once)",
            measures.get("study"),
            "seconds",
            GOAL_SECONDS,
            results,
        ),
        _row(
            "... of which the grid of trainings (until the arena)",
            measures.get("study"),
            "arena_at_s",
            None,
            results,
        ),
        _row(
            "`suite rl study` again on its finished store (every run reused)",
            measures.get("rerun"),
            "seconds",
            None,
            results,
        ),
        _row(
            "side by side: `suite rl study -j 1`, fresh (one run at a time)",
            measures.get("one at a time"),
            "seconds",
            None,
            results,
        ),
        _row(
            "... of which the grid of trainings",
            measures.get("one at a time"),
            "arena_at_s",
            None,
            results,
        ),
    ]
    errors = [f"- {name} failed: {error}" for name, error in results["errors"].items()]
    return "\n".join([head, "\n".join(rows) + "\n", *errors, _method(results)])


def _row(
    title: str,
    samples: list[dict[str, Any]] | None,
    key: str,
    goal: float | None,
    results: dict[str, Any],
) -> str:
    goal_text = f"<= {goal:g} s" if goal is not None else "-"
    values = [sample[key] for sample in samples or [] if sample.get(key) is not None]
    if not values:
        return f"| {title} | not measured | 0 | {goal_text} | - |"
    median, low, high = spread(values)
    verdict = "-"
    if goal is not None:
        verdict = "met" if median <= goal else f"missed ({median:.0f} s, x{median / goal:.2f})"
    cell = f"{median:.1f} s [{low:.1f}-{high:.1f}]"
    return f"| {title} | {cell} | {len(values)} | {goal_text} | {verdict} |"


def _method(results: dict[str, Any]) -> str:
    arguments = " ".join(results["study_arguments"]) or "(none: the defaults)"
    return f"""Method:

- The Quickstart row runs README's first command exactly as written,
  `{results["quickstart"]}`, with `bash -c` in a fresh `git clone` of the repository (its
  HEAD) and a fresh virtual environment made by `venv` (pip as it comes); pip's cache was
  warm, so the downloads of the dependencies (not torch, which comes from local disk) are
  not counted. Its installs are the time before the study's first line (`rl study: ...`).
- The study rows run `python -m overseer_suite rl study` with the arguments {arguments} in
  this environment, each fresh study in a new folder; "until the arena" is the moment its
  output first starts a line with `arena,`. Each study must end with `rl-study/frontier.png`,
  `rl-study/study.json` and the `suite tui` line; a fresh one must submit its runs, and the
  rerun on a finished store must submit none (every run found by its signature), or the
  measure fails.
- Every command's wall time comes from `time.perf_counter` around its process; the machine's
  2 cores run nothing else of this benchmark meanwhile.
- Reproduce: `python benchmarks/study/run.py` (or `nox -s bench -- --only study`).
"""


if __name__ == "__main__":
    sys.exit(main())
