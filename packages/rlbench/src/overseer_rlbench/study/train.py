"""One training run of the scaling study, as an XP: ``suite xp -P overseer_rlbench.study run``.

Its arguments are the signature of the run; ``--device`` and ``--threads`` are left out of
it, so a run made on CPU is the same XP on a GPU, however many threads it had. It trains
into the XP's folder (checkpoints there; a requeued or interrupted run resumes from the
latest) and pushes its metrics to the XP.
"""

from __future__ import annotations

import argparse

from overseer_rlbench.network import PRESETS
from overseer_xpmanager import argparse_main, get_xp


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="One run of the rlbench scaling study.")
    parser.add_argument("--size", type=int, default=4, help="board size")
    parser.add_argument("--preset", default="xs", choices=sorted(PRESETS), help="network")
    parser.add_argument("--samples", type=int, default=32_000, help="learner samples (budget)")
    parser.add_argument("--simulations", type=int, default=16, help="search per move")
    parser.add_argument("--n_envs", type=int, default=128, help="self-play boards")
    parser.add_argument("--algorithm", default="puct", choices=("puct", "regularized", "gumbel"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="torch device (not in the signature)")
    parser.add_argument(
        "--checkpoint_minutes", type=float, default=1.0, help="not in the signature"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads on CPU (0: torch's choice)"
    )
    return parser


@argparse_main(
    dir="./rl-study", parser=_parser(), exclude=["device", "checkpoint_minutes", "threads"]
)
def main() -> None:
    """Train the run of this XP's arguments into its folder."""
    from overseer_rlbench.train import TrainConfig, train

    xp = get_xp()
    cfg = xp.cfg
    if cfg.threads > 0:
        import torch

        torch.set_num_threads(cfg.threads)
    config = TrainConfig(
        size=cfg.size,
        preset=cfg.preset,
        max_samples=cfg.samples,
        simulations=cfg.simulations,
        n_envs=cfg.n_envs,
        algorithm=cfg.algorithm,
        seed=cfg.seed,
        device=cfg.device,
        checkpoint_minutes=cfg.checkpoint_minutes,
        folder=xp.folder,
    )
    summary = train(config)
    print(f"trained: {summary.describe()}", flush=True)


if __name__ == "__main__":
    main()
