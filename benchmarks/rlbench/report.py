"""The rlbench sections of benchmarks/RESULTS.md (one for CPU, one for GPU), from raw results."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from results import describe_machine

PEER_SIZE = 11  # pgx's Hex is 11x11 only
CPU_GOAL = 2.0  # ours over the peer, env and search (the CPU goals)
GPU_GOALS = {"env_steps": 1e9, "search_sims": 1e7}  # at 11x11, null network for search
GPU_PEER_GOAL = 10.0

# Our measure/setting and the peer row it is compared with: (our measure, our algorithm or
# None, peer measure, what the peer row is).
PAIRS = (
    ("env_steps", None, "env_steps_loop", "pgx, one jitted step per call"),
    ("env_steps", None, "env_steps_fused", "pgx, all steps in one jitted fori_loop"),
    ("search_sims", "puct", "search_puct", "mctx muzero_policy (PUCT)"),
    ("search_sims", "gumbel", "search_gumbel", "mctx gumbel_muzero_policy"),
    ("search_sims", "puct", "search_gumbel", "mctx gumbel_muzero_policy"),
)
TITLES = {
    "env_steps": "env steps/s, random play",
    "search_sims": "search simulations/s, null network",
}


def title(device: str) -> str:
    """The section's title for a device type."""
    kind = "CPU" if device == "cpu" else "GPU"
    return f"overseer-rlbench vs pgx and mctx: {kind}"


def placeholder() -> str:
    """The GPU section before any GPU run."""
    return (
        f"## {title('cuda')}\n\n"
        "Not yet measured. On a machine with a GPU,"
        " `python benchmarks/rlbench/run.py --device cuda` (with `--peer-python` naming a"
        " Python holding jax, pgx and mctx, or `--no-peers`) replaces this section.\n\n"
        "Goals (the issue's, on an H100): >= 1e9 env steps/s at 11x11, >= 1e7 search"
        " simulations/s with a null network, >= 10x pgx on the same GPU, and 9x9 trained to"
        " the perfect-play reference in under 1 hour.\n"
    )


def render(results: dict[str, Any]) -> str:
    """The section's markdown."""
    parts = [f"## {title(results['device'])}\n", _context(results)]
    if results["peers"] is not None:
        parts.append(_side_by_side(results))
    if results["device"] != "cpu":
        parts.append(_gpu_goals(results))
    parts += [_ours(results), _notes(results), _method(results)]
    return "\n".join(part for part in parts if part)


def _context(results: dict[str, Any]) -> str:
    rows = results["ours"]["rows"]
    torch = rows[0]["torch"] if rows else "?"
    threads = sorted({row["threads"] for row in rows if row["threads"]})
    load = ", ".join(f"{when} {values[0]:.2f}" for when, values in results["load"].items())
    load = load or "not recorded"
    lines = [
        f"Run on {results['date']} ({results['duration_s']:.0f} s for the whole benchmark).",
        f"Machine: {describe_machine(results['machine'])}.",
        f"overseer-rlbench side: torch {torch}"
        + (f", torch threads {' and '.join(map(str, threads))}" if threads else "")
        + f", device `{results['device']}`. One-minute load average: {load}.",
    ]
    peers = results["peers"]
    if peers is not None:
        versions = ", ".join(f"{name} {v}" for name, v in peers.get("versions", {}).items())
        lines.append(f"Peer side: {versions}; JAX device `{peers.get('device', '?')}`.")
    lines.append("")
    lines.append("Reproduce: `python benchmarks/rlbench/run.py`")
    lines[-1] += " (`--device cuda` on a GPU machine). The two sides' own commands:"
    lines += [f"`{command}`;" for command in results["ours"]["commands"]]
    if peers is not None:
        lines.append(f"`{peers['command']}`.")
    lines[-1] = lines[-1].rstrip(";.") + "."
    return "\n".join(lines) + "\n"


