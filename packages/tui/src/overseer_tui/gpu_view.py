"""The GPU panel: load history, memory, power, temperature and who uses each device.

One block per device: a line of readings with a sparkline of the latest loads and a memory
bar, then a line naming the processes on it and the runs they belong to::

    gpus = GpuView(id="gpu")
    history.add(readings_from_gpudata(run.gpus), clock.now())
    gpus.update(history, source.runs.runs)

    0 NVIDIA H200  load  97% ▃▅▇██▇  mem ▕██████░░▏ 61.2GiB/80.0GiB  512W  64°C
      pid 4242 12.1GiB calm-river-3 · pid 977 1.0GiB ?
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from .format import format_bytes, format_percent
from .gpu import GpuHistory, GpuReading, runs_of_processes
from .model import Run

__all__ = ["SPARK_CHARACTERS", "GpuView", "bar", "sparkline"]

SPARK_CHARACTERS = "▁▂▃▄▅▆▇█"
SPARK_LENGTH = 60
"""The most loads a sparkline shows (fewer when the panel is narrow)."""
BAR_CELLS = 8
HOT_CELSIUS = 85


def sparkline(values: Sequence[float], width: int, low: float = 0.0, high: float = 1.0) -> str:
    """The last ``width`` values as bar characters, ``low`` -> ``▁`` and ``high`` -> ``█``.

    Values outside [low, high] are clamped; NaN shows as a blank.

    Example:
        >>> sparkline([0.0, 0.5, 1.0], 10)
        '▁▅█'
    """
    top = len(SPARK_CHARACTERS) - 1
    span = high - low if high > low else 1.0
    characters = []
    for value in values[-width:] if width > 0 else ():
        if value != value:  # NaN
            characters.append(" ")
            continue
        fraction = min(1.0, max(0.0, (value - low) / span))
        characters.append(SPARK_CHARACTERS[round(fraction * top)])
    return "".join(characters)


def bar(fraction: float, cells: int = BAR_CELLS) -> str:
    """A gauge ``▕████░░░░▏`` filled to ``fraction`` (clamped to [0, 1])."""
    full = round(min(1.0, max(0.0, fraction)) * cells)
    return "▕" + "█" * full + "░" * (cells - full) + "▏"


@dataclass(frozen=True)
class _Device:
    reading: GpuReading
    loads: list[float]
    processes: list[tuple[int, float | None, str | None]]  # pid, bytes, run name


class GpuView(Widget):
    """Every GPU the runs (or this machine) report; see the module docstring."""

    DEFAULT_CSS = """
    GpuView { height: auto; max-height: 50%; background: $surface; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._devices: list[_Device] = []

    @property
    def device_count(self) -> int:
        """How many devices the panel shows."""
        return len(self._devices)

    def update(self, history: GpuHistory, runs: Mapping[str, Run]) -> None:
        """Show the latest readings of ``history``, processes named after their ``runs``."""
        devices = []
        for key in history.devices():
            reading = history.latest(key)
            if reading is None:
                continue
            names = dict(runs_of_processes(reading, runs))
            processes = [(pid, used, names.get(pid)) for pid, used in reading.processes]
            devices.append(_Device(reading, history.loads(key)[-SPARK_LENGTH:], processes))
        self._devices = devices
        self.refresh(layout=True)

    def render(self) -> Text:
        if not self._devices:
            return Text("no GPU", style="dim")
        width = max(20, self.size.width)
        lines: list[Text] = []
        for device in self._devices:
            lines.append(self._readings_line(device, width))
            if device.processes:
                lines.append(self._processes_line(device))
        return Text("\n").join(lines)

    def _readings_line(self, device: _Device, width: int) -> Text:
        reading = device.reading
        line = Text.assemble((f"{reading.key} ", "bold"), (reading.name, "bold"))
        line.append(f"  load {format_percent(reading.load):>4} ")
        tail = self._memory_and_sensors(reading)
        room = width - line.cell_len - tail.cell_len - 1
        line.append(sparkline(device.loads, min(SPARK_LENGTH, max(0, room))), "green")
        line.append(" ")
        return line + tail

    def _memory_and_sensors(self, reading: GpuReading) -> Text:
        tail = Text(" mem ")
        used, total = reading.memory_used, reading.memory_total
        if used is not None and total:
            tail.append(bar(used / total), "cyan")
            tail.append(f" {format_bytes(used)}/{format_bytes(total)}")
        else:
            tail.append(format_bytes(used))
        if reading.power is not None:
            tail.append(f"  {reading.power:.0f}W")
        if reading.temperature is not None:
            hot = reading.temperature >= HOT_CELSIUS
            tail.append(f"  {reading.temperature:.0f}°C", "bold red" if hot else "")
        return tail

    def _processes_line(self, device: _Device) -> Text:
        line = Text("  ")
        for index, (pid, used, name) in enumerate(device.processes):
            if index:
                line.append(" · ", "dim")
            line.append(f"pid {pid} {format_bytes(used)} ")
            line.append(name or "?", "bold" if name else "dim")
        return line
