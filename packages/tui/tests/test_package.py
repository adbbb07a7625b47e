"""overseer-tui keeps the package contract of the workspace (see the root conftest.py)."""

from __future__ import annotations

from typing import Any


def test_package_contract(package_contract: Any, contract_check: str) -> None:
    entry_points = {"overseer.commands": {"tui": "overseer_tui.cli:main"}}
    contract = package_contract("overseer_tui", "overseer-tui", entry_points=entry_points)
    getattr(contract, f"check_{contract_check}")()
