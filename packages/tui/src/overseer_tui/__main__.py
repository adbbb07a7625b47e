"""``python -m overseer_tui``: the same as ``suite tui``."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
