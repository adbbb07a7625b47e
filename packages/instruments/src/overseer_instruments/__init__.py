"""The standard instruments of the overseer suite.

Logging, rates, early stop, CPU and GPU monitors as `overseer.instruments` entry points.

This release holds the package frame only: its metadata, its version and its tests.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
