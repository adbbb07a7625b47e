"""Functions that tests/test_probe.py probes, imported as the module ``probe_subjects``.

Each test probes its own functions: ptera leaves its mark on a function it has probed, so
a function shared between tests would make them depend on their order.
"""

# These functions exist to assign variables for probes to read, so assignments that
# nothing reads (F841, RET504) are their point, and C416 keeps a comprehension to probe.
# ruff: noqa: F841, C416

import contextlib

RATE = 0.5


def loop(n):
    for i in range(n):
        x = i * 2
    return n


def restored(n):
    total = 0
    for i in range(n):
        total += i
    return total


def train(loader):
    for inp in loader:
        loss = inp * RATE
    return loss


def outer(n):
    t = inner(n) + 1
    return t


def inner(n):
    x = n * 3
    return x


def countdown(n):
    while n > 0:
        yield n
        n -= 1


def both(n):
    for i in range(n):
        x = i + 100
    return n


def twin_direct(n):
    for i in range(n):
        x = i * 3
    return x


def twin_ptera(n):
    for i in range(n):
        x = i * 3
    return x


def noisy(n):
    for i in range(n):
        x = i
    return n


def threaded(n):
    x = n
    return x


def hot(n):
    for i in range(n):
        x = i * 2
    return n


def hot_ptera(n):
    for i in range(n):
        x = i * 2
    return n


def squares(n):
    listed = [y * y for y in range(n)]
    mapped = {k: k for k in range(n)}
    unique = {s for s in range(n)}
    total = sum(g for g in range(n))
    return listed, mapped, unique, total


async def fetch(n):
    a = n + 1
    return a


def classify(point):
    match point:
        case (u, v):
            kind = "pair"
        case _:
            kind = "other"
    return kind


def recover():
    try:
        raise ValueError("bad input")
    except ValueError as problem:
        fallback = str(problem)
    return fallback


def opened():
    with contextlib.nullcontext(7) as handle:
        pass
    return handle


def nested():
    def helper():
        r = 1
        return r

    return helper()


def no_return(n):
    x = n


def unpacks():
    head, *rest = [1, 2, 3]
    return rest


def where_walrus(n):
    ys = [(w := i) for i in range(n)]
    return ys, w


class Model:
    def forward(self, x):
        out = x + 1
        return out


# A function with no source file: what exec() and compile() make.
_namespace = {}
exec("def dynamic(n):\n    x = n + 1\n    return x\n", _namespace)
dynamic = _namespace["dynamic"]
