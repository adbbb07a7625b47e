"""The cost of one sample of each monitor, in the process that samples, for one peer.

    python sample_cost.py overseer 200    # in an environment with overseer-instruments
    python sample_cost.py voir 200        # in voir's environment

Prints JSON: ``{monitor: [microseconds per sample, one figure per round]}``, after one
untimed sample. A monitor that cannot run here is left out. Only the reading of the
counters is timed: what the sampler does with the result (give, write) is not.
"""

import json
import sys
import time

ROUNDS = 5


def overseer_samplers():
    from overseer_instruments import cpu, gpu, io, net, process
    from overseer_instruments._sampler import Unavailable

    samplers = {}
    for name, prepare in (
        ("cpu", cpu._prepare),
        ("io", io._prepare),
        ("net", net._prepare),
        ("process", process._prepare),
        ("gpu", lambda: gpu._prepare(gpu.PynvmlProvider())),
    ):
        try:
            samplers[name] = prepare()
        except Unavailable:
            continue
    return samplers


def voir_samplers():
    from voir.instruments.cpu import cpu_monitor
    from voir.instruments.gpu import gpu_monitor, select_backend
    from voir.instruments.io import io_monitor
    from voir.instruments.network import network_monitor

    select_backend(None, force=True)
    return {
        "cpu": cpu_monitor(),
        "io": io_monitor(),
        "net": network_monitor(),
        "gpu": gpu_monitor(),
    }


def time_sample(sample, calls):
    sample()
    figures = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(calls):
            sample()
        figures.append((time.perf_counter() - start) / calls * 1e6)
    return figures


peer, calls = sys.argv[1], int(sys.argv[2])
samplers = overseer_samplers() if peer == "overseer" else voir_samplers()
print(json.dumps({name: time_sample(sample, calls) for name, sample in samplers.items()}))
