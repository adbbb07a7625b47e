"""AlphaZero on Hex, batched on one device.

A reinforcement-learning benchmark and a scaling study.

This release holds the package frame only: its metadata, its version and its tests.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
