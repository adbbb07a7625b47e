"""The JAX side of the rlbench comparison: pgx's Hex and mctx's search, timed as ours is.

Runs under any Python where ``jax``, ``pgx`` and ``mctx`` import: the venv ``run.py`` makes
from ``requirements.txt``, or a GPU machine's own Python with those wheels installed::

    python benchmarks/rlbench/peers.py --sizes 11 --batches 1024,4096 --json peers.json
    python benchmarks/rlbench/peers.py --quick            # a smoke run, rows on stdout

It writes ``{"versions": ..., "device": ..., "rows": [...]}``; every row has the keys of
``overseer_rlbench.bench.BenchRow`` (``jax`` stands where ours say ``torch``) and a ``peer``.

The game is the same as ours: pgx's Hex has the swap rule as an extra action, which is
masked out here (random play and the search never take it), so both sides play Hex without
swap on ``size x size`` boards. Timing is the same too: untimed warm-up calls (the first
compiles), one call to size the repeats to about ``--target-seconds``, then ``--repeats``
timed repeats, each ending with ``block_until_ready``; a row holds the median and range.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

SEARCH_ALGORITHMS = {"gumbel": "gumbel_muzero_policy", "puct": "muzero_policy"}


def time_work(
    work: Callable[[int], Any], repeats: int, warmup: int, target_seconds: float
) -> tuple[list[float], int]:
    """Seconds per iteration of ``work(k)`` (k iterations, blocking) over ``repeats`` repeats.

    Returns the per-iteration seconds of each repeat and the iterations in each.
    """
    import jax

    for _ in range(max(1, warmup)):
        jax.block_until_ready(work(1))
    began = time.perf_counter()
    jax.block_until_ready(work(1))
    one = time.perf_counter() - began
    iterations = max(1, min(100_000, round(target_seconds / max(one, 1e-9))))
    seconds = []
    for _ in range(repeats):
        began = time.perf_counter()
        jax.block_until_ready(work(iterations))
        seconds.append((time.perf_counter() - began) / iterations)
    return seconds, iterations


def row(
    measure: str,
    size: int,
    batch: int,
    rates: list[float],
    unit: str,
    detail: str,
    peer: str,
) -> dict[str, Any]:
    """One row, in the shape of ``BenchRow.to_dict()``."""
    import jax

    return {
        "measure": measure,
        "size": size,
        "batch": batch,
        "device": jax.default_backend(),
        "torch": None,
        "jax": jax.__version__,
        "median": statistics.median(rates),
        "low": min(rates),
        "high": max(rates),
        "unit": unit,
        "repeats": len(rates),
        "detail": detail,
        "threads": None,
        "peer": peer,
    }


# pgx's Hex state has 11x11 arrays built in (``Hex(size=...)`` fails at other sizes).
PGX_SIZE = 11


def hex_env(size: int) -> Any:
    """pgx's Hex, ``pgx.make("hex")``; it plays on 11x11 boards only."""
    import pgx

    if size != PGX_SIZE:
        raise UnsupportedSize(f"pgx's Hex plays on {PGX_SIZE}x{PGX_SIZE} boards only, not {size}")
    return pgx.make("hex")


class UnsupportedSize(Exception):
    """A size the peer cannot play: noted, not a failure."""


def env_rows(size: int, batch: int, options: argparse.Namespace) -> list[dict[str, Any]]:
    """pgx env steps/s, random legal play with pgx's own auto-reset, two ways of calling it.

    ``loop``: one jitted step per Python call, as ours is driven; ``fused``: the whole repeat
    in one jitted ``fori_loop``, pgx's fastest way (no dispatch per step).
    """
    import jax
    import jax.numpy as jnp
    from pgx.experimental import auto_reset

    env = hex_env(size)
    cells = size * size
    step = jax.vmap(auto_reset(env.step, env.init))

    def body(_: Any, carry: tuple[Any, Any]) -> tuple[Any, Any]:
        state, key = carry
        key, noise_key, step_key = jax.random.split(key, 3)
        noise = jax.random.uniform(noise_key, (batch, cells))
        legal = state.legal_action_mask[:, :cells]  # the last action is the swap: never
        action = jnp.argmax(jnp.where(legal, noise, -1.0), axis=1)
        return step(state, action, jax.random.split(step_key, batch)), key

    @jax.jit
    def steps(state: Any, key: Any, count: Any) -> tuple[Any, Any]:
        return jax.lax.fori_loop(0, count, body, (state, key))

    key = jax.random.PRNGKey(options.seed)
    carry = [jax.vmap(env.init)(jax.random.split(key, batch)), key]

    def looped(iterations: int) -> Any:
        for _ in range(iterations):
            carry[:] = steps(carry[0], carry[1], 1)
        return carry[0]

    def fused(iterations: int) -> Any:
        carry[:] = steps(carry[0], carry[1], iterations)
        return carry[0]

    rows = []
    for name, work in (("loop", looped), ("fused", fused)):
        seconds, _ = time_work(work, options.repeats, options.warmup, options.target_seconds)
        detail = f"pgx Hex, random play + auto_reset, {name}"
        rates = [batch / s for s in seconds]
        rows.append(row(f"env_steps_{name}", size, batch, rates, "steps/s", detail, "pgx"))
    leaves = jax.tree_util.tree_leaves(carry[0])
    per_env = sum(leaf.nbytes for leaf in leaves) / batch
    detail = "pgx Hex State pytree"
    rows.append(row("state_bytes", size, batch, [per_env], "bytes/env", detail, "pgx"))
    return rows


