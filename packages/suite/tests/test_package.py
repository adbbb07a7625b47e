"""overseer-suite keeps the package contract of the workspace (see the root conftest.py)."""

from __future__ import annotations

from typing import Any


def test_package_contract(package_contract: Any, contract_check: str) -> None:
    entry_points: dict[str, dict[str, str]] = {
        "console_scripts": {"suite": "overseer_suite.dispatch:main"}
    }
    contract = package_contract("overseer_suite", "overseer-suite", entry_points=entry_points)
    getattr(contract, f"check_{contract_check}")()
