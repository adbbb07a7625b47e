"""What a trace holds: :class:`TraceResult`, of :class:`TraceStage`, of :class:`TraceCall`.

A recorder (see :mod:`overseer_tracing.record`) builds them; a user reads them by number,
by name or as attributes, prints them, saves them and compares two of them::

    result = get_trace()
    result.collate[0]  # the first call of the collate stage
    result.evaluation.forward  # the calls of ``forward`` (or the call, if only one)
    result.diff(previous_result)  # what changed between two runs, by fingerprint
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from . import export, render

if TYPE_CHECKING:
    from .export import TraceDiff
    from .values import Summary

__all__ = [
    "DEFAULT_STAGES",
    "Status",
    "TraceCall",
    "TraceResult",
    "TraceStage",
]

Status = Literal["ok", "error", "capture_error", "running"]

# hyrax's pipeline order; stages a user names are appended in the order first seen.
DEFAULT_STAGES = ("dataset_getter", "resolve_data", "collate", "prepare_inputs", "evaluation")


@dataclass(slots=True, eq=False)
class TraceCall:
    """One recorded call of a traced function.

    ``status`` is ``"running"`` in a snapshot taken before the call returned, and
    ``"capture_error"`` when the call ran but its arguments or result could not be summarised
    (``exception`` then holds ``("CaptureError", why)``). ``start_ns`` counts from the start
    of the recording; ``parent`` is the ``index`` of the enclosing traced call, if any.
    """

    stage: str
    name: str
    display_name: str
    params: dict[str, Summary]
    result: Summary | None
    status: Status
    exception: tuple[str, str] | None
    duration_ns: int
    start_ns: int
    thread: str
    parent: int | None
    index: int

    def __repr__(self) -> str:
        return f"<TraceCall {render.call_summary_line(self)}>"

    def __str__(self) -> str:
        return "\n".join(render.call_lines(self))


class TraceStage:
    """The calls of one stage, in order: ``stage[0]``, ``stage["fn"]``, ``stage.fn``.

    A name gives the calls of that function (its qualified name, its last part, or its
    display name): a list, or the call itself when there was one. ``dropped`` counts the
    calls that the per-stage cap left out.

    Examples:
        >>> stage = TraceStage("collate", [])
        >>> len(stage), stage.dropped
        (0, 0)
    """

    def __init__(self, name: str, calls: Iterable[TraceCall], dropped: int = 0) -> None:
        self.name = name
        self.calls: tuple[TraceCall, ...] = tuple(calls)
        self.dropped = dropped
        self._functions: dict[str, list[TraceCall]] | None = None

    @property
    def total(self) -> int:
        """Calls made in this stage, kept or dropped."""
        return len(self.calls) + self.dropped

    def functions(self) -> dict[str, list[TraceCall]]:
        """Every name a call answers to, mapped to the calls of that function."""
        if self._functions is None:
            self._functions = {}
            for call in self.calls:
                short = call.name.rsplit(".", 1)[-1]
                for key in dict.fromkeys((call.name, short, call.display_name)):
                    self._functions.setdefault(key, []).append(call)
        return self._functions

    @overload
    def __getitem__(self, key: int) -> TraceCall: ...
    @overload
    def __getitem__(self, key: slice) -> list[TraceCall]: ...
    @overload
    def __getitem__(self, key: str) -> TraceCall | list[TraceCall]: ...
    def __getitem__(self, key: int | slice | str) -> TraceCall | list[TraceCall]:
        if isinstance(key, slice):
            return list(self.calls[key])
        if not isinstance(key, str):
            return self.calls[key]
        calls = self.functions().get(key)
        if calls is None:
            message = f"stage {self.name!r} has no call of {key!r}; it has: {self._names()}"
            raise KeyError(message)
        return calls[0] if len(calls) == 1 else list(calls)

    def __getattr__(self, name: str) -> TraceCall | list[TraceCall]:
        # Private names and a half-built object (during copy or unpickling) must not recurse.
        if name.startswith("_") or "calls" not in vars(self):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(error.args[0]) from None

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *filter(str.isidentifier, self.functions())})

    def __len__(self) -> int:
        return len(self.calls)

    def __iter__(self) -> Iterator[TraceCall]:
        return iter(self.calls)

    def __str__(self) -> str:
        return render.render_stage_text(self)

    __repr__ = __str__

    def _names(self) -> str:
        return ", ".join(dict.fromkeys(call.name for call in self.calls)) or "no calls"


class TraceResult:
    """A finished trace: its stages in pipeline order, ``result["collate"]`` or ``result.collate``.

    It prints in under 200 lines whatever its size; :meth:`to_json` and
    :meth:`to_chrome_trace` save all of it.

    Examples:
        >>> result = TraceResult([TraceStage("collate", [])])
        >>> [stage.name for stage in result]
        ['collate']
    """

    def __init__(self, stages: Iterable[TraceStage], *, started_at: float = 0.0) -> None:
        self.stages: dict[str, TraceStage] = {stage.name: stage for stage in stages}
        self.started_at = started_at  # time.time() when the recording began

    @property
    def calls(self) -> list[TraceCall]:
        """Every kept call of every stage, in the order they began."""
        return sorted((c for s in self.stages.values() for c in s.calls), key=_by_index)

    @property
    def dropped(self) -> int:
        """Calls left out by the per-stage cap, all stages together."""
        return sum(stage.dropped for stage in self.stages.values())

    def call(self, index: int) -> TraceCall:
        """The call whose ``index`` is given (a ``parent`` link, say); KeyError if dropped."""
        for stage in self.stages.values():
            for call in stage.calls:
                if call.index == index:
                    return call
        message = f"no kept call has index {index} (the cap drops calls past its limit)"
        raise KeyError(message)

    def diff(self, other: TraceResult) -> TraceDiff:
        """The calls whose function, arguments, result or status differ in ``other``."""
        return export.diff_traces(self, other)

    def to_json(self, path: str | Path | None = None) -> str:
        """The whole trace as JSON text, also written to ``path`` when given."""
        return export.write_json(self, path)

    def to_chrome_trace(self, path: str | Path) -> Path:
        """Write a Chrome trace event file (opens in Perfetto, chrome://tracing)."""
        return export.write_chrome_trace(self, path)

    def __getitem__(self, key: str | int) -> TraceStage:
        if isinstance(key, int):
            return list(self.stages.values())[key]
        stage = self.stages.get(key)
        if stage is None:
            known = ", ".join(self.stages) or "none"
            message = f"no call was recorded in stage {key!r}; recorded stages: {known}"
            raise KeyError(message)
        return stage

    def __getattr__(self, name: str) -> TraceStage:
        if name.startswith("_") or "stages" not in vars(self):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(error.args[0]) from None

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *filter(str.isidentifier, self.stages)})

    def __len__(self) -> int:
        return len(self.stages)

    def __iter__(self) -> Iterator[TraceStage]:
        return iter(self.stages.values())

    def __contains__(self, name: object) -> bool:
        return name in self.stages

    def __str__(self) -> str:
        return render.render_text(self)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return render.render_html(self)

    def __rich__(self) -> object:
        return render.render_rich(self)


def _by_index(call: TraceCall) -> int:
    return call.index
