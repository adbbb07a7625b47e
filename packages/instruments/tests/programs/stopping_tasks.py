"""Two tasks give step records: train at every step, valid at every other one."""

from overseer import give

last = None
try:
    for step in range(100):
        last = ("train", step)
        give(task="train", step=step)
        if step % 2 == 0:
            last = ("valid", step // 2)
            give(task="valid", step=step // 2)
        give(epoch=step // 10)
finally:
    print(f"last record given: {last[0]} {last[1]}")
