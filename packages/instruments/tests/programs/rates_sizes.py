"""Steps of one second each (given as delta), with batches of every shape the rate reads."""

from overseer import give


class Tensor:
    """Stands for a tensor or an array: only its shape is read."""

    def __init__(self, *shape):
        self.shape = shape


give(delta=1.0, batch=Tensor(32, 3, 8, 8))  # shape[0]
give(delta=1.0, batch=(Tensor(16, 10), Tensor(16)))  # (inputs, targets)
give(delta=1.0, batch={"input_ids": Tensor(4, 128), "mask": Tensor(4, 128)})
give(delta=1.0, batch=[1, 2, 3])  # len()
give(delta=1.0, batch=[1, 2, 3], batch_size=7)  # voir's batch_size key wins
give(delta=1.0, batch=Tensor(5, 2), task="eval")  # a task of its own
give(delta=1.0, note="no batch")  # the configured batch size, if any
print("done")
