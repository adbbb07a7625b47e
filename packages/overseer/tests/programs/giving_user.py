"""Uses the giving library's own give, as many voir users do."""

from giving import give

for value in range(3):
    give(value=value)
