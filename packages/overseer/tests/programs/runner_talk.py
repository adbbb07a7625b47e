"""Prints numbered lines on stdout and on stderr, in turn."""

import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 3
for number in range(count):
    print(f"out {number}")
    print(f"err {number}", file=sys.stderr)
