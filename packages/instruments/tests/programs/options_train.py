"""A training script with its own argparse options."""

import argparse
from pathlib import Path

parser = argparse.ArgumentParser(description="train something")
parser.add_argument("dataset")
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--output", type=Path, default=Path("runs"))
parser.add_argument("--progress", action="store_true", help="the script's own flag")
options = parser.parse_args()
print(f"training on {options.dataset} with lr={options.lr} for {options.epochs} epochs")
