"""Rates in items per second: training steps, data loading and compute, per task.

From the command line, ``--train-rate``, ``--loading-rate`` and ``--compute-rate``, with
``--rate-interval 1 --rate-interval-unit seconds`` (or ``events``), ``--rate-skip N`` (warm-up
steps left out), ``--rate-batch-size N`` and ``--rate-method step|delta|wrap``. From a
voirfile::

    from overseer_instruments import rate


    def instrument_main(ov):
        ov.require(rate(interval=10, interval_unit="events", skip=5))

Each closed window gives, and writes to the data stream, voir's rate record, the one
milabench reads: ``{"task": "train", "rate": 1234.5, "units": "items/s"}``. The last
window, however short, closes when the script ends.

What the script gives, for each rate:

- train, ``method="step"``: ``give(step=step, batch=batch)`` at the end of each step; a step
  lasts from the previous step record to its own. ``method="delta"``:
  ``give(delta=seconds, batch=batch)``, the script times its steps itself.
  ``method="wrap"``: ``with give.wrap("step", batch=batch): ...``, only the time inside the
  blocks counts. A record's own ``task`` (``"eval"``) gets rates of its own.
- loading: ``give(loader=loader)`` once, before the loop; each ``next()`` of the loader's
  iterator is then timed (task ``"loading"``). A script that does not give it needs no
  change: ``ov.probe("//main > train_loader as loader").give()`` in a voirfile gives it.
- compute: ``give(compute_start=True)`` then ``give(compute_end=True, batch=batch)``, or
  milabench's wrapper probe ``ov.probe("//train(inp as batch, !#loop_inp as compute_start,
  !!#endloop_inp as compute_end)").give()`` (task ``"compute"``).

The batch size is the first dimension of a tensor or array (``batch.shape[0]``; of the first
one in an ``(inputs, targets)`` pair or a dict), else ``len(batch)``, else ``batch_size``.
With ``use_cuda=True`` (the argument, or given by the script) CUDA is synchronised at the
edges of each window, so that the time counted is the time the GPU took.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from ._batches import batch_size, time_loader
from ._flag_types import positive_number, positive_whole, whole
from .errors import ConfigurationError

__all__ = ["command_line", "compute_rate", "loading_rate", "measured_rates", "rate", "train_rate"]

Instrument = Callable[[Any], Any]
Method = Literal["step", "delta", "wrap"]
Unit = Literal["seconds", "events"]
Record = dict[str, Any]
METHODS = ("step", "delta", "wrap")
UNITS = ("seconds", "events")
_clock = time.perf_counter


@dataclass(frozen=True)
class _Settings:
    task: str
    interval: float
    unit: str
    skip: int
    batch_size: int | None
    use_cuda: bool | None


def rate(
    *,
    task: str = "train",
    method: Method = "step",
    interval: float = 1.0,
    interval_unit: Unit = "seconds",
    skip: int = 0,
    batch_size: int | None = None,
    use_cuda: bool | None = None,
) -> Instrument:
    """An instrument giving the rate, in items per second, of the steps the script gives.

    Args:
        task: the task of step records that carry none.
        method: ``"step"``: time between step records; ``"delta"``: the records' own
            ``delta`` seconds; ``"wrap"``: time inside ``give.wrap("step")`` blocks.
        interval: how long a window lasts: seconds, or steps with ``interval_unit="events"``.
        interval_unit: ``"seconds"`` or ``"events"``.
        skip: steps left out at the start (warm-up).
        batch_size: the items of a step whose batch does not tell its size.
        use_cuda: synchronise CUDA at window edges; ``None`` follows ``give(use_cuda=...)``.

    Raises:
        ConfigurationError: an argument out of its range, named with the fix.
    """
    if method not in METHODS:
        raise ConfigurationError(f"rate(method={method!r}): use 'step', 'delta' or 'wrap'")
    settings = _settings(task, interval, interval_unit, skip, batch_size, use_cuda)
    return _instrument(method, settings, _WATCHERS[method])


def train_rate(**options: Any) -> Instrument:
    """:func:`rate`, whose defaults measure ``step`` + ``batch`` records of task train."""
    return rate(**options)


def loading_rate(
    *,
    task: str = "loading",
    interval: float = 1.0,
    interval_unit: Unit = "seconds",
    skip: int = 0,
    batch_size: int | None = None,
) -> Instrument:
    """An instrument timing each ``next()`` of the loader the script gives (``loader=``).

    The arguments are :func:`rate`'s. A loader that cannot be timed (a generator) is
    reported once, on stderr and in the stream, and the run goes on.
    """
    settings = _settings(task, interval, interval_unit, skip, batch_size, False)
    return _instrument("loading", settings, _watch_loaders)


def compute_rate(
    *,
    task: str = "compute",
    interval: float = 1.0,
    interval_unit: Unit = "seconds",
    skip: int = 0,
    batch_size: int | None = None,
    use_cuda: bool | None = None,
) -> Instrument:
    """An instrument timing the spans from ``compute_start`` to ``compute_end`` records.

    The arguments are :func:`rate`'s; the batch is read from either record.
    """
    settings = _settings(task, interval, interval_unit, skip, batch_size, use_cuda)
    return _instrument("compute", settings, _watch_compute)


def measured_rates(ov: Any) -> dict[str, list[float]]:
    """Close the open windows of the run's rate instruments; return the rates of each task.

    Example::

        measured_rates(ov)  # {"train": [1210.4, 1232.9], "loading": [50210.0]}
    """
    found: dict[str, list[float]] = {}
    for meters in _RUNS.get(ov, []):
        meters.flush()
        for task, meter in meters.by_task.items():
            found.setdefault(task, []).extend(meter.rates)
    return found


def command_line(ov: Any) -> Iterator[Any]:
    """Give training, data loading and compute rates in items per second."""
    add = ov.argparser.add_argument
    add(
        "--train-rate",
        action="store_true",
        help="items/s of the training loop, from step + batch records",
    )
    add(
        "--loading-rate",
        action="store_true",
        help="items/s of the data loader the script gives (loader=...), timing each next()",
    )
    add(
        "--compute-rate",
        action="store_true",
        help="items/s between compute_start and compute_end records",
    )
    add(
        "--rate-interval",
        type=positive_number,
        default=1.0,
        metavar="X",
        help="length of a rate window (default: 1)",
    )
    add(
        "--rate-interval-unit",
        choices=UNITS,
        default="seconds",
        help="unit of --rate-interval (default: seconds)",
    )
    add(
        "--rate-skip",
        type=whole,
        default=0,
        metavar="N",
        help="warm-up steps left out of the rates (default: 0)",
    )
    add(
        "--rate-batch-size",
        type=positive_whole,
        metavar="N",
        help="items per batch when the batch has no len() or shape",
    )
    add(
        "--rate-method",
        choices=METHODS,
        default="step",
        help="step: between step records; delta: given delta=seconds; wrap: give.wrap blocks",
    )
    yield ov.phases.parse_args
    options = ov.options
    settings = _flag_settings(options)
    if options.train_rate:
        ov.require(rate(method=options.rate_method, **settings))
    if options.loading_rate:
        ov.require(loading_rate(**settings))
    if options.compute_rate:
        ov.require(compute_rate(**settings))


def _flag_settings(options: argparse.Namespace) -> dict[str, Any]:
    """The ``--rate-*`` flags of a parsed command line, as keyword arguments."""
    return {
        "interval": getattr(options, "rate_interval", 1.0),
        "interval_unit": getattr(options, "rate_interval_unit", "seconds"),
        "skip": getattr(options, "rate_skip", 0),
        "batch_size": getattr(options, "rate_batch_size", None),
    }


# ---------------------------------------------------------------- windows


@dataclass
class _Meter:
    """One task's windows: ``step()`` counts the steps between two readings of the clock,
    ``add()`` sums the durations its samples carry."""

    settings: _Settings
    task: str
    emit: Callable[[str, float], None]
    synchronize: Callable[[], float]
    rates: list[float] = field(default_factory=list)
    seen: int = 0
    items: int = 0
    events: int = 0
    seconds: float = 0.0
    opened: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def step(self, items: int) -> None:
        with self.lock:
            self.seen += 1
            # The clock starts at the end of the last step left out, or of the first step,
            # whose start is unknown: every step after it is counted whole.
            start = max(self.settings.skip, 1)
            if self.seen <= start:
                if self.seen == start:
                    self.synchronize()
                    self.opened = _clock()
                return
            now = _clock()
            self.items += items
            self.events += 1
            self.seconds = now - self.opened  # what the window lasts if the script ends here
            if self._due(now):
                self.synchronize()
                now = _clock()
                self.seconds, self.opened = now - self.opened, now
                self._close()

    def add(self, items: int, seconds: float) -> None:
        with self.lock:
            self.seen += 1
            if self.seen <= self.settings.skip:
                return
            now = _clock()
            if not self.events:
                self.opened = now - seconds
            self.items += items
            self.seconds += seconds
            self.events += 1
            if self._due(now):
                # Waiting for the GPU is part of the work the window timed.
                self.seconds += self.synchronize()
                self._close()

    def flush(self) -> None:
        """Close the last window, up to the last sample: what follows it is not work."""
        with self.lock:
            if self.events:
                self._close()

    def _due(self, now: float) -> bool:
        if self.settings.unit == "events":
            return self.events >= self.settings.interval
        return now - self.opened >= self.settings.interval

    def _close(self) -> None:
        items, seconds = self.items, self.seconds
        self.items, self.events, self.seconds = 0, 0, 0.0
        if items and seconds > 0:
            self.rates.append(items / seconds)
            self.emit(self.task, items / seconds)


class _Meters:
    """An instrument's meters, by task, and what they share: CUDA, failure, the stream."""

    def __init__(self, ov: Any, settings: _Settings, kind: str) -> None:
        self.ov, self.settings, self.kind = ov, settings, kind
        self.by_task: dict[str, _Meter] = {}
        self.cuda_given = False
        self.failed = False
        self.subscription: Any = None
        self._writes = not getattr(ov.options, "log_given", False)

    def meter(self, task: Any = None) -> _Meter:
        name = self.settings.task if task is None else str(task)
        if name not in self.by_task:
            self.by_task[name] = _Meter(self.settings, name, self._emit, self._synchronize)
        return self.by_task[name]

    def items(self, *records: Record) -> int | None:
        """The batch size the records tell, else the configured one, else fail."""
        for record in records:
            size = record.get("batch_size")
            if isinstance(size, int) and not isinstance(size, bool) and size > 0:
                return size
            found = batch_size(record["batch"]) if "batch" in record else None
            if found is not None:
                return found
        if self.settings.batch_size is not None:
            return self.settings.batch_size
        keys = ", ".join(sorted({key for record in records for key in record}))
        self.fail(
            f"cannot tell the batch size of a record with keys {keys}: give batch=<a tensor,"
            " array or sequence of the step's items> or batch_size=N, or pass"
            " --rate-batch-size N (batch_size=N in a voirfile)"
        )
        return None

    def note(self, values: Record) -> bool:
        """Take ``use_cuda`` from a record; tell whether records are still measured."""
        if "use_cuda" in values:
            self.cuda_given = bool(values["use_cuda"])
        return not self.failed

    def fail(self, message: str) -> None:
        """Report once, on stderr and in the stream, then stop measuring."""
        if self.failed:
            return
        self.failed = True
        if self.subscription is not None:
            self.subscription.dispose()
        name = f"{self.settings.task} rate"
        print(f"overseer: the {name} stops: {message}", file=sys.stderr)
        data = {"instrument": name, "type": "ConfigurationError", "message": message}
        self.ov.log({"$event": "instrument_error", "$data": data})

    def flush(self) -> None:
        for meter in list(self.by_task.values()):
            meter.flush()

    def _emit(self, task: str, value: float) -> None:
        record = {"task": task, "rate": value, "units": "items/s"}
        self.ov.give(**record)
        if self._writes:
            self.ov.log(record)

    def _synchronize(self) -> float:
        wanted = self.settings.use_cuda
        if not (self.cuda_given if wanted is None else wanted):
            return 0.0
        # Only a script that imported torch has CUDA work to wait for.
        torch = sys.modules.get("torch")
        if torch is None or not torch.cuda.is_available():
            return 0.0
        start = _clock()
        torch.cuda.synchronize()
        return _clock() - start


