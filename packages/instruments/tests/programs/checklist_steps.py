"""A script that gives only its loss, whose loop counts steps and takes each batch inside."""

import time

from overseer import give


def batches():
    index = 0
    while True:
        time.sleep(0.001)
        yield [index] * 4, [1.0] * 4
        index += 1


def train(steps):
    iterator = batches()
    for step in range(steps):
        inputs, targets = next(iterator)
        loss = (sum(inputs) / len(inputs) - targets[0]) ** 2
        time.sleep(0.002)
        give(loss=loss)
        if step % 20 == 19:
            print(f"step {step + 1}: loss {loss:.2f}")


train(60)
