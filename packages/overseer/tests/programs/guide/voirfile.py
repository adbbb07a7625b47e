"""The instruments of voir's guide, as a voir user writes them."""

import time


def instrument_time(ov):
    yield ov.phases.init
    ov.argparser.add_argument("--time", action="store_true", help="print load and run times")
    yield ov.phases.parse_args
    start = time.time()
    yield ov.phases.load_script
    loaded = time.time()
    if ov.options.time:
        print(f"Load time: {(loaded - start) * 1000:.3f}ms")
    yield ov.phases.run_script
    if ov.options.time:
        print(f"Run time: {(time.time() - loaded) * 1000:.3f}ms")


def instrument_probe(ov):
    yield ov.phases.init
    ov.probe("//train_epoch > loss").give()
    ov.given["?loss"].min().print("Minimum loss: {}")
