"""A terminal monitor of runs, grids, plots, GPUs and logs.

Built on Textual; reads the XP store and live event streams.

This release holds the package frame only: its metadata, its version and its tests.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
