"""What a grid file writes: an :class:`Explorer` around a function that calls a :class:`Launcher`.

A grid file ``myproject/grids/sweep.py`` defines ``explorer``; each call of the launcher asks
for one XP, with the arguments bound so far plus the call's own::

    from overseer_xpmanager import Explorer


    @Explorer
    def explorer(launcher):
        launcher.slurm_(gpus=2, partition="debug")
        launcher.bind_({"epochs": 4})
        for lr in [0.1, 0.01]:
            sub = launcher.bind(lr=lr)
            sub()
            sub(batch_size=64)
        with launcher.job_array():
            for seed in range(3):
                launcher(seed=seed)

Dicts and keyword arguments merge (a later value of a key wins); strings (``"--fast"``,
``"model=small"``) are passed through as command-line items. Dora's grid files work as they
are, once ``from dora import Explorer`` reads ``from overseer_xpmanager import Explorer``;
subclasses that choose the metrics shown by ``suite xp grid`` work too::

    class MyExplorer(Explorer):
        def get_grid_metrics(self):
            return ["train.loss", ("valid.acc", ".2%")]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import ArgumentError
from .signature import flatten

__all__ = ["SLURM_SETTINGS", "ArgvRenderer", "Explorer", "Launch", "Launcher"]

#: The settings ``launcher.slurm(...)`` accepts: the executors' (see
#: :data:`overseer_xpmanager.executor_slurm.SETTINGS`).
SLURM_SETTINGS = (
    "account",
    "array",
    "array_parallelism",
    "comment",
    "constraint",
    "cpus_per_gpu",
    "cpus_per_task",
    "cwd",
    "exclude",
    "gpus",
    "max_num_timeout",
    "mem",
    "mem_per_gpu",
    "nprocs",
    "one_task_per_node",
    "overseer_flags",
    "partition",
    "qos",
    "setup",
    "slurm_additional_parameters",
    "srun_args",
    "time",
)
_KNOWN_SETTINGS = frozenset(SLURM_SETTINGS)


class ArgvRenderer(Protocol):
    """What a launcher needs from the project's main: turning launcher calls into argv."""

    def argv_for(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> list[str]:
        """The command-line items for raw ``args`` and keyed ``kwargs``."""


@dataclass
class Launch:
    """One call of a launcher: the XP's command line, its job settings and its job array.

    Attributes:
        argv: the command-line items the main parses.
        settings: the job settings (gpus, partition, ...) the call was made with.
        array: the index of the ``job_array()`` block it was made in, None outside one.
    """

    argv: list[str]
    settings: dict[str, Any]
    array: int | None = None


@dataclass
class _Launches:
    """What a launcher and all its copies share: the calls so far, the open job array."""

    items: list[Launch] = field(default_factory=list)
    arrays: int = 0
    array: int | None = None
    array_settings: dict[str, Any] = field(default_factory=dict)


class Launcher:
    """Asks for XPs: each call records one, with the arguments and settings bound so far.

    Args:
        main: the project's main, which turns arguments into a command line.
        settings: the job settings every launch starts from (the command line's), taken
            as they are.

    Example:
        >>> launcher = Launcher(main)  # doctest: +SKIP
        >>> launcher.bind(lr=0.1)(epochs=2)  # doctest: +SKIP
        >>> launcher.launches[0].argv  # doctest: +SKIP
        ['--lr=0.1', '--epochs=2']
    """

    def __init__(self, main: ArgvRenderer, settings: Mapping[str, Any] | None = None) -> None:
        self._main = main
        self._shared = _Launches()
        self._args: list[str] = []
        self._kwargs: dict[str, Any] = {}
        self._settings: dict[str, Any] = dict(settings or {})

    @property
    def launches(self) -> list[Launch]:
        """Every call recorded by this launcher and its copies, in order."""
        return self._shared.items

    @property
    def settings(self) -> dict[str, Any]:
        """A copy of the job settings bound so far."""
        return dict(self._settings)

    def _copy(self) -> Launcher:
        new = Launcher.__new__(Launcher)
        new._main = self._main
        new._shared = self._shared
        new._args = list(self._args)
        new._kwargs = dict(self._kwargs)
        new._settings = dict(self._settings)
        return new

    def bind(self, *args: Any, **kwargs: Any) -> Launcher:
        """A copy with more arguments bound; this launcher is unchanged.

        Args:
            *args: strings (passed as they are), dicts (merged), or lists of those.
            **kwargs: merged like a dict, after ``args``.

        Raises:
            ArgumentError: an argument that is neither a string, a dict nor a list.

        Example:
            >>> small = launcher.bind({"model": "small"}, "--fast", lr=0.1)  # doctest: +SKIP
        """
        return self._copy().bind_(*args, **kwargs)

    def bind_(self, *args: Any, **kwargs: Any) -> Launcher:
        """Bind more arguments to this launcher itself; returns it (see :meth:`bind`)."""
        for arg in args:
            self._add(arg)
        self._kwargs.update(kwargs)
        return self

    def _add(self, arg: Any) -> None:
        if isinstance(arg, str):
            self._args.append(arg)
        elif isinstance(arg, Mapping):
            self._kwargs.update(arg)
        elif isinstance(arg, (list, tuple)):
            for part in arg:
                self._add(part)
        else:
            message = (
                f"launcher arguments are strings, dicts or lists of them, not "
                f"{type(arg).__name__} {arg!r}: write {{'name': value}} or 'name=value'"
            )
            raise ArgumentError(message)

    def slurm(self, **settings: Any) -> Launcher:
        """A copy with more job settings; this launcher is unchanged.

        Raises:
            ArgumentError: a setting name that is not one of :data:`SLURM_SETTINGS`.

        Example:
            >>> big = launcher.slurm(gpus=8, partition="learnlab")  # doctest: +SKIP
        """
        return self._copy().slurm_(**settings)

    def slurm_(self, **settings: Any) -> Launcher:
        """Set job settings on this launcher itself; returns it (see :meth:`slurm`).

        A setting replaces the value bound before, except ``overseer_flags``: those add to
        the flags bound so far (the command line's first), so that a grid's flags for one
        run come on top of the instruments the whole grid runs with.

        Example:
            >>> launcher.slurm_(overseer_flags=["--early-stop-at=100"])  # doctest: +SKIP
        """
        unknown = sorted(settings.keys() - _KNOWN_SETTINGS)
        if unknown:
            message = (
                f"unknown job setting {', '.join(unknown)} in launcher.slurm(): the settings "
                f"are {', '.join(SLURM_SETTINGS)}"
            )
            raise ArgumentError(message)
        if "overseer_flags" in settings and "overseer_flags" in self._settings:
            flags = [*self._settings["overseer_flags"], *settings["overseer_flags"]]
            settings = {**settings, "overseer_flags": flags}
        self._settings.update(settings)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        """Ask for one XP: the bound arguments plus these (as :meth:`bind` takes them).

        Raises:
            ArgumentError: inside a ``job_array()`` block, settings that differ from the
                block's.
        """
        launcher = self.bind(*args, **kwargs) if args or kwargs else self
        shared = self._shared
        if shared.array is not None and launcher._settings != shared.array_settings:
            message = (
                f"job settings {launcher._settings} differ from those of the enclosing "
                f"job_array() block ({shared.array_settings}): one array runs with one set of "
                "settings; open a separate job_array() for these"
            )
            raise ArgumentError(message)
        argv = self._main.argv_for(launcher._args, launcher._kwargs)
        shared.items.append(Launch(argv, dict(launcher._settings), shared.array))

    @contextmanager
    def job_array(self) -> Iterator[None]:
        """Launch the XPs asked for inside the block as one job array, with these settings.

        Raises:
            ArgumentError: the block is opened inside another one.
        """
        shared = self._shared
        if shared.array is not None:
            message = "job_array() blocks cannot be nested: close the first one before the next"
            raise ArgumentError(message)
        shared.array, shared.array_settings = shared.arrays, dict(self._settings)
        shared.arrays += 1
        try:
            yield
        finally:
            shared.array, shared.array_settings = None, {}


Explore = Callable[[Launcher], None]


class Explorer:
    """A grid: the function that calls the launcher, and how its XPs' metrics are shown.

    Use it as a decorator, or subclass it to choose the metrics and decorate with the subclass.

    Example:
        >>> class Sweep(Explorer):
        ...     def get_grid_metrics(self):
        ...         return ["train.loss", ("valid.acc", ".2%")]
        >>> @Sweep
        ... def explorer(launcher):
        ...     launcher(lr=0.1)
        >>> explorer.get_grid_metrics()
        ['train.loss', ('valid.acc', '.2%')]
    """

    def __init__(self, explore: Explore) -> None:
        self.explore = explore

    def __call__(self, launcher: Launcher) -> None:
        """Run the grid's function: each launcher call asks for one XP."""
        self.explore(launcher)

    @property
    def name(self) -> str:
        """The grid's module and function, to name it in messages."""
        module = getattr(self.explore, "__module__", None) or "?"
        return f"{module}.{getattr(self.explore, '__qualname__', 'explorer')}"

    def get_grid_metrics(self) -> list[Any]:
        """The metrics columns of the grid's table (none by default).

        Each is a dotted path into :meth:`process_history`'s result (``"train.loss"``), a
        ``(path, format)`` pair (``("valid.acc", ".2%")``), or a Dora ``treetable`` group or
        leaf.
        """
        return []

    def process_history(self, history: list[dict[str, Any]]) -> dict[str, Any]:
        """The values the metrics columns read, from an XP's pushed metrics.

        The default merges every entry (the latest value of each key wins), flattens nested
        dicts to dotted keys, and adds ``epoch``, the number of entries, unless the entries
        have their own.

        Example:
            >>> Explorer(print).process_history([{"train": {"loss": 2}}, {"train": {"loss": 1}}])
            {'epoch': 2, 'train.loss': 1}
        """
        merged: dict[str, Any] = {"epoch": len(history)}
        for entry in history:
            merged.update(flatten(entry))
        return merged
