"""The standard instruments of the overseer suite.

Installed, each adds its own flags to ``overseer --help`` (``--train-rate``,
``--early-stop-n 100``, ``--gpu-monitor`` ...) and acts only when they are given. Each is
also a function a voirfile can require, configured in code::

    from overseer_instruments import early_stop, rate


    def instrument_main(ov):
        ov.require(rate(interval=10), early_stop(key="step", n=100))

Units are the same everywhere: bytes, fractions from 0 to 1, watts, degrees Celsius and
seconds (see the package README).
"""

from __future__ import annotations

from typing import Any

from .errors import ConfigurationError, InstrumentsError

__version__ = "0.1.0"

__all__ = [
    "ConfigurationError",
    "InstrumentsError",
    "__version__",
    "compute_rate",
    "cpu_monitor",
    "dash_panel",
    "early_stop",
    "gpu_monitor",
    "io_monitor",
    "loading_rate",
    "log",
    "monitor_all",
    "net_monitor",
    "process_monitor",
    "progress",
    "rate",
    "script_options",
    "train_rate",
    "verify",
]

# Each instrument's module loads on first use: a voirfile that takes one pays for one.
# No module is named as a function it holds, so loading a module (as an entry point does)
# never hides the function of the same name.
_LAZY = {
    "compute_rate": ".rates",
    "cpu_monitor": ".cpu",
    "dash_panel": ".dash",
    "early_stop": ".stopping",
    "gpu_monitor": ".gpu",
    "io_monitor": ".io",
    "loading_rate": ".rates",
    "log": ".forwarding",
    "monitor_all": ".monitoring",
    "net_monitor": ".net",
    "process_monitor": ".process",
    "progress": ".progress_bar",
    "rate": ".rates",
    "script_options": ".options",
    "train_rate": ".rates",
    "verify": ".checklist",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    message = f"module 'overseer_instruments' has no attribute {name!r}"
    raise AttributeError(message)
