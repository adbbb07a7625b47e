"""A script whose functions probe_voirfile.py probes."""

import probe_steps


def train_epoch(n):
    for step in range(n):
        loss = 1.0 / (step + 1)
    return loss


probe_steps.run(3)
train_epoch(2)
