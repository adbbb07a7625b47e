"""The thread every monitor runs on: sample, give, wait, from ``run_script`` to ``finalize``.

A monitor is a ``prepare`` function that runs once, right after ``parse_args`` (it imports
psutil or starts NVML, and takes the first readings that rates and loads are measured from),
and returns ``sample``, which the thread then calls every ``interval`` seconds::

    def prepare() -> Sample:
        import psutil

        def sample() -> dict[str, Any]:
            memory = psutil.virtual_memory()
            return {"memory": [memory.total - memory.available, memory.total]}

        return sample


    cpu = sampling_instrument("cpu_monitor", "cpudata", 1.0, prepare)

Each result is given as ``{key: result, "task": "main"}`` and written to the data stream,
where the stream stamps it with its time (``$t``). The first sample is taken as soon as
``run_script`` starts, then one every ``interval`` on a fixed schedule (a slow sample skips
the turns it overran rather than drifting). The thread stops as the script ends, at once,
without waiting out the interval. A ``sample`` returning ``None`` gives nothing that turn.

When ``prepare`` or ``sample`` raises :class:`Unavailable` (what it measures does not exist
here), one notice goes to stderr and the monitor stops. Any other exception is reported once,
on stderr and as an ``instrument_error`` record in the stream, and the monitor stops; the
run goes on either way.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any

from ._flag_types import seconds
from .errors import ConfigurationError
from .forwarding import forward

__all__ = [
    "DEFAULT_INTERVAL",
    "Instrument",
    "Sample",
    "Sampler",
    "Unavailable",
    "check_interval",
    "counter_sample",
    "interval_flags",
    "notice",
    "report_failure",
    "requested_interval",
    "sampling_instrument",
]

Instrument = Callable[[Any], Any]
Sample = Callable[[], "dict[str, Any] | None"]

#: The interval every monitor samples at unless told otherwise, in seconds.
DEFAULT_INTERVAL = 1.0

# How long stop() waits for a sample in progress (an NVML call can hang on a sick GPU);
# the thread is a daemon, so a sample stuck longer than this never holds the process.
_STOP_GRACE = 5.0

# One instrument per configuration, so that requiring the same monitor twice (from
# --monitor-all and --cpu-monitor, or from two voirfiles) runs it once: ov.require
# recognises an instrument it has already by its identity.
_built: dict[tuple[Hashable, ...], Instrument] = {}


class Unavailable(Exception):
    """What a monitor measures does not exist here (no GPU, no disk counters...)."""


def notice(name: str, message: str) -> None:
    """Print one line about monitor ``name`` on stderr, as the overseer's notices are."""
    print(f"overseer: {name}: {message}", file=sys.stderr, flush=True)


class Sampler:
    """A daemon thread calling ``sample`` every ``interval`` seconds until :meth:`stop`.

    Args:
        name: the monitor's name, for its notices (``"cpu_monitor"``).
        key: the key its results are given under (``"cpudata"``).
        sample: returns the record's value, or ``None`` for nothing this turn.
        interval: seconds between the starts of two samples.
        ov: the overseer it gives to and reports errors through.
    """

    def __init__(self, name: str, key: str, sample: Sample, interval: float, ov: Any) -> None:
        self.name = name
        self.key = key
        self.interval = interval
        self._sample = sample
        self._ov = ov
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"overseer-{name}", daemon=True)

    def start(self) -> None:
        """Take the first sample now, in the thread, and go on every ``interval``."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling; a sample in progress is finished (and given) first."""
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(_STOP_GRACE)

    def _run(self) -> None:
        due = time.monotonic()
        while not self._stopping.is_set():
            if not self._take():
                return
            due = _next_turn(due, self.interval, time.monotonic())
            if self._stopping.wait(max(0.0, due - time.monotonic())):
                return

    def _take(self) -> bool:
        """Sample and give once; ``False`` when the monitor must stop."""
        try:
            value = self._sample()
        except Unavailable as unavailable:
            notice(self.name, f"stopped: {unavailable}")
            return False
        except Exception as error:
            report_failure(self._ov, self.name, error)
            return False
        if value is not None:
            self._ov.give(**{self.key: value, "task": "main"})
        return True


def _next_turn(due: float, interval: float, now: float) -> float:
    """The next start on the schedule ``due + k * interval`` that is still ahead of ``now``."""
    due += interval
    if due <= now:
        due += interval * math.ceil((now - due) / interval + 1e-9)
    return due


def report_failure(ov: Any, name: str, error: BaseException) -> None:
    """Report a monitor that failed: one line on stderr, one ``instrument_error`` record."""
    kind = type(error).__name__
    print(
        f"overseer: monitor {name!r} failed and was stopped; the run goes on. {kind}: {error}",
        file=sys.stderr,
        flush=True,
    )
    data = {"instrument": name, "type": kind, "message": str(error)}
    ov.log({"$event": "instrument_error", "$data": data})