def search_rows(
    size: int, batch: int, algorithm: str, options: argparse.Namespace
) -> list[dict[str, Any]]:
    """mctx simulations/s over pgx's Hex with a null network (flat prior, value 0)."""
    import jax
    import jax.numpy as jnp
    import mctx

    env = hex_env(size)
    cells = size * size
    env_step = jax.vmap(env.step)

    def prior(state: Any) -> Any:
        return jnp.where(state.legal_action_mask[:, :cells], 0.0, jnp.finfo(jnp.float32).min)

    def recurrent(params: Any, key: Any, action: Any, state: Any) -> tuple[Any, Any]:
        del params, key
        mover = state.current_player
        after = env_step(state, action)
        output = mctx.RecurrentFnOutput(
            reward=after.rewards[jnp.arange(batch), mover],
            discount=jnp.where(after.terminated, 0.0, -1.0),  # two players: value flips
            prior_logits=prior(after),
            value=jnp.zeros(batch),
        )
        return output, after

    policy = getattr(mctx, SEARCH_ALGORITHMS[algorithm])
    extra: dict[str, Any] = {"dirichlet_fraction": 0.0, "pb_c_init": 1.25}
    if algorithm == "gumbel":
        extra = {"max_num_considered_actions": options.considered}

    @jax.jit
    def search(state: Any, key: Any) -> Any:
        root = mctx.RootFnOutput(prior_logits=prior(state), value=jnp.zeros(batch), embedding=state)
        invalid = ~state.legal_action_mask[:, :cells]
        output = policy(
            None, key, root, recurrent, options.simulations, invalid_actions=invalid, **extra
        )
        return output.action

    root = jax.vmap(env.init)(jax.random.split(jax.random.PRNGKey(options.seed), batch))
    keys = [jax.random.PRNGKey(options.seed + 1)]

    def work(iterations: int) -> Any:
        action = None
        for _ in range(iterations):
            keys[0], key = jax.random.split(keys[0])
            action = search(root, key)
        return action

    seconds, _ = time_work(work, options.repeats, options.warmup, options.target_seconds)
    rates = [batch * options.simulations / s for s in seconds]
    detail = (
        f"mctx.{SEARCH_ALGORITHMS[algorithm]}, {options.simulations} simulations,"
        " null network, over pgx Hex"
    )
    return [row(f"search_{algorithm}", size, batch, rates, "sims/s", detail, "mctx")]


def versions() -> dict[str, str]:
    """The versions of the JAX-side distributions, by name."""
    found = {}
    for name in ("jax", "jaxlib", "pgx", "mctx", "chex", "numpy"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    return found


def run(options: argparse.Namespace) -> dict[str, Any]:
    """Every measure the options name; a measure that fails becomes an ``errors`` entry."""
    import jax

    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    notes: list[str] = []
    jobs: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = []
    for size in options.sizes:
        for batch in options.batches:
            jobs.append((f"pgx env {size}x{size} batch {batch}", _bind_env(size, batch, options)))
    for size in options.search_sizes:
        for batch in options.search_batches:
            for algorithm in options.algorithms:
                name = f"mctx {algorithm} {size}x{size} batch {batch}"
                jobs.append((name, _bind_search(size, batch, algorithm, options)))
    for name, job in jobs:
        print(f"peers: {name}", file=sys.stderr, flush=True)
        try:
            rows.extend(job())
        except UnsupportedSize as why:
            notes.append(f"{name}: not measured: {why}")
        except Exception as error:  # one failed measure must not lose the others
            errors.append(f"{name}: {type(error).__name__}: {error}")
            print(f"peers: {name} failed: {error}", file=sys.stderr, flush=True)
    device = str(jax.devices()[0])
    return {
        "versions": versions(),
        "device": device,
        "rows": rows,
        "errors": errors,
        "notes": notes,
    }


def _bind_env(size: int, batch: int, options: argparse.Namespace) -> Callable[[], Any]:
    return lambda: env_rows(size, batch, options)


def _bind_search(
    size: int, batch: int, algorithm: str, options: argparse.Namespace
) -> Callable[[], Any]:
    return lambda: search_rows(size, batch, algorithm, options)


def _integers(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        message = f"expected integers separated by commas: {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers: {text!r}")
    return values


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_integers, default=[PGX_SIZE])
    parser.add_argument("--batches", type=_integers, default=[1024, 4096, 16384])
    parser.add_argument("--search-sizes", type=_integers, default=[11])
    parser.add_argument("--search-batches", type=_integers, default=[256, 1024])
    parser.add_argument("--algorithms", default="gumbel,puct", help="gumbel and/or puct")
    parser.add_argument("--simulations", type=int, default=32)
    parser.add_argument("--considered", type=int, default=16, help="gumbel's root actions")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--target-seconds", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="small boards and batches")
    parser.add_argument("--json", help="write the results here (default: stdout)")
    options = parser.parse_args(argv)
    options.algorithms = [name for name in options.algorithms.split(",") if name]
    unknown = sorted(set(options.algorithms) - set(SEARCH_ALGORITHMS))
    if unknown:
        parser.error(f"unknown algorithm {', '.join(unknown)}: pick among gumbel, puct")
    if options.quick:
        options.batches, options.search_batches = [64], [16]
        options.simulations, options.repeats, options.target_seconds = 8, 3, 0.05
    return options


def main(argv: list[str] | None = None) -> int:
    """Measure, then write the JSON; exit status 1 if a measure failed."""
    options = _parse(argv)
    results = run(options)
    text = json.dumps(results, indent=2)
    if options.json:
        with open(options.json, "w") as out:
            out.write(text)
    else:
        print(text)
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
