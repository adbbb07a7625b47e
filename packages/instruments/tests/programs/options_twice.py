"""Parses with subcommands, then parses again with a second parser."""

import argparse

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, default=0)
commands = parser.add_subparsers(dest="command")
train = commands.add_parser("train")
train.add_argument("--batch", type=int, default=32)
options, rest = parser.parse_known_args()
again = parser.parse_known_args()

extra = argparse.ArgumentParser()
extra.add_argument("--verbose", action="store_true")
extra_options = extra.parse_args(rest)
print(f"command={options.command} batch={options.batch} seed={options.seed} rest={rest}")
