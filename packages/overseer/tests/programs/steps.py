"""Gives a step at a time until it is stopped."""

from overseer import give

try:
    for step in range(1000):
        give(step=step)
finally:
    print("finally ran")
