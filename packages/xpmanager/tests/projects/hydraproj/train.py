"""A tiny hydra training loop; hydra.job.chdir makes the XP folder the working directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from overseer_xpmanager import get_xp, hydra_main


@hydra_main(config_path="conf", config_name="config")
def main(cfg: Any) -> None:
    from hydra.core.hydra_config import HydraConfig

    xp = get_xp()
    Path("cwd.txt").write_text(os.getcwd())
    Path("output_dir.txt").write_text(HydraConfig.get().runtime.output_dir)
    for epoch in range(cfg.epochs):
        loss = cfg.lr * cfg.model.dim / (epoch + 1)
        xp.link.push_metrics({"epoch": epoch, "loss": loss})
        print(f"epoch {epoch} loss {loss:.4f}", flush=True)
    print(f"done {xp.sig} {cfg.model.name}", flush=True)


if __name__ == "__main__":
    main()
