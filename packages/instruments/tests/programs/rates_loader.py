"""A loop over a loader that takes --load seconds per batch, with --work seconds per step.

The script times its own waits on the loader: ``wait`` is the time each ``next()`` took, and
``made`` the time the loader spent making that batch, read inside the loader. A timed
``next()`` lasts between the two, whatever the load of the machine.
``--kind generator`` iterates a generator; ``--hide`` does not give the loader (a voirfile's
probe does).
"""

import argparse
import time

from overseer import give

parser = argparse.ArgumentParser()
parser.add_argument("--load", type=float, default=0.01)
parser.add_argument("--work", type=float, default=0.005)
parser.add_argument("--batches", type=int, default=30)
parser.add_argument("--kind", choices=["class", "generator"], default="class")
parser.add_argument("--hide", action="store_true")
args = parser.parse_args()


class Loader:
    """A data loader: each batch of 4 items takes --load seconds to make."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        for index in range(self.batches):
            began = time.perf_counter()
            time.sleep(args.load)
            self.made = time.perf_counter() - began
            yield [index] * 4

    def __len__(self):
        return self.batches


def batches(count):
    for index in range(count):
        time.sleep(args.load)
        yield [index] * 4


def main():
    train_loader = Loader(args.batches) if args.kind == "class" else batches(args.batches)
    if not args.hide:
        give(loader=train_loader)
    seen = 0
    iterator = iter(train_loader)
    while True:
        # What a for loop does, with the script's own clock around each next().
        asked = time.perf_counter()
        try:
            batch = next(iterator)
        except StopIteration:
            break
        got = time.perf_counter()
        time.sleep(args.work)
        seen += len(batch)
        made = getattr(train_loader, "made", None)
        give(wait=got - asked, made=made, items=len(batch))
    print(f"{seen} items, loader is a Loader: {isinstance(train_loader, Loader)}")


main()
