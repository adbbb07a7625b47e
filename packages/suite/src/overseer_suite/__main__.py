"""``python -m overseer_suite ARGS...`` runs ``suite ARGS...``."""

import sys

from .dispatch import main

if __name__ == "__main__":
    sys.exit(main())
