"""overseer-rlbench against pgx and mctx, side by side in one run; writes its RESULTS.md section.

    python benchmarks/rlbench/run.py                    # CPU: about 5 minutes on 2 cores
    python benchmarks/rlbench/run.py --quick            # a smoke run; RESULTS.md is left alone
    python benchmarks/rlbench/run.py --device cuda --peer-python python3   # on a GPU machine
    python benchmarks/rlbench/run.py --device cuda --no-peers              # ours only

Our side is ``python -m overseer_rlbench bench --json ...`` run by this interpreter (which
holds the workspace packages). The peers' side is ``peers.py``, run by a venv of its own,
``.bench/venv-rlbench-peers``, made from ``peer-requirements.txt`` (jax, pgx, mctx from
PyPI), or by ``--peer-python`` where those are installed already (a machine without a
network). The peers are measured at ours' batches and simulation count, on 11x11 boards
(pgx's Hex has no other size). Raw results go to ``.bench/rlbench-results-<device>.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/results.py, benchmarks/environments.py

from environments import ROOT, installed, prepare  # noqa: E402
from report import PEER_SIZE, placeholder, render, title  # noqa: E402
from results import RESULTS, machine, publish, write_section  # noqa: E402

BENCH_DIR = ROOT / ".bench"
PEER_VENV = BENCH_DIR / "venv-rlbench-peers"
PEER_REQUIREMENTS = HERE / "peer-requirements.txt"
WRITER = "benchmarks/rlbench/run.py"
REPORTED = ("jax", "jaxlib", "pgx", "mctx", "chex", "numpy")


class RunFailed(Exception):
    """One side's process failed; the message holds its last lines."""


def ours(options: argparse.Namespace, json_path: Path) -> dict[str, Any]:
    """Run ``rl bench`` in a fresh process of this interpreter per thread count; all rows.

    The first thread count runs every measure; the others only those the peers share
    (env and search), unless ``--measures`` names the measures.
    """
    merged: dict[str, Any] = {"rows": [], "notes": [], "commands": []}
    for index, threads in enumerate(options.threads):
        command = [sys.executable, "-m", "overseer_rlbench", "bench", "--device", options.device]
        command += ["--repeats", str(options.repeats), "--json", str(json_path)]
        if options.quick:
            command.append("--quick")
        if threads:
            command += ["--threads", str(threads)]
        measures = options.measures or (None if index == 0 else "env,search")
        for flag, value in [("measures", measures), *_passed(options)]:
            if value is not None:
                command += [f"--{flag.replace('_', '-')}", value]
        found = _run(command, os.environ.copy())
        merged["rows"] += found["rows"]
        merged["notes"] += [note for note in found["notes"] if note not in merged["notes"]]
        merged["commands"].append(_shown(command, json_path))
        merged.setdefault("plan", found["plan"])
        merged.setdefault("settings", found["settings"])
        merged["exit_status"] = max(merged.get("exit_status", 0), found["exit_status"])
    return merged


def _passed(options: argparse.Namespace) -> list[tuple[str, str | None]]:
    names = ("sizes", "batches", "search_batches", "simulations")
    return [(name, getattr(options, name)) for name in names]


def peers(options: argparse.Namespace, plan: dict[str, Any], json_path: Path) -> dict[str, Any]:
    """Run ``peers.py`` at ours' batches and simulations; its JSON, versions included."""
    python = options.peer_python or str(_peer_venv(options.python))
    command = [python, str(HERE / "peers.py"), "--sizes", str(PEER_SIZE)]
    command += ["--batches", _joined(plan["env_batches"])]
    command += ["--search-sizes", str(PEER_SIZE)]
    command += ["--search-batches", _joined(plan["search_batches"])]
    command += ["--simulations", str(plan["simulations"]), "--repeats", str(options.repeats)]
    command += ["--target-seconds", str(plan["target_seconds"]), "--json", str(json_path)]
    # JAX on the same kind of device as ours: never a GPU beside a CPU run.
    environment = {**os.environ, "JAX_PLATFORMS": "cpu" if options.device == "cpu" else "cuda"}
    found = _run(command, environment)
    found["command"] = _shown(command, json_path)
    if options.peer_python is None:
        found["versions"] = installed(PEER_VENV, REPORTED)[0]
    return found


