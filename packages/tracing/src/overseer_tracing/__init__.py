"""Follow a few data items through a pipeline.

Decorators and shims that record the calls of a data pipeline's stages.

This release holds the package frame only: its metadata, its version and its tests.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
