"""overseer-core keeps the package contract of the workspace (see the root conftest.py)."""

from __future__ import annotations

from typing import Any


def test_package_contract(package_contract: Any, contract_check: str) -> None:
    entry_points: dict[str, dict[str, str]] = {
        "console_scripts": {"overseer": "overseer.cli:main"},
        "overseer.commands": {"run": "overseer.cli:command"},
    }
    contract = package_contract("overseer", "overseer-core", entry_points=entry_points)
    getattr(contract, f"check_{contract_check}")()