# The meters of each run's instruments. One instrument per kind and task measures: a second
# one (--verify beside --train-rate) stays idle rather than give every rate twice.
_RUNS: weakref.WeakKeyDictionary[Any, list[_Meters]] = weakref.WeakKeyDictionary()

Watch = Callable[[_Meters], Callable[[Record], None]]


def _instrument(method: str, settings: _Settings, watch: Watch) -> Instrument:
    kind = f"{method}:{settings.task}"

    def rate_instrument(ov: Any) -> Iterator[Any]:
        yield ov.phases.parse_args
        run = _RUNS.setdefault(ov, [])
        if any(meters.kind == kind for meters in run):
            return
        meters = _Meters(ov, settings, kind)
        run.append(meters)
        meters.subscription = ov.given.subscribe(watch(meters))
        try:
            yield ov.phases.run_script
        finally:
            meters.flush()

    return rate_instrument


# ---------------------------------------------------------------- what each rate watches


def _watch_steps(meters: _Meters) -> Callable[[Record], None]:
    def observe(values: Record) -> None:
        if meters.note(values) and "step" in values and "$wrap" not in values:
            items = meters.items(values)
            if items is not None:
                meters.meter(values.get("task")).step(items)

    return observe


def _watch_deltas(meters: _Meters) -> Callable[[Record], None]:
    def observe(values: Record) -> None:
        if meters.note(values) and "delta" in values and "$wrap" not in values:
            items = meters.items(values)
            if items is not None:
                meters.meter(values.get("task")).add(items, float(values["delta"]))

    return observe