def _side_by_side(results: dict[str, Any]) -> str:
    lines = [
        f"### Side by side, {PEER_SIZE}x{PEER_SIZE}\n",
        "| measure | batch | overseer-rlbench median [min-max] | peer | peer median [min-max]"
        " | ours / peer | goal | goal met? |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for ours, peer, what in _pairs(results):
        setting = _algorithm(ours) or "random"
        ratio = ours["median"] / peer["median"]
        goal = _peer_goal(results["device"], ours["measure"])
        met = "-" if goal is None else "met" if ratio >= goal else "missed"
        name = TITLES[ours["measure"]] + ("" if setting == "random" else f", ours {setting}")
        lines.append(
            f"| {name}, {_simulations(ours)}{_threads(ours)} | {ours['batch']:,}"
            f" | {_figure(ours)} | {what}"
            f" | {_figure(peer)} | {ratio:.2f}x | {'-' if goal is None else f'>= {goal:g}x'}"
            f" | {met} |"
        )
    lines += _bytes_row(results)
    return "\n".join(lines) + "\n"


def _peer_goal(device: str, measure: str) -> float | None:
    """The issue's goal for ours over the peer: 2x on CPU; on a GPU, 10x pgx for the env only
    (search on a GPU has an absolute goal, in the table of GPU goals)."""
    if device == "cpu":
        return CPU_GOAL
    return GPU_PEER_GOAL if measure == "env_steps" else None


def _pairs(results: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any], str]]:
    peer_rows = results["peers"]["rows"]
    for measure, algorithm, peer_measure, what in PAIRS:
        for ours in results["ours"]["rows"]:
            if ours["measure"] != measure or ours["size"] != PEER_SIZE:
                continue
            if "null network" not in ours["detail"] and measure == "search_sims":
                continue
            if algorithm is not None and _algorithm(ours) != algorithm:
                continue
            for peer in peer_rows:
                if peer["measure"] == peer_measure and peer["batch"] == ours["batch"]:
                    yield ours, peer, what


def _bytes_row(results: dict[str, Any]) -> list[str]:
    ours = [r for r in results["ours"]["rows"] if r["measure"] == "state_bytes"]
    peers = [r for r in results["peers"]["rows"] if r["measure"] == "state_bytes"]
    ours = [r for r in ours if r["size"] == PEER_SIZE]
    if not ours or not peers:
        return []
    mine, theirs = ours[0]["median"], peers[0]["median"]
    return [
        f"| bytes of state per env (less is better) | - | {mine:,.0f} bytes | pgx State pytree"
        f" | {theirs:,.0f} bytes | {mine / theirs:.2f}x | - | - |"
    ]


def _gpu_goals(results: dict[str, Any]) -> str:
    lines = ["### GPU goals\n", "| goal | best measured | met? |", "| --- | --- | --- |"]
    rows = results["ours"]["rows"]
    for measure, goal in GPU_GOALS.items():
        found = [
            r
            for r in rows
            if r["measure"] == measure
            and r["size"] == PEER_SIZE
            and (measure != "search_sims" or "null network" in r["detail"])
        ]
        if not found:
            lines.append(f"| {TITLES[measure]} >= {goal:.0e} at 11x11 | not measured | - |")
            continue
        best = max(found, key=lambda r: r["median"])
        met = "met" if best["median"] >= goal else "missed"
        lines.append(
            f"| {TITLES[measure]} >= {goal:.0e} at 11x11 | {_figure(best)} (batch"
            f" {best['batch']:,}, {best['detail']}) | {met} |"
        )
    lines.append("| 9x9 trained to perfect play in under 1 hour | not measured here | - |")
    return "\n".join(lines) + "\n"


