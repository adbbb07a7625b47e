import sys

from overseer import give


def hello():
    give(hello=1)
    print("hello from function", sys.argv[1:])
    return 42