def _watch_wraps(meters: _Meters) -> Callable[[Record], None]:
    def edge(values: Record) -> tuple[str | None, Any]:
        wrap = values.get("$wrap")
        if not isinstance(wrap, dict) or wrap.get("name") != "step":
            return None, None
        return ("begin" if wrap.get("step") == "begin" else "end"), wrap.get("id")

    return _spans(meters, edge, own_task=True)


def _watch_compute(meters: _Meters) -> Callable[[Record], None]:
    def edge(values: Record) -> tuple[str | None, Any]:
        wrap = values.get("$wrap")
        if isinstance(wrap, dict) and "compute_start" in values:
            # A wrapper probe's records hold the captures of the previous span too.
            return ("begin" if wrap.get("step") == "begin" else "end"), wrap.get("id")
        if "compute_end" in values:
            return "end", None
        return ("begin" if "compute_start" in values else None), None

    return _spans(meters, edge, own_task=False)


def _spans(
    meters: _Meters, edge: Callable[[Record], tuple[str | None, Any]], own_task: bool
) -> Callable[[Record], None]:
    """Time the spans from a begin record to the end record of the same id."""
    opened: dict[Any, tuple[float, Record]] = {}

    def observe(values: Record) -> None:
        now = _clock()
        which, key = edge(values)
        if not meters.note(values) or which is None:
            return
        if which == "begin":
            opened[key] = (now, values)
        elif key in opened:
            start, first = opened.pop(key)
            items = meters.items(values, first)
            task = values.get("task", first.get("task")) if own_task else None
            if items is not None:
                meters.meter(task).add(items, now - start)

    return observe


