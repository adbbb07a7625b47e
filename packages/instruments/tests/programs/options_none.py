"""Reads its arguments without argparse."""

import sys

from overseer import give

give(arguments=sys.argv[1:])
print(f"arguments: {sys.argv[1:]}")
