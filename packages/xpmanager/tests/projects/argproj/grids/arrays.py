"""Two seeds as one job array, and one XP alone with two GPUs."""

from overseer_xpmanager import Explorer


class LossExplorer(Explorer):
    def get_grid_metrics(self):
        return ["epoch", "loss"]


@LossExplorer
def explorer(launcher):
    launcher.bind_(epochs=2)
    with launcher.job_array():
        for lr in [0.2, 0.3]:
            launcher(lr=lr)
    launcher.slurm(gpus=2)(lr=0.4)
