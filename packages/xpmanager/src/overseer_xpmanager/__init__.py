"""Experiments named by a signature of their arguments.

Grids, local runs and Slurm through submitit.

This release holds the package frame only: its metadata, its version and its tests.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
