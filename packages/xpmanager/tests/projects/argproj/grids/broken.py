"""A grid whose explore function raises after its first launch: nothing may be scheduled."""

from overseer_xpmanager import Explorer


@Explorer
def explorer(launcher):
    launcher(lr=0.5)
    raise ValueError("the learning rates of this grid are not decided yet")
