"""A training loop that gives its loss, accuracy, a batch and its epoch."""

from overseer import give

for epoch in range(3):
    give(
        loss=1.0 / (epoch + 1),
        acc_top1=0.5 + epoch / 10,
        batch=[1, 2, 3],
        epoch=epoch,
        task="train",
    )
give(note="done")
print("trained")