def _ours(results: dict[str, Any]) -> str:
    lines = [
        "### overseer-rlbench, every measure\n",
        "| measure | size | batch | setting | threads | median [min-max] | repeats |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in results["ours"]["rows"]:
        lines.append(
            f"| {row['measure']} | {row['size']} | {row['batch']:,} | {row['detail']}"
            f" | {row['threads'] or '-'} | {_figure(row)} | {row['repeats']} |"
        )
    return "\n".join(lines) + "\n"


def _notes(results: dict[str, Any]) -> str:
    notes = [f"overseer-rlbench: {note}" for note in results["ours"].get("notes", [])]
    if results["peers"] is not None:
        notes += [f"peers: {note}" for note in results["peers"].get("notes", [])]
    else:
        notes.append("peers: not run (`--no-peers`)")
    notes += [f"failed: {failure}" for failure in results["failures"]]
    if not notes:
        return ""
    return "Not measured, or failed:\n\n" + "\n".join(f"- {note}" for note in notes) + "\n"


def _method(results: dict[str, Any]) -> str:
    settings = results["ours"].get("settings", {})
    plan = results["ours"].get("plan", {})
    return "\n".join(
        [
            "Method:",
            "",
            f"- Each figure: {settings.get('warmup', 1)} untimed warm-up call(s), one untimed"
            f" call that sizes a repeat to about {plan.get('target_seconds', '?')} s, then"
            f" {settings.get('repeats', '?')} timed repeats; median and min-max over the"
            " repeats. Rates count boards (env), simulations times boards (search), moves"
            " of every board (self-play), samples (learner) and whole games (arena) per"
            " second. On CUDA, `torch.cuda.synchronize()` brackets every timed region;"
            " the JAX side ends each with `block_until_ready`.",
            "- Env: `HexEnv.step_random()` (the sampler, the move, the win check, auto-reset"
            " of finished boards) in a Python loop. pgx: `pgx.make('hex')` under `jax.vmap`"
            " with pgx's own `auto_reset`, uniformly random legal actions, jitted; timed both"
            " as one jitted step per call (as ours is driven) and as a whole repeat in one"
            " jitted `fori_loop`. pgx's swap action is masked out, so both play Hex without"
            " the swap rule.",
            "- Search: `overseer_rlbench.mcts.search` from the empty board with the null"
            " network (`uniform_evaluator`: flat prior, value 0) against mctx's"
            " `muzero_policy` and `gumbel_muzero_policy` (16 considered actions, as ours)"
            " over pgx's Hex with a flat prior on the legal moves and value 0, jitted, at"
            f" the same batch and {plan.get('simulations', '?')} simulations.",
            "- Networks are fresh (untrained) presets: their speed does not depend on"
            " their weights. The learner step is training's loss (policy cross-entropy"
            " plus value squared error) with AdamW, replay sampling included.",
            "- Both sides run one after the other in fresh processes (ours first), never in"
            " one interpreter. Ours runs once per torch thread count of `run.py --threads`"
            " (on CPU by default: 1 thread for every measure, then torch's own count,"
            " shown as the number of threads, for env and search); XLA uses its own thread"
            " pool over every core. The load averages above say how busy the machine was.",
            *_threads_note(results),
        ]
    )


def _threads_note(results: dict[str, Any]) -> list[str]:
    counts = {row["threads"] for row in results["ours"]["rows"] if row["threads"]}
    if results["device"] != "cpu" or len(counts) < 2:
        return []
    return [
        "- On a small machine shared with other processes, torch's own thread count can be"
        " many times slower than one thread for these loops of small tensor operations:"
        " its OpenMP threads wait for each other at every operation, and a thread that"
        " another process has pushed off its core stalls them all. Compare the rows of"
        " each thread count at the same setting."
    ]


def _figure(row: dict[str, Any]) -> str:
    return f"{_si(row['median'])} [{_si(row['low'])}-{_si(row['high'])}] {row['unit']}"


def _threads(row: dict[str, Any]) -> str:
    count = row["threads"]
    if not count:
        return ""
    return f", {count} torch thread{'s' if count != 1 else ''}"


def _si(value: float) -> str:
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _algorithm(row: dict[str, Any]) -> str | None:
    if row["measure"] != "search_sims":
        return None
    return str(row["detail"].split(",")[0])


def _simulations(row: dict[str, Any]) -> str:
    if row["measure"] != "search_sims":
        return "sampler + auto-reset"
    return str(row["detail"].split(",")[1].strip())
