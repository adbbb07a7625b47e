"""overseer-tracing keeps the package contract of the workspace (see the root conftest.py)."""

from __future__ import annotations

from typing import Any


def test_package_contract(package_contract: Any, contract_check: str) -> None:
    # A new entry point is declared here and in pyproject.toml.
    entry_points = {
        "overseer.commands": {"trace": "overseer_tracing.cli:main"},
        "overseer.instruments": {"trace": "overseer_tracing.instrument:command_line"},
    }
    contract = package_contract("overseer_tracing", "overseer-tracing", entry_points=entry_points)
    getattr(contract, f"check_{contract_check}")()