def _peer_venv(base_python: str) -> Path:
    pins = [
        line.strip()
        for line in PEER_REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    installs = [["install", "--prefer-binary", "-r", str(PEER_REQUIREMENTS)]]
    prepare(PEER_VENV, base_python, " ".join(pins), installs)
    return PEER_VENV / "bin" / "python"


def _run(command: list[str], environment: dict[str, str]) -> dict[str, Any]:
    json_path = Path(command[command.index("--json") + 1])
    json_path.unlink(missing_ok=True)
    print(f"bench: {' '.join(command)}", file=sys.stderr, flush=True)
    done = subprocess.run(command, env=environment, check=False, stdout=subprocess.PIPE)
    if not json_path.is_file():
        raise RunFailed(f"{Path(command[1]).name} wrote no results (exit {done.returncode})")
    found: dict[str, Any] = json.loads(json_path.read_text())
    found["exit_status"] = done.returncode
    return found


def _shown(command: list[str], json_path: Path) -> str:
    """The command as a reader would type it, from the repository root."""
    shown = ["python" if i == 0 else part for i, part in enumerate(command)]
    shown = [
        str(Path(part).relative_to(ROOT)) if part.startswith(str(ROOT)) else part for part in shown
    ]
    return " ".join(shown).replace(str(json_path.relative_to(ROOT)), "FILE")


def _joined(values: list[int]) -> str:
    return ",".join(str(value) for value in values)


def main(argv: list[str] | None = None) -> int:
    """Run both sides; write the section; return 1 if a side failed, else 0."""
    options = _parse(argv)
    began = time.perf_counter()
    BENCH_DIR.mkdir(exist_ok=True)
    load = {"before": os.getloadavg()}
    failures: list[str] = []
    try:
        our = ours(options, BENCH_DIR / f"rlbench-ours-{options.device}.json")
    except RunFailed as error:
        print(f"bench: overseer-rlbench failed: {error}", file=sys.stderr)
        return 1
    load["after ours"] = os.getloadavg()
    their: dict[str, Any] | None = None
    if options.peers:
        try:
            their = peers(options, our["plan"], BENCH_DIR / f"rlbench-peers-{options.device}.json")
            failures += their.get("errors", [])
        except (RunFailed, subprocess.CalledProcessError) as error:
            failures.append(f"peers: {error}")
        load["after peers"] = os.getloadavg()
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": time.perf_counter() - began,
        "machine": machine(),
        "device": options.device,
        "load": load,
        "ours": our,
        "peers": their,
        "failures": failures,
    }
    raw = BENCH_DIR / f"rlbench-results-{options.device}.json"
    publish(title(options.device), WRITER, render(results), results, raw, write=options.write)
    if options.write and options.device == "cpu":
        _ensure_gpu_placeholder()
    return 1 if failures or our.get("exit_status") else 0


def _ensure_gpu_placeholder() -> None:
    """Give the GPU figures a section saying they are not yet measured, unless one exists."""
    text = RESULTS.read_text() if RESULTS.is_file() else ""
    if f"<!-- {title('cuda')}: begin" not in text:
        write_section(title("cuda"), WRITER, placeholder())


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--quick", action="store_true", help="a small smoke run, not written")
    parser.add_argument("--no-write", dest="write", action="store_false", default=None)
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="ours only")
    parser.add_argument("--python", default=sys.executable, help="the Python the venv uses")
    parser.add_argument("--peer-python", help="a Python with jax, pgx and mctx (no venv)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per figure")
    parser.add_argument("--sizes", help="our board sizes, e.g. 5,11 (default: the plan's)")
    parser.add_argument("--batches", help="env batches, e.g. 1024,4096 (default: the plan's)")
    parser.add_argument("--search-batches", help="null-network search batches")
    parser.add_argument("--simulations", help="simulations per search")
    parser.add_argument("--measures", help="our measure groups (default: all)")
    parser.add_argument(
        "--threads",
        help="torch thread counts of our side, 0 for torch's own (default: 1,0 on CPU, 0 else)",
    )
    options = parser.parse_args(argv)
    default = "1,0" if options.device == "cpu" else "0"
    options.threads = [int(part) for part in (options.threads or default).split(",")]
    if options.write is None:
        options.write = not options.quick
    return options


if __name__ == "__main__":
    sys.exit(main())
