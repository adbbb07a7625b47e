"""The training script: 24 arguments, the size of a real one's parser; one XP per distinct set."""

import argparse

from dora import argparse_main, get_xp

parser = argparse.ArgumentParser(prog="argproj.train")
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--momentum", type=float, default=0.9)
parser.add_argument("--weight_decay", type=float, default=1e-4)
parser.add_argument("--dropout", type=float, default=0.1)
parser.add_argument("--grad_clip", type=float, default=None)
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--batch_size", type=int, default=32)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--layers", type=int, default=4)
parser.add_argument("--hidden", type=int, default=256)
parser.add_argument("--warmup", type=int, default=500)
parser.add_argument("--num_workers", type=int, default=4)
parser.add_argument("--log_every", type=int, default=50)
parser.add_argument("--checkpoint_every", type=int, default=1)
parser.add_argument("--model", choices=["small", "base", "large"], default="base")
parser.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], default="adam")
parser.add_argument("--schedule", choices=["cosine", "step", "none"], default="cosine")
parser.add_argument("--data", default="/datasets/imagenet")
parser.add_argument("--fast", action="store_true")
parser.add_argument("--debug", action="store_true")
parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True)
parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=False)
parser.add_argument("--label_smoothing", type=float, default=0.0)
parser.add_argument("--tag", default="")


@argparse_main(dir="./outputs", parser=parser, exclude=["num_workers", "log_every"])
def main():
    xp = get_xp()
    args = xp.cfg
    for epoch in range(args.epochs):
        loss = args.lr / (epoch + 1)
        xp.link.push_metrics({"epoch": epoch, "train": {"loss": loss}, "valid": {"loss": loss}})
    print(f"done {xp.sig}")


if __name__ == "__main__":
    main()
