"""A script that knows nothing of the overseer: the voirfile probes its loss."""

import sys


def train_epoch(epoch):
    loss = 10.0 / (epoch + 1) + epoch
    return loss


def main(epochs):
    for epoch in range(epochs):
        train_epoch(epoch)


if __name__ == "__main__":
    main(int(sys.argv[1]))
