"""The overseer suite in one install, and the ``suite`` command.

``suite NAME ARGS...`` runs the command ``NAME`` that an installed package declares as an
entry point of the group ``overseer.commands``; ``suite --help`` lists them all::

    $ suite run train.py --lr 0.1
    $ suite --help

:func:`main` is that command line, callable from Python:

    >>> from overseer_suite import main
    >>> main(["--version"])  # doctest: +SKIP
    overseer-core 0.1.0
    ...
    0
"""

from .dispatch import main

__version__ = "0.1.0"

__all__ = ["__version__", "main"]
