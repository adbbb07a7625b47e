"""A tiny training loop that gives its loss, as a user's script would."""

import sys

from overseer import give


def train_epoch(epoch):
    loss = 1.0 / (epoch + 1)
    give(loss=loss, epoch=epoch)
    return loss


def main():
    print("argv:", sys.argv, "name:", __name__)
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    for epoch in range(epochs):
        train_epoch(epoch)


if __name__ == "__main__":
    main()
    sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