def sampling_instrument(
    name: str,
    key: str,
    interval: float,
    prepare: Callable[[], Sample],
    *,
    identity: tuple[Hashable, ...] = (),
) -> Instrument:
    """The instrument that runs ``prepare()``'s sample on a :class:`Sampler`.

    Args:
        name: the monitor's name (the instrument's ``__name__``, used in its notices).
        key: the key its records are given and written under.
        interval: seconds between samples; checked here.
        prepare: called once after ``parse_args``; returns the sample function.
        identity: what else tells two configurations apart (an NVML provider...): the same
            ``name``, ``interval`` and ``identity`` give back the same instrument.

    Raises:
        ConfigurationError: ``interval`` is not a positive number of seconds.
    """
    check_interval(name, interval)
    configuration = (name, float(interval), *identity)
    built = _built.get(configuration)
    if built is None:
        built = _built[configuration] = _build(name, key, float(interval), prepare)
    return built


def _build(name: str, key: str, interval: float, prepare: Callable[[], Sample]) -> Instrument:
    def instrument(ov: Any) -> Iterator[Any]:
        yield ov.phases.parse_args
        forward(ov, key)
        sample = _prepared(ov, name, prepare)
        if sample is None:
            return
        yield ov.phases.load_script
        sampler = Sampler(name, key, sample, interval, ov)
        sampler.start()
        try:
            yield ov.phases.run_script
        finally:
            sampler.stop()

    instrument.__name__ = instrument.__qualname__ = name
    instrument.__doc__ = f"The {name} monitor, every {interval:g} s."
    return instrument


def _prepared(ov: Any, name: str, prepare: Callable[[], Sample]) -> Sample | None:
    try:
        return prepare()
    except Unavailable as unavailable:
        notice(name, f"off: {unavailable}")
    except Exception as error:
        report_failure(ov, name, error)
    return None


def counter_sample(read: Callable[[], Mapping[str, int]]) -> Sample:
    """A sample of counters that only grow (bytes read, sent...), read once now.

    Each record holds every counter ``NAME`` of ``read()`` as its growth since now, then its
    rate as ``NAME_per_s``: its growth per second since the previous record.
    """
    first = previous = read()
    then = time.monotonic()

    def sample() -> dict[str, Any]:
        nonlocal previous, then
        current, now = read(), time.monotonic()
        elapsed = now - then
        totals = {name: max(0, current[name] - first[name]) for name in current}
        rates = {
            f"{name}_per_s": max(0, current[name] - previous[name]) / elapsed
            if elapsed > 0
            else 0.0
            for name in current
        }
        previous, then = current, now
        return {**totals, **rates}

    return sample


def check_interval(name: str, interval: object) -> None:
    """Raise :class:`ConfigurationError` unless ``interval`` is a positive finite number."""
    if isinstance(interval, bool) or not isinstance(interval, int | float):
        valid = False
    else:
        valid = math.isfinite(interval) and interval > 0
    if not valid:
        message = (
            f"{name}() interval must be a positive number of seconds, not {interval!r};"
            f" e.g. {name}(interval=1.0)"
        )
        raise ConfigurationError(message)


def interval_flags(ov: Any, flag: str, what: str) -> None:
    """Add ``--FLAG`` and ``--FLAG-interval SECONDS``; either one turns the monitor on."""
    ov.argparser.add_argument(f"--{flag}", action="store_true", help=f"sample {what}")
    ov.argparser.add_argument(
        f"--{flag}-interval",
        type=seconds,
        default=None,
        metavar="SECONDS",
        help=f"seconds between two samples (default: {DEFAULT_INTERVAL:g}; turns --{flag} on)",
    )


def monitor_flags(
    ov: Any, flag: str, what: str, monitor: Callable[..., Instrument]
) -> Iterator[Any]:
    """The body of a monitor's entry point: its flags, then ``monitor`` when they are given.

    Example::

        def command_line(ov):
            yield from monitor_flags(ov, "cpu-monitor", "the CPU load", cpu_monitor)
    """
    interval_flags(ov, flag, what)
    yield ov.phases.parse_args
    interval = requested_interval(ov.options, flag)
    if interval is not None:
        ov.require(monitor(interval=interval))


def requested_interval(options: argparse.Namespace, flag: str) -> float | None:
    """The interval ``--FLAG`` / ``--FLAG-interval`` ask for, or ``None`` when neither is given."""
    attribute = flag.replace("-", "_")
    interval = getattr(options, f"{attribute}_interval", None)
    if interval is not None:
        return float(interval)
    return DEFAULT_INTERVAL if getattr(options, attribute, False) else None
