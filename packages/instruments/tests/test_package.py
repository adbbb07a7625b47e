"""overseer-instruments keeps the package contract of the workspace (the root conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def contract(package_contract: Any) -> Any:
    """What overseer-instruments promises: its import, version, ``__all__`` and entry points."""
    return package_contract(
        import_name="overseer_instruments",
        dist="overseer-instruments",
        # Heavy modules load inside the functions that need them, never at import.
        forbidden_imports=(
            "hydra",
            "numpy",
            "omegaconf",
            "pynvml",
            "rich",
            "submitit",
            "textual",
            "torch",
        ),
        # None yet: a new entry point is declared here as well as in pyproject.toml.
        entry_points={},
    )


def test_it_imports_alone_without_heavy_modules(contract: Any) -> None:
    contract.check_imports_alone()


def test_its_version_is_the_installed_one(contract: Any) -> None:
    contract.check_version()


def test_its_all_is_sorted_and_complete(contract: Any) -> None:
    contract.check_all()


def test_its_entry_points_are_declared_and_load(contract: Any) -> None:
    contract.check_entry_points()
