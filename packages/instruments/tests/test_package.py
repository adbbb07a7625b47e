"""overseer-instruments keeps the package contract of the workspace (see the root conftest.py)."""

from __future__ import annotations

from typing import Any

INSTRUMENTS = {
    "argparse": "overseer_instruments.options:command_line",
    "cpu_monitor": "overseer_instruments.cpu:command_line",
    "dash_panel": "overseer_instruments.dash:command_line",
    "early_stop": "overseer_instruments.stopping:command_line",
    "gpu_monitor": "overseer_instruments.gpu:command_line",
    "io_monitor": "overseer_instruments.io:command_line",
    "log": "overseer_instruments.forwarding:command_line",
    "monitor_all": "overseer_instruments.monitoring:command_line",
    "net_monitor": "overseer_instruments.net:command_line",
    "process_monitor": "overseer_instruments.process:command_line",
    "progress": "overseer_instruments.progress_bar:command_line",
    "rate": "overseer_instruments.rates:command_line",
    "verify": "overseer_instruments.checklist:command_line",
}


def test_package_contract(package_contract: Any, contract_check: str) -> None:
    contract = package_contract(
        "overseer_instruments",
        "overseer-instruments",
        entry_points={"overseer.instruments": INSTRUMENTS},
    )
    getattr(contract, f"check_{contract_check}")()
