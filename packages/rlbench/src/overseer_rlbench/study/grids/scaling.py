"""The scaling study's grid: one XP per board size x preset x budget of the study's spec."""

from __future__ import annotations

from typing import Any

from overseer_rlbench.study.spec import StudySpec, budget_flags
from overseer_xpmanager import Explorer


class ScalingExplorer(Explorer):
    """Shows each run's latest losses, games and compute in ``suite xp grid``."""

    def get_grid_metrics(self) -> list[Any]:
        return ["policy_loss", "value_loss", "selfplay_games", ("train_flops", ".3g")]


@ScalingExplorer
def explorer(launcher: Any) -> None:
    for run in StudySpec.from_environment().runs():
        # The overseer's early stop ends each run at its budget of learner samples.
        launcher.slurm(overseer_flags=budget_flags(run["samples"]))(**run)
