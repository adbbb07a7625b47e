"""A tiny training loop: metrics per epoch, a checkpoint in the XP folder, resumed."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from overseer_xpmanager import argparse_main, get_xp

parser = argparse.ArgumentParser(prog="argproj.train")
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--batch_size", type=int, default=32)
parser.add_argument("--num_workers", type=int, default=2)
parser.add_argument("--fast", action="store_true")
parser.add_argument("--crash", action="store_true", help="exit with status 3 after epoch 0")
parser.add_argument("--sleep", type=float, default=0.0, help="seconds per epoch")


@argparse_main(dir="./outputs", parser=parser, exclude=["num_workers"])
def main() -> None:
    xp = get_xp()
    args = xp.cfg
    checkpoint = xp.folder / "checkpoint.json"
    start = json.loads(checkpoint.read_text())["epoch"] + 1 if checkpoint.exists() else 0
    if start:
        print(f"resuming from epoch {start}", flush=True)
    for epoch in range(start, args.epochs):
        time.sleep(args.sleep)
        loss = args.lr / (epoch + 1) / (2 if args.fast else 1)
        xp.link.push_metrics({"epoch": epoch, "loss": loss})
        # Written aside then renamed: a reader (another rank, a requeued attempt) never
        # sees half a checkpoint.
        partial = checkpoint.with_name(f"checkpoint.{os.getpid()}.tmp")
        partial.write_text(json.dumps({"epoch": epoch}))
        os.replace(partial, checkpoint)
        print(f"epoch {epoch} loss {loss:.4f}", flush=True)
        if args.crash:
            print("crashing as asked (--crash)", file=sys.stderr, flush=True)
            sys.exit(3)
    print(f"done {xp.sig}", flush=True)


if __name__ == "__main__":
    main()
