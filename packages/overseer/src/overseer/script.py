"""Loading a script or module the way ``python`` runs it.

:func:`load_script` and :func:`load_module` compile the code (the ``load_script`` phase) and
return a :class:`Program` whose :meth:`~Program.run` executes it as ``__main__`` (the
``run_script`` phase), with ``sys.argv`` and ``sys.path[0]`` set as ``python`` sets them.
"""

from __future__ import annotations
import __future__

import ast
import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError

__all__ = ["Program", "load_module", "load_script"]


@dataclass
class Program:
    """A loaded script, module or function, ready to run.

    Attributes:
        name: what ``sys.argv[0]`` becomes (the script's path, or the module's file).
        argv: the program's own arguments.
        path0: what ``sys.path[0]`` becomes while it runs.
        run_main: runs the main part; returns the function's value (``None`` for a script).
        prepare_main: runs the imports and definitions (nothing for a function).
    """

    name: str
    argv: list[str]
    path0: str
    run_main: Callable[[], Any]
    prepare_main: Callable[[], Any] = lambda: None
    _saved: tuple[list[str], list[str]] | None = None

    def prepare(self) -> None:
        """Set ``sys.argv`` and ``sys.path[0]``, then run the imports and definitions."""
        self._saved = (sys.argv, list(sys.path))
        sys.argv = [self.name, *self.argv]
        if not sys.path or sys.path[0] != self.path0:
            sys.path.insert(0, self.path0)
        self.prepare_main()

    def run(self) -> Any:
        """Run the main part; ``sys.argv`` and ``sys.path`` are restored afterwards."""
        if self._saved is None:
            self.prepare()
        try:
            return self.run_main()
        finally:
            self.restore()

    def restore(self) -> None:
        """Put back the ``sys.argv`` and ``sys.path`` that :meth:`prepare` replaced."""
        if self._saved is not None:
            sys.argv, sys.path[:] = self._saved[0], self._saved[1]
            self._saved = None


def load_script(path: str, argv: list[str]) -> Program:
    """Compile the script at ``path``.

    Raises:
        UsageError: the file does not exist or is not readable. A syntax error in the
            script is raised as the ``SyntaxError`` itself, as ``python`` shows it.
    """
    file = Path(path)
    if not file.is_file():
        hint = "it is a directory" if file.is_dir() else "no such file"
        message = f"cannot run script {path!r}: {hint}; pass the path of a Python file"
        raise UsageError(message)
    folder = str(file.resolve().parent)
    return _split_program(path, file.read_bytes(), path, argv, folder, None)


def _split_program(
    name: str, source: bytes, file: str, argv: list[str], path0: str, spec: Any
) -> Program:
    tree = ast.parse(source, file)
    last_definition = max(
        (index + 1 for index, node in enumerate(tree.body) if isinstance(node, _DEFINITIONS)),
        default=0,
    )
    flags = _future_flags(tree)
    first = compile(ast.Module(tree.body[:last_definition], []), file, "exec", flags, True)
    rest = compile(ast.Module(tree.body[last_definition:], []), file, "exec", flags, True)
    main = _main_module(file, spec)
    return Program(
        name,
        argv,
        path0,
        run_main=lambda: _exec_as_main(rest, main),
        prepare_main=lambda: _exec_as_main(first, main),
    )


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _future_flags(tree: ast.Module) -> int:
    """The compiler flags of the ``from __future__`` imports, for both halves of a split."""
    flags = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def load_module(spec_text: str, argv: list[str]) -> Program:
    """Load ``module`` (run as ``python -m module``) or ``module:function`` (called).

    Raises:
        UsageError: the module cannot be found, or has no such function.
    """
    module_name, _, function_name = spec_text.partition(":")
    if function_name:
        return _load_function(module_name, function_name, argv)
    spec = _find_spec(module_name)
    if spec.submodule_search_locations is not None:
        spec = _find_spec(f"{module_name}.__main__")
    if spec.loader is None or not hasattr(spec.loader, "get_code"):
        message = f"cannot run module {module_name!r}: it has no code to run; pass a .py module"
        raise UsageError(message)
    origin = spec.origin or module_name
    source = spec.loader.get_source(spec.name) if hasattr(spec.loader, "get_source") else None
    if source is not None:
        return _split_program(origin, source.encode(), origin, argv, os.getcwd(), spec)
    code = spec.loader.get_code(spec.name)
    if code is None:
        message = f"cannot run module {module_name!r}: its loader has no code for it"
        raise UsageError(message)
    main = _main_module(origin, spec)
    return Program(origin, argv, os.getcwd(), lambda: _exec_as_main(code, main))


def _load_function(module_name: str, function_name: str, argv: list[str]) -> Program:
    _find_spec(module_name)
    module = importlib.import_module(module_name)
    function = getattr(module, function_name, None)
    if not callable(function):
        message = (
            f"module {module_name!r} has no function {function_name!r}:"
            f" pass -m {module_name}:NAME with a function it defines"
        )
        raise UsageError(message)
    return Program(f"{module_name}:{function_name}", argv, os.getcwd(), function)


def _find_spec(module_name: str) -> importlib.machinery.ModuleSpec:
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError) as error:
        spec, reason = None, f" ({error})"
    else:
        reason = ""
    if spec is None:
        message = (
            f"no module named {module_name!r}{reason}: check the name, or install the package"
            " that provides it"
        )
        raise UsageError(message)
    return spec


def _main_module(file: str, spec: Any) -> types.ModuleType:
    main = types.ModuleType("__main__")
    main.__file__ = file
    main.__builtins__ = __builtins__  # type: ignore[attr-defined]
    main.__spec__ = spec
    if spec is not None:
        main.__package__ = spec.parent
        main.__loader__ = spec.loader
    return main


def _exec_as_main(code: types.CodeType, main: types.ModuleType) -> None:
    # Classes and functions of the script must pickle as __main__.X, as under python, and
    # ptera's `//f` selectors look for f in the module running as __main__.
    sys.modules["__main__"] = main
    exec(code, vars(main))
