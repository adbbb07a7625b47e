"""Three XPs: two learning rates, and a fast one."""

from overseer_xpmanager import Explorer


@Explorer
def explorer(launcher):
    launcher.bind_(epochs=2)
    for lr in [0.1, 0.01]:
        launcher(lr=lr, fast=False)
    launcher(lr=0.001, fast=True)
