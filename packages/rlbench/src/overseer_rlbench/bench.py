"""``rl bench``: how fast the env, the search, self-play, the learner and the arena run.

Every figure is a rate (or a size) measured the same way: untimed warm-up calls, one call to
size a repeat to about ``target_seconds``, then ``repeats`` timed repeats; a :class:`BenchRow`
holds the median and the range (min-max) over those repeats, with the board size, the batch,
the device, torch's version and, on CPU, torch's thread count. On CUDA every timed region
starts and ends with ``torch.cuda.synchronize()``.

A measure whose module is not installed yet (or whose optional part is missing) is skipped
with a note rather than failing the run.

>>> rows = run_bench(quick=True, sizes=[3], batches=[8], repeats=2, measures=["env"])
>>> [(row.measure, row.unit) for row in rows]
[('env_steps', 'steps/s')]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import RLBenchError

if TYPE_CHECKING:
    from . import _bench_measures

__all__ = [
    "MEASURES",
    "BenchRow",
    "BenchSettingsError",
    "bench_command",
    "bench_plan",
    "build_parser",
    "format_rows",
    "human",
    "run_bench",
]

#: The measure groups ``run_bench(measures=...)`` and ``--measures`` pick from, in run order.
MEASURES = ("env", "state", "search", "network", "selfplay", "learner", "arena")


class BenchSettingsError(RLBenchError, ValueError):
    """A benchmark setting that cannot be run (an unknown measure, a missing device...)."""


@dataclass(frozen=True)
class BenchRow:
    """One measured figure.

    Attributes:
        measure: what is measured, e.g. ``env_steps`` or ``search_sims``.
        size: board side.
        batch: boards (or games, or samples) handled together.
        device: the torch device, e.g. ``cpu`` or ``cuda:0``.
        torch: torch's version.
        median: the median over the repeats, in ``unit``.
        low: the smallest repeat.
        high: the largest repeat.
        unit: e.g. ``steps/s``, ``sims/s``, ``bytes/env``.
        repeats: how many timed repeats.
        detail: the setting in words (algorithm, simulations, network).
        threads: ``torch.get_num_threads()`` on CPU, None on an accelerator.
    """

    measure: str
    size: int
    batch: int
    device: str
    torch: str
    median: float
    low: float
    high: float
    unit: str
    repeats: int
    detail: str = ""
    threads: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The row as plain JSON-ready values."""
        return asdict(self)


def run_bench(
    device: str = "cpu",
    quick: bool = False,
    repeats: int = 5,
    warmup: int = 1,
    sizes: Sequence[int] | None = None,
    batches: Sequence[int] | None = None,
    *,
    search_batches: Sequence[int] | None = None,
    simulations: int | None = None,
    measures: Sequence[str] | None = None,
    target_seconds: float | None = None,
    seed: int = 0,
    threads: int | None = None,
    notes: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[BenchRow]:
    """Measure the speeds the plan for ``device`` names (a small plan when ``quick``).

    Args:
        device: a torch device string; ``cuda`` needs a visible GPU.
        quick: a small plan (small batches, few simulations, short repeats).
        repeats: timed repeats per figure (at least 1).
        warmup: untimed calls before timing (the sizing call is untimed too).
        sizes: board sizes for every measure, instead of the plan's.
        batches: env batches (boards stepped together), instead of the plan's.
        search_batches: batches of the null-network search, instead of the plan's.
        simulations: simulations per search, instead of the plan's.
        measures: which groups of :data:`MEASURES` to run (default: all).
        target_seconds: about how long one timed repeat lasts.
        seed: seeds every generator.
        threads: ``torch.set_num_threads`` for the run (restored after); ``None`` keeps
            torch's own count.
        notes: skipped measures are described here, one line each.
        progress: called with a line before each figure is measured.

    Raises:
        BenchSettingsError: an unknown measure, a bad count, or a device torch cannot use.
    """
    from . import _bench_measures as bm

    _check_count("repeats", repeats, 1)
    _check_count("warmup", warmup, 0)
    if threads is not None:
        _check_count("threads", threads, 1)
    chosen = _checked_measures(measures)
    plan = _plan(device, quick, sizes, batches, search_batches, simulations, target_seconds)
    context = bm.Context(device, repeats, warmup, plan.target_seconds, seed, progress)
    rows: list[BenchRow] = []
    with _torch_threads(threads):
        for group in chosen:
            try:
                rows.extend(bm.GROUPS[group](context, plan))
            except bm.Skipped as why:
                if notes is not None:
                    notes.append(f"{group}: skipped: {why}")
    return rows


@contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def bench_plan(
    device: str = "cpu",
    quick: bool = False,
    sizes: Sequence[int] | None = None,
    batches: Sequence[int] | None = None,
    search_batches: Sequence[int] | None = None,
    simulations: int | None = None,
    target_seconds: float | None = None,
) -> dict[str, Any]:
    """What :func:`run_bench` measures with these settings: sizes, batches, presets...

    >>> bench_plan(quick=True)["env_batches"]
    [1024]
    """
    from dataclasses import asdict

    plan = _plan(device, quick, sizes, batches, search_batches, simulations, target_seconds)
    return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(plan).items()}


