"""voir's ``rate`` instrument on the paced loop, its rates written to ``$DATA_FD``.

``BENCH_METHOD`` (``delta`` or ``wrap``), ``BENCH_WINDOW`` (steps a rate) and ``BENCH_SKIP``
(windows left out) configure it, as ``run.py`` sets them.
"""

import os

from voir.instruments import rate


def instrument_rate(ov):
    yield ov.phases.init
    window, skip = int(os.environ["BENCH_WINDOW"]), int(os.environ["BENCH_SKIP"])
    ov.require(rate(interval=window, skip=skip, method=os.environ["BENCH_METHOD"]))
    ov.given.where("rate") >> ov.log
