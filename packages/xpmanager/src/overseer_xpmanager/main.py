"""The decorated main of a project: its arguments define an XP, its call runs one.

A project's ``train.py`` wraps its main function; calling the result (what
``python -m myproject.train --lr=0.01`` does) parses the command line, finds or makes the XP
those arguments define and runs the function with :func:`~overseer_xpmanager.get_xp`
returning it::

    import argparse
    from overseer_xpmanager import argparse_main, get_xp

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--num_workers", type=int, default=4)


    @argparse_main(dir="./outputs", parser=parser, exclude=["num_workers"])
    def main():
        args = get_xp().cfg  # the argparse.Namespace
        ...


    if __name__ == "__main__":
        main()

Grid files and commands use the same object without running it: :meth:`~DecoratedMain.
definition` turns a command line into an XP definition (fast enough for thousands of XPs a
second), :meth:`~DecoratedMain.argv_for` turns launcher calls into a command line.
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from ._argparse_argv import action_defaults, close_options, option_items
from .current import set_current_xp
from .errors import ArgumentError, XPManagerError
from .signature import canonical, config_delta, flatten, is_excluded
from .store import XP, Store, XPDefinition

__all__ = ["ArgparseMain", "DecoratedMain", "argparse_main"]

#: Set by the supervisor: the signature the running XP must have.
SIG_ENV = "OVERSEER_XP_SIG"
#: Overrides the main's ``dir``: the root of the XP store.
DIR_ENV = "OVERSEER_XP_DIR"


class DecoratedMain:
    """A project's main function with what turns arguments into XPs.

    Attributes:
        function: the project's own main function.
        module: the module defining it (``"myproject.train"``, also when run as ``__main__``).
        package: the project package (``"myproject"``); empty for a top-level module.
        backend: ``"argparse"`` or ``"hydra"``.
    """

    backend = "argparse"

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        dir: str | Path = "./outputs",
        exclude: Sequence[str] = (),
        executor: str | None = None,
    ) -> None:
        self.function = function
        self._executor = executor
        self.module = _module_name(function)
        self.package = self.module.rpartition(".")[0]
        self._dir = Path(dir)
        self._exclude = list(exclude)
        self._store: Store | None = None

    @property
    def dir(self) -> Path:
        """The store's root as written in the project (relative to the current directory)."""
        return self._dir

    @property
    def exclude(self) -> list[str]:
        """Patterns of configuration keys left out of the signature."""
        return list(self._exclude)

    @property
    def executor(self) -> str | None:
        """The executor the project asks for (``"local"`` or ``"slurm"``), None if it does not."""
        return self._executor

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.module}.{self.function.__name__})"

    def __call__(self) -> Any:
        """Run the main for the XP ``sys.argv[1:]`` defines.

        A bad argument is printed on one line and exits with status 2, as argparse does.
        """
        argv = sys.argv[1:]
        self._maybe_help(argv)
        with self._context():
            xp = self._start(argv)
            set_current_xp(xp)
            try:
                return self._run(xp)
            finally:
                set_current_xp(None)

    def _start(self, argv: Sequence[str]) -> XP:
        try:
            config, definition = self._resolve_for_run(argv)
            xp = self._ensure(definition)
        except XPManagerError as error:
            print(f"{self.module}: error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        xp.cfg = config
        return xp

    def definition(self, argv: Sequence[str]) -> XPDefinition:
        """The XP the command line ``argv`` defines; nothing is written.

        Raises:
            ArgumentError: an argument the project does not accept.
        """
        return self._resolve(argv)[1]

    def argv_for(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> list[str]:
        """The command line for a launcher call ``launcher(*args, **kwargs)``.

        Strings pass through as they are, dicts and ``kwargs`` become options, lists are
        taken item by item.

        Raises:
            ArgumentError: a name the project does not know, or a value it cannot express.
        """
        argv: list[str] = []
        for arg in args:
            argv += self._items_for(arg)
        return argv + self._items_for(dict(kwargs))

    def store(self) -> Store:
        """The store: ``$OVERSEER_XP_DIR`` if set, else :attr:`dir` from the current directory."""
        root = Path(os.environ.get(DIR_ENV) or self.dir).absolute()
        # One Store per root, so that its writability is checked once, not per XP.
        if self._store is None or self._store.root != root:
            self._store = Store(root)
        return self._store

    def get_xp(self, argv: Sequence[str]) -> XP:
        """The XP ``argv`` defines, made in the store on first use."""
        return self.store().ensure(self.definition(argv))

    def _items_for(self, arg: Any) -> list[str]:
        if isinstance(arg, str):
            return [arg]
        if isinstance(arg, Mapping):
            return [item for name, value in arg.items() for item in self._option(name, value)]
        if isinstance(arg, (list, tuple)):
            return [item for part in arg for item in self._items_for(part)]
        message = (
            f"launcher arguments are strings, dicts or lists of them, not "
            f"{type(arg).__name__} {arg!r}"
        )
        raise ArgumentError(message)

    def _ensure(self, definition: XPDefinition) -> XP:
        expected = os.environ.get(SIG_ENV)
        if expected and expected != definition.sig:
            message = (
                f"these arguments give signature {definition.sig}, but this run was started "
                f"as XP {expected}: the project's defaults or exclude list changed since; "
                f"run the XP again with `suite xp run -f {expected}` or ask for the new one"
            )
            raise XPManagerError(message)
        return self.store().ensure(definition)

    def _kept_config(self, flat: Mapping[str, Any]) -> dict[str, Any]:
        exclude = self.exclude
        return {k: canonical(v) for k, v in flat.items() if not is_excluded(k, exclude)}

    def _resolve(self, argv: Sequence[str]) -> tuple[Any, XPDefinition]:
        raise NotImplementedError

    def _resolve_for_run(self, argv: Sequence[str]) -> tuple[Any, XPDefinition]:
        return self._resolve(argv)

    def _option(self, name: str, value: Any) -> list[str]:
        raise NotImplementedError

    def _maybe_help(self, argv: Sequence[str]) -> None:
        """Print the project's help and exit when ``argv`` asks for it."""

    def _context(self) -> AbstractContextManager[None]:
        return nullcontext()

    def _run(self, xp: XP) -> Any:
        return self.function()


class ArgparseMain(DecoratedMain):
    """A main whose arguments an ``argparse.ArgumentParser`` reads (see :func:`argparse_main`)."""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        dir: str | Path,
        parser: argparse.ArgumentParser,
        exclude: Sequence[str] = (),
        use_underscore: bool = True,
        executor: str | None = None,
    ) -> None:
        super().__init__(function, dir=dir, exclude=exclude, executor=executor)
        self.parser = parser
        self.use_underscore = use_underscore
        self._defaults: dict[str, Any] | None = None
        self._actions: dict[str, argparse.Action] | None = None

    def _maybe_help(self, argv: Sequence[str]) -> None:
        if {"-h", "--help"} & set(argv):
            self.parser.parse_args(argv)  # prints the help and exits

    def _resolve(self, argv: Sequence[str]) -> tuple[argparse.Namespace, XPDefinition]:
        argv = [str(item) for item in argv]
        namespace = self._parse(argv)
        config = flatten(vars(namespace))
        definition = XPDefinition(
            argv=argv,
            delta=config_delta(config, self._default_values(), self.exclude),
            config=self._kept_config(config),
            backend=self.backend,
            package=self.package,
        )
        return namespace, definition

    def _parse(self, argv: list[str]) -> argparse.Namespace:
        output = io.StringIO()
        try:
            with redirect_stderr(output), redirect_stdout(output):
                namespace, unknown = self.parser.parse_known_args(argv)
        except SystemExit as exit:
            raise ArgumentError(self._parser_message(argv, output.getvalue(), exit)) from None
        if unknown:
            raise ArgumentError(self._unknown_message(unknown))
        return namespace

    def _parser_message(self, argv: list[str], output: str, exit: SystemExit) -> str:
        if exit.code == 0:
            return f"{' '.join(argv)} prints and exits: it is not an argument of an XP"
        lines = [line for line in output.splitlines() if line.strip()]
        reason = lines[-1].split("error: ", 1)[-1] if lines else "bad arguments"
        return f"{reason}; `python -m {self.module} --help` lists the arguments"

    def _unknown_message(self, unknown: list[str]) -> str:
        hint = close_options(self.parser, unknown)
        return (
            f"{self.module} does not accept {' '.join(unknown)}{hint}; "
            f"`python -m {self.module} --help` lists the arguments"
        )

    def _default_values(self) -> dict[str, Any]:
        if self._defaults is None:
            try:
                self._defaults = flatten(vars(self._parse([])))
            except ArgumentError:  # required arguments: no command line is empty
                self._defaults = flatten(action_defaults(self.parser))
        return self._defaults

    def _option(self, name: str, value: Any) -> list[str]:
        return option_items(self._action(name), name, value)

    def _action(self, name: str) -> argparse.Action:
        if self._actions is None:
            self._actions = {}
            for action in self.parser._actions:
                for key in (*(o.lstrip("-") for o in action.option_strings), action.dest):
                    self._actions.setdefault(key, action)
        for key in (name, name.replace("-", "_"), name.replace("_", "-")):
            if key in self._actions:
                return self._actions[key]
        close = difflib.get_close_matches(name, list(self._actions), n=3)
        hint = f": did you mean {' or '.join(close)}?" if close else ""
        message = f"launcher argument {name!r} is not an argument of {self.module}{hint}"
        raise ArgumentError(message)


def argparse_main(
    *,
    dir: str | Path = "./outputs",
    parser: argparse.ArgumentParser,
    exclude: Sequence[str] = (),
    use_underscore: bool = True,
    executor: str | None = None,
) -> Callable[[Callable[..., Any]], ArgparseMain]:
    """Decorate a project's main whose arguments ``parser`` reads.

    Args:
        dir: the store's root (XP folders at ``<dir>/xps/<sig>``), relative to the current
            directory; ``$OVERSEER_XP_DIR`` overrides it.
        parser: the project's argument parser; its defaults are the reference the signature
            is computed against.
        exclude: ``fnmatch`` patterns of argument names left out of the signature
            (``["num_workers", "log_*"]``).
        use_underscore: kept for Dora's grid files; option names are read from ``parser``
            whichever spelling (``batch_size``, ``batch-size``) a launcher uses.
        executor: where ``launch`` and ``grid`` schedule by default: ``"local"`` or
            ``"slurm"`` (the ``--local``/``--slurm`` flags and ``$OVERSEER_XP_EXECUTOR`` win).

    Example:
        >>> @argparse_main(dir="./outputs", parser=parser)  # doctest: +SKIP
        ... def main():
        ...     print(get_xp().cfg.lr)
    """

    def decorate(function: Callable[..., Any]) -> ArgparseMain:
        return ArgparseMain(
            function,
            dir=dir,
            parser=parser,
            exclude=exclude,
            use_underscore=use_underscore,
            executor=executor,
        )

    return decorate


def _module_name(function: Callable[..., Any]) -> str:
    name = str(function.__module__)
    if name != "__main__":
        return name
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None:
        return str(spec.name)
    script = Path(sys.argv[0]).resolve()
    if (script.parent / "__init__.py").exists():
        return f"{script.parent.name}.{script.stem}"
    return script.stem