def _plan(
    device: str,
    quick: bool,
    sizes: Sequence[int] | None,
    batches: Sequence[int] | None,
    search_batches: Sequence[int] | None,
    simulations: int | None,
    target_seconds: float | None,
) -> _bench_measures.Plan:
    from . import _bench_measures as bm

    if simulations is not None:
        _check_count("simulations", simulations, 1)
    if target_seconds is not None and not target_seconds > 0:
        raise BenchSettingsError(f"target_seconds must be > 0, got {target_seconds!r}")
    for name, values in (
        ("sizes", sizes),
        ("batches", batches),
        ("search_batches", search_batches),
    ):
        _check_list(name, values, minimum=2 if name == "sizes" else 1)
    plan = bm.default_plan(_checked_device(device), quick)
    return plan.replaced(sizes, batches, search_batches, simulations, target_seconds)


def _check_count(name: str, value: int, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise BenchSettingsError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_list(name: str, values: Sequence[int] | None, minimum: int) -> None:
    if values is None:
        return
    if not values or any(not isinstance(v, int) or v < minimum for v in values):
        message = f"{name} must be integers >= {minimum}, got {list(values)!r}"
        raise BenchSettingsError(message)


def _checked_measures(measures: Sequence[str] | None) -> list[str]:
    if measures is None:
        return list(MEASURES)
    unknown = [name for name in measures if name not in MEASURES]
    if unknown or not measures:
        shown = ", ".join(unknown) or "none"
        message = f"unknown measure {shown}: pick among {', '.join(MEASURES)}"
        raise BenchSettingsError(message)
    return [name for name in MEASURES if name in measures]


def _checked_device(device: str) -> str:
    """The device's type (``cpu``, ``cuda``...), once torch can allocate on it."""
    import torch

    try:
        torch.empty(1, device=device)
    except (RuntimeError, AssertionError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        message = f"device {device!r} cannot be used ({reason}): use --device cpu"
        raise BenchSettingsError(message) from None
    return torch.device(device).type


def format_rows(rows: Sequence[BenchRow]) -> str:
    """The rows as an aligned text table: median [low-high] unit, per measure and setting."""
    header = ("measure", "size", "batch", "device", "setting", "median [min-max]", "repeats")
    lines = [header]
    for row in rows:
        figure = f"{human(row.median)} [{human(row.low)}-{human(row.high)}] {row.unit}"
        device = row.device
        if row.threads:
            device += f" ({row.threads} thread{'s' if row.threads != 1 else ''})"
        cells = (row.measure, str(row.size), str(row.batch), device, row.detail, figure)
        lines.append((*cells, str(row.repeats)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    return "\n".join(line.rstrip() for line in text)


def human(value: float) -> str:
    """Three significant figures with an SI suffix.

    >>> human(162_345.0), human(1_220.0), human(0.5), human(3.2e9)
    ('162k', '1.22k', '0.5', '3.2G')
    """
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are one line, raised instead of printed with the usage."""

    def error(self, message: str) -> Any:  # argparse's signature returns NoReturn
        raise BenchSettingsError(message)


def _integers(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values:
        message = f"expected whole numbers separated by commas, got {text!r}"
        raise argparse.ArgumentTypeError(message)
    return values


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``rl bench``."""
    parser = _Parser(prog="suite rl bench", description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--device", default="cpu", help="torch device: cpu (default), cuda, cuda:1...")
    add("--quick", action="store_true", help="a small plan: small batches, short repeats")
    add("--json", type=Path, metavar="FILE", help="also write the rows and notes as JSON here")
    add("--sizes", type=_integers, help="board sizes, e.g. 5,11 (default: the plan's)")
    add("--batches", type=_integers, help="env batches, e.g. 1024,4096 (default: the plan's)")
    add("--search-batches", type=_integers, help="null-network search batches")
    add("--simulations", type=int, help="simulations per search (default: the plan's)")
    add("--repeats", type=int, default=5, help="timed repeats per figure (default 5)")
    add("--warmup", type=int, default=1, help="untimed calls before timing (default 1)")
    add("--target-seconds", type=float, help="about how long one repeat lasts")
    add("--measures", help=f"comma-separated, among {', '.join(MEASURES)} (default: all)")
    add("--seed", type=int, default=0, help="seed of every generator (default 0)")
    add("--threads", type=int, help="torch.set_num_threads for the run (default: torch's)")
    return parser


def bench_command(argv: list[str]) -> int:
    """``rl bench [--device cuda] [--quick] [--json FILE] [--sizes 5,11] ...``.

    Prints the table (and notes of skipped measures) and returns 0; a bad setting is one
    line on stderr and exit status 2.
    """
    notes: list[str] = []
    try:
        options = build_parser().parse_args(argv)
        if options.json is not None and not options.json.parent.is_dir():
            message = f"--json {options.json}: no folder {options.json.parent}; create it first"
            raise BenchSettingsError(message)
        rows = _run_options(options, notes)
    except BenchSettingsError as error:
        print(f"rl bench: error: {error}", file=sys.stderr)
        return 2
    print(format_rows(rows))
    for note in notes:
        print(f"note: {note}")
    if options.json is not None:
        options.json.write_text(json.dumps(_payload(options, rows, notes), indent=2) + "\n")
    return 0


def _run_options(options: argparse.Namespace, notes: list[str]) -> list[BenchRow]:
    measures = None
    if options.measures is not None:
        measures = [name.strip() for name in options.measures.split(",")]
    return run_bench(
        options.device,
        options.quick,
        options.repeats,
        options.warmup,
        options.sizes,
        options.batches,
        search_batches=options.search_batches,
        simulations=options.simulations,
        measures=measures,
        target_seconds=options.target_seconds,
        seed=options.seed,
        threads=options.threads,
        notes=notes,
        progress=lambda line: print(f"bench: {line}", file=sys.stderr, flush=True),
    )


def _payload(options: argparse.Namespace, rows: list[BenchRow], notes: list[str]) -> Any:
    """What ``--json`` writes: the rows, the notes, the plan measured and the settings."""
    plan = bench_plan(
        options.device,
        options.quick,
        options.sizes,
        options.batches,
        options.search_batches,
        options.simulations,
        options.target_seconds,
    )
    settings = {name: getattr(options, name) for name in ("repeats", "warmup", "seed", "threads")}
    return {
        "rows": [row.to_dict() for row in rows],
        "notes": notes,
        "plan": plan,
        "settings": settings,
    }
