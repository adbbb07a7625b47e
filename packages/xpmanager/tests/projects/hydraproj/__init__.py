"""A Dora-style hydra project: ``python -m hydraproj.train model=large lr=0.01``."""
