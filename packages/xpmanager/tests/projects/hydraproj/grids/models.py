"""Both models at two learning rates: group choices and values, as hydra overrides."""

from overseer_xpmanager import Explorer


@Explorer
def explorer(launcher):
    for model in ["small", "large"]:
        for lr in [0.1, 0.01]:
            launcher({"model": model, "lr": lr})
