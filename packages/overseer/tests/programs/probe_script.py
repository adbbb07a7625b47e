"""Probes its own functions with //NAME selectors: //NAME is a function of __main__."""

import json

from overseer.errors import ProbeError
from overseer.probe import ProbeSet


def train_epoch(n):
    for step in range(n):
        loss = 1.0 / (step + 1)
    return loss


def main():
    with ProbeSet() as probes:
        losses = probes.probe("//train_epoch > loss")["loss"].accum()
        ends = probes.probe("//train_epoch(n as epochs) > #endloop_step as done").accum()
        train_epoch(3)
        try:
            probes.probe("//train_epock > loss")
        except ProbeError as error:
            message = str(error)
    print(json.dumps({"losses": losses, "ends": ends, "error": message}))


if __name__ == "__main__":
    main()