def _watch_loaders(meters: _Meters) -> Callable[[Record], None]:
    timed: dict[type, type] = {}

    def on_batch(item: Any, seconds: float) -> None:
        items = meters.items({"batch": item}) if not meters.failed else None
        if items is not None:
            meters.meter().add(items, seconds)

    def observe(values: Record) -> None:
        if meters.note(values) and "loader" in values:
            problem = time_loader(values["loader"], on_batch, timed)
            if problem:
                meters.fail(problem)

    return observe


_WATCHERS: dict[str, Watch] = {"step": _watch_steps, "delta": _watch_deltas, "wrap": _watch_wraps}


# ---------------------------------------------------------------- arguments


def _settings(
    task: str, interval: float, unit: str, skip: int, size: int | None, use_cuda: bool | None
) -> _Settings:
    def whole(value: Any, least: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= least

    number = isinstance(interval, (int, float)) and not isinstance(interval, bool)
    positive = number and math.isfinite(interval) and interval > 0
    events = not positive or unit != "events" or interval % 1 == 0
    checks = [
        ("task", task, isinstance(task, str) and task, "name the task, e.g. task='train'"),
        ("interval_unit", unit, unit in UNITS, "use 'seconds' or 'events'"),
        ("interval", interval, positive, "give a number above 0, e.g. interval=1.0"),
        ("interval", interval, events, "a window holds a whole number of events"),
        ("skip", skip, whole(skip, 0), "give a whole number of steps, 0 or more"),
        ("batch_size", size, size is None or whole(size, 1), "give a whole number above 0"),
        ("use_cuda", use_cuda, use_cuda in (None, True, False), "give True, False or None"),
    ]
    for argument, value, valid, fix in checks:
        if not valid:
            raise ConfigurationError(f"rate({argument}={value!r}): {fix}")
    return _Settings(task, float(interval), unit, skip, size, use_cuda)
