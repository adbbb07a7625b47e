"""A hydra training project in the Dora style: ``python -m hydraproj.train model=large``."""
