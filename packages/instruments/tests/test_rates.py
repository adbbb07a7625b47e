"""Rates: train (step, delta, wrap), loading and compute, checked against the script's clock.

The test programs read ``time.perf_counter`` around the places where an instrument reads its
clock (inside a ``give``, a wrap block, a loader's ``next()``), and give these readings. With
``--log-given`` their records and the rate records share one ordered stream, so each rate's
window is known, and the script's readings bound what the instrument can have measured: the
rate must lie between the two bounds. However loaded the machine, the bounds hold; on a quiet
one they are a fraction of a percent apart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from overseer_instruments import ConfigurationError, compute_rate, loading_rate, rate

Run = Callable[..., Any]
Record = dict[str, Any]
Bounds = tuple[float, float]  # the least and the most rate a window can have
Sample = Callable[[Record], "tuple[int, float, float] | None"]  # items, least and most seconds
ROUNDING = 1e-9  # sums of floats added in another order


def data_records(done: Any) -> list[Record]:
    return [record for record in done.records if "$event" not in record]


def rates(done: Any, task: str = "train") -> list[float]:
    return [
        r["rate"]
        for r in data_records(done)
        if r.get("units") == "items/s" and r.get("task") == task
    ]


def step_bounds(records: list[Record], skip: int) -> list[Bounds]:
    """Each window: the items of its steps over the time from the step before it to its last.

    The instrument reads its clock inside a step's ``give``: after the step's ``t``, before
    the ``returned`` that follows it.
    """
    steps: list[Record] = []
    returned: list[float] = []
    closes: list[int] = []
    for record in records:
        if "step" in record:
            steps.append(record)
        elif "returned" in record:
            returned.append(record["returned"])
        elif record.get("units") == "items/s":
            closes.append(len(steps) - 1)
    assert len(returned) == len(steps)
    bounds, start = [], max(skip, 1) - 1
    for close in closes:
        items = sum(len(step["batch"]) for step in steps[start + 1 : close + 1])
        longest = returned[close] - steps[start]["t"]
        shortest = steps[close]["t"] - returned[start]
        bounds.append((items / longest, items / shortest))
        start = close
    return bounds


def summed_bounds(
    records: list[Record], sample: Sample, skip: int, task: str = "train", late: int = 0
) -> list[Bounds]:
    """Each window: its samples' items over their summed seconds, the first ``skip`` left out.

    ``late``: how many samples the script gives after the rate record their window closed with.
    """
    samples: list[tuple[int, float, float]] = []
    closes: list[int] = []
    for record in records:
        found = sample(record)
        if found is not None:
            samples.append(found)
        elif record.get("units") == "items/s" and record.get("task") == task:
            closes.append(len(samples) + late)
    bounds, start = [], skip
    for close in closes:
        part = samples[start:close]
        items = sum(items for items, _, _ in part)
        bounds.append((items / sum(most for *_, most in part), items / sum(s for _, s, _ in part)))
        start = close
    return bounds


def assert_within(reported: list[float], bounds: list[Bounds], windows: int) -> None:
    assert len(reported) == len(bounds) >= windows
    for got, (least, most) in zip(reported, bounds, strict=True):
        assert least * (1 - ROUNDING) <= got <= most * (1 + ROUNDING), (reported, bounds)


PACED = ("--log-given", "--train-rate", "--rate-interval", "0.1")


@pytest.mark.parametrize("skip", [0, 4])
def test_step_rates_are_the_scripts_own(run_overseer: Run, skip: int) -> None:
    # 8 items every 10 ms once warm, after 4 warm-up steps of 40 ms: they are in the first
    # window's bounds unless skipped.
    done = run_overseer(*PACED, "--rate-skip", str(skip), "rates_paced.py", "step")
    assert done.returncode == 0, done.stderr
    assert_within(rates(done), step_bounds(data_records(done), skip), windows=4)


def wrapped(record: Record) -> tuple[int, float, float] | None:
    if "around" not in record:
        return None
    return record["items"], record["inside"], record["around"]


def delta(record: Record) -> tuple[int, float, float] | None:
    return (len(record["batch"]), record["delta"], record["delta"]) if "delta" in record else None


@pytest.mark.parametrize("skip", [0, 4])
@pytest.mark.parametrize(("method", "sample", "late"), [("delta", delta, 0), ("wrap", wrapped, 1)])
def test_delta_and_wrap_rates_are_the_scripts_own(
    run_overseer: Run, method: str, sample: Sample, late: int, skip: int
) -> None:
    # Deltas are the script's own numbers: their bounds meet, and the rate is exact. A wrap
    # block's bounds leave out the script's sleep between blocks: a rate that counted it would
    # fall below them.
    flags = ("--rate-method", method, "--rate-skip", str(skip))
    done = run_overseer(*PACED, *flags, "rates_paced.py", method)
    assert done.returncode == 0, done.stderr
    bounds = summed_bounds(data_records(done), sample, skip, late=late)
    assert_within(rates(done), bounds, windows=4)


def test_windows_of_events_hold_that_many_steps(run_overseer: Run) -> None:
    flags = ("--rate-interval", "5", "--rate-interval-unit", "events", "--rate-skip", "4")
    done = run_overseer("--log-given", "--train-rate", *flags, "rates_paced.py", "step")
    records = data_records(done)
    # 40 steps, the clock starting at the 4th: 36 counted, 7 windows of 5 and the last of 1.
    assert len(rates(done)) == 8
    assert_within(rates(done), step_bounds(records, 4), windows=8)


def test_the_last_window_closes_when_the_script_ends(run_overseer: Run) -> None:
    done = run_overseer("--train-rate", "--rate-interval", "100", "rates_paced.py", "step")
    assert len(rates(done)) == 1
    assert done.records[-1]["$event"] == "exit"


def test_batch_sizes_tasks_and_the_missing_size(run_overseer: Run) -> None:
    flags = ("--rate-method", "delta", "--rate-interval", "1", "--rate-interval-unit", "events")
    done = run_overseer("--train-rate", *flags, "rates_sizes.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    # Every step lasts one second: the rate is the batch size read.
    assert rates(done) == [32.0, 16.0, 4.0, 3.0, 7.0]
    assert rates(done, "eval") == [5.0]
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("overseer: the train rate stops: cannot tell the batch size")
    assert "--rate-batch-size N" in message
    assert [e["instrument"] for e in done.events("instrument_error")] == ["train rate"]


def test_a_configured_batch_size_serves_records_without_one(run_overseer: Run) -> None:
    flags = ("--rate-method", "delta", "--rate-interval", "1", "--rate-interval-unit", "events")
    done = run_overseer("--train-rate", *flags, "--rate-batch-size", "9", "rates_sizes.py")
    assert rates(done) == [32.0, 16.0, 4.0, 3.0, 7.0, 9.0]
    assert not done.events("instrument_error")


def waited(record: Record) -> tuple[int, float, float] | None:
    return (record["items"], record["made"], record["wait"]) if "wait" in record else None


def test_loading_rate_times_the_given_loaders_next(run_overseer: Run) -> None:
    flags = ("--log-given", "--loading-rate", "--rate-interval", "0.1")
    done = run_overseer(*flags, "rates_loader.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "120 items, loader is a Loader: True\n"
    # A rate is given inside next(), before the script sees the batch that closed the window.
    # The script's work between batches is outside the bounds: a rate that counted it would
    # fall below them.
    bounds = summed_bounds(data_records(done), waited, 0, "loading", late=1)
    assert_within(rates(done, "loading"), bounds, windows=2)


def test_loading_rate_from_a_probe_without_changing_the_script(
    run_overseer: Run, workdir: Path
) -> None:
    (workdir / "voirfile.py").write_text(
        "def instrument_loader(ov):\n"
        "    yield ov.phases.load_script\n"
        "    ov.probe('//main > train_loader as loader').give()\n"
    )
    done = run_overseer("--log-given", "--loading-rate", "rates_loader.py", "--hide")
    assert done.returncode == 0, done.stderr
    bounds = summed_bounds(data_records(done), waited, 0, "loading", late=1)
    assert_within(rates(done, "loading"), bounds, windows=1)
    assert len(bounds) == 1


def test_a_loader_that_cannot_be_timed_is_reported_once(run_overseer: Run) -> None:
    done = run_overseer("--loading-rate", "rates_loader.py", "--kind", "generator")
    assert done.returncode == 0
    assert done.stdout == "120 items, loader is a Loader: False\n"
    assert done.stderr.count("the loading rate stops: the given loader, a generator,") == 1
    assert rates(done, "loading") == []


def stepped(record: Record) -> tuple[int, float, float] | None:
    return (record["items"], record["inside"], record["around"]) if "around" in record else None


def test_compute_rate_from_the_scripts_marks(run_overseer: Run) -> None:
    flags = ("--log-given", "--compute-rate", "--rate-interval", "0.1")
    done = run_overseer(*flags, "rates_compute.py", "--marks")
    assert done.returncode == 0, done.stderr
    # The loader gives a step's bounds after the loop's compute_end, which closes windows.
    bounds = summed_bounds(data_records(done), stepped, 0, "compute", late=1)
    assert_within(rates(done, "compute"), bounds, windows=2)


def test_compute_rate_from_milabenchs_wrapper_probe(run_overseer: Run, workdir: Path) -> None:
    (workdir / "voirfile.py").write_text(
        "def instrument_compute(ov):\n"
        "    yield ov.phases.load_script\n"
        "    ov.probe('//train(inp as batch, !#loop_inp as compute_start,"
        " !!#endloop_inp as compute_end)').give()\n"
    )
    flags = ("--log-given", "--compute-rate", "--rate-interval", "0.1")
    done = run_overseer(*flags, "rates_compute.py")
    assert done.returncode == 0, done.stderr
    # The probe's span is the loop's whole body, not only its compute part: the bounds hold
    # both, and leave out the loader's sleep.
    bounds = summed_bounds(data_records(done), stepped, 0, "compute", late=1)
    assert_within(rates(done, "compute"), bounds, windows=2)


def synchronized(done: Any, key: str = "synchronized") -> list[float]:
    return next(r[key] for r in data_records(done) if "synchronized" in r)


def test_cuda_is_synchronised_at_window_edges(run_overseer: Run) -> None:
    flags = (
        "--log-given",
        "--train-rate",
        "--rate-interval",
        "4",
        "--rate-interval-unit",
        "events",
    )
    done = run_overseer(*flags, "rates_cuda.py")
    calls = synchronized(done)
    # When the clock starts (first step), then as each full window of 4 steps closes.
    assert len(calls) == 3
    # The window opens once CUDA is done, before the first step's give returns, and closes
    # once CUDA is done again, before the fifth step's give returns: 4 steps of 4 items.
    returned = synchronized(done, "returned")
    least, most = 16 / (returned[4] - calls[0]), 16 / (calls[1] - returned[0])
    assert least <= rates(done)[0] <= most
    assert synchronized(run_overseer(*flags, "rates_cuda.py", "--no-cuda")) == []


def test_use_cuda_false_overrides_the_script(run_overseer: Run, workdir: Path) -> None:
    (workdir / "voirfile.py").write_text(
        "from overseer_instruments import rate\n\n"
        "def instrument_main(ov):\n"
        "    ov.require(rate(interval=4, interval_unit='events', use_cuda=False))\n"
    )
    done = run_overseer("--log-given", "rates_cuda.py")
    assert len(rates(done)) == 3
    assert synchronized(done) == []


def test_one_measure_when_two_instruments_ask_for_it(run_overseer: Run, workdir: Path) -> None:
    (workdir / "voirfile.py").write_text(
        "from overseer_instruments import train_rate\n\n"
        "def instrument_main(ov):\n"
        "    ov.require(train_rate(interval=100))\n"
    )
    done = run_overseer("--train-rate", "rates_paced.py", "step", "--steps", "10")
    assert len(rates(done)) == 1


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--rate-interval", "0"), ("--rate-skip", "-1"), ("--rate-batch-size", "0")],
)
def test_bad_flags_are_refused_in_one_line(run_overseer: Run, flag: str, value: str) -> None:
    done = run_overseer("--train-rate", flag, value, "rates_paced.py", "step")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"overseer: error: argument {flag}:")


@pytest.mark.parametrize(
    ("factory", "arguments", "named"),
    [
        (rate, {"method": "sum"}, "method='sum'"),
        (rate, {"interval": 0}, "interval=0"),
        (rate, {"interval": 2.5, "interval_unit": "events"}, "interval=2.5"),
        (rate, {"interval_unit": "steps"}, "interval_unit='steps'"),
        (rate, {"skip": -1}, "skip=-1"),
        (rate, {"task": ""}, "task=''"),
        (loading_rate, {"batch_size": 0}, "batch_size=0"),
        (compute_rate, {"use_cuda": "yes"}, "use_cuda='yes'"),
    ],
)
def test_factories_refuse_bad_arguments(
    factory: Callable[..., Any], arguments: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=rf"^rate\({named}\): "):
        factory(**arguments)


@pytest.mark.torch
@pytest.mark.parametrize("workers", [0, 2])
def test_a_real_dataloader_and_real_tensors(run_overseer: Run, workers: int) -> None:
    pytest.importorskip("torch")
    flags = ("--train-rate", "--loading-rate", "--rate-method", "delta", "--rate-interval", "1")
    script = ("rates_torch.py", "--workers", str(workers))
    # Importing torch takes seconds, many more on a loaded machine: the timeout bounds a hang.
    done = run_overseer(*flags, "--rate-interval-unit", "events", *script, timeout=300)
    assert done.returncode == 0, done.stderr
    # The loader is still a DataLoader to the script, and still works with worker processes.
    assert done.stdout == "DataLoader, a DataLoader: True, 7\n"
    # Steps of one second: the rate is the first dimension of the input tensor, 200 = 6*32 + 8.
    assert rates(done) == [32.0] * 6 + [8.0] + [32.0] * 6 + [8.0]
    assert len(rates(done, "loading")) == 14
