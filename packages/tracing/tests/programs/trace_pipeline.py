"""A pure-Python pipeline with one traced function per stage: load, collate, evaluate.

Usage: trace_pipeline.py [--items N] [--fail-at BATCH] [--exit CODE] [--in-thread]
Prints its sys.argv and sys.path[0] as JSON first, to compare with a plain ``python`` run.
"""

import argparse
import json
import sys
import threading

from overseer_tracing import trace_dataset_func, trace_func, trace_model_func


@trace_dataset_func
def load(index):
    return [index, index * 10]


@trace_func(stage_name="collate")
def collate(items):
    return [sum(column) for column in zip(*items, strict=True)]


@trace_model_func
def evaluate(batch, broken=False):
    if broken:
        raise ValueError(f"batch {batch} is broken")
    return sum(batch)


def run(items, fail_at):
    for number, start in enumerate(range(0, items, 2)):
        evaluate(collate([load(i) for i in range(start, start + 2)]), broken=number == fail_at)


if __name__ == "__main__":
    print(json.dumps({"argv": sys.argv, "path0": sys.path[0]}))
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=4)
    parser.add_argument("--fail-at", type=int, default=-1)
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--in-thread", action="store_true")
    options = parser.parse_args()
    if options.in_thread:
        worker = threading.Thread(target=run, args=(options.items, options.fail_at))
        worker.start()
        worker.join()
    else:
        run(options.items, options.fail_at)
    print("pipeline done")
    sys.exit(options.exit)
