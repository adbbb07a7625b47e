"""``--verify``: run the script briefly with every rate on, then print what it gives.

``overseer --verify train.py`` stops the script after 30 steps (``--verify-steps N``), then
prints a checklist of the records the standard instruments read, the essential ones (``loss``,
``step`` + ``batch``, ``use_cuda``) and the additional ones (``options``, ``model``,
``loader``, ``compute_start`` + ``compute_end``): for each, whether the script gave it, what
it is for, and when it did not, the line that gives it, in the script or in a voirfile. The
voirfile lines name the script's own functions and variables where its source shows them.
The exit status is the script's (0 after the stop). From a voirfile::

    from overseer_instruments import verify


    def instrument_main(ov):
        ov.require(verify(steps=50))
"""

from __future__ import annotations

import ast
import string
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._flag_types import positive_whole
from .errors import ConfigurationError

__all__ = ["command_line", "verify"]

Instrument = Callable[[Any], Any]


@dataclass(frozen=True)
class _Check:
    """A record the instruments read: its keys, its use, the lines that give it."""

    label: str
    keys: tuple[str, ...]
    use: str
    script: str
    voirfile: str  # with {function} / {variable} / {loop} where the source tells them


ESSENTIAL = (
    _Check(
        "loss",
        ("loss",),
        "the training loss: the sign that training learns",
        "give(loss=loss.item())",
        'ov.probe("//{loss_function} > loss").give()',
    ),
    _Check(
        "step + batch",
        ("step", "batch"),
        "the end of each step and its batch: the training rate (--train-rate)",
        "give(step=step, batch=batch)",
        'ov.probe("//{loop_function}({batch} as batch) > #endloop_{loop} as step").give()',
    ),
    _Check(
        "use_cuda",
        ("use_cuda",),
        "whether training runs on CUDA: rates then synchronise it to be exact",
        "give(use_cuda=torch.cuda.is_available())",
        "ov.give(use_cuda=True)",
    ),
)
ADDITIONAL = (
    _Check(
        "options",
        ("options",),
        "the script's parsed command line: which experiment ran",
        "give(options=vars(args))",
        "ov.require(script_options())",
    ),
    _Check(
        "model",
        ("model",),
        "the model object",
        "give(model=model)",
        'ov.probe("//{model_function} > model").give()',
    ),
    _Check(
        "loader",
        ("loader",),
        "the data loader: the loading rate (--loading-rate)",
        "give(loader=loader)",
        'ov.probe("//{loader_function} > {loader} as loader").give()',
    ),
    _Check(
        "compute_start + compute_end",
        ("compute_start", "compute_end"),
        "the compute part of each step: the compute rate (--compute-rate)",
        "give(compute_start=True), then give(compute_end=True, batch=batch)",
        'ov.probe("//{loop_function}({batch} as batch, !#loop_{loop} as compute_start,'
        ' !!#endloop_{loop} as compute_end)").give()',
    ),
)
RATES = (
    ("train", "step + batch"),
    ("loading", "loader"),
    ("compute", "compute_start + compute_end"),
)


def verify(*, steps: int | None = 30) -> Instrument:
    """An instrument that turns every rate on, stops the script after ``steps`` steps
    (``None``: lets it end) and prints the checklist of the records it gave.

    Raises:
        ConfigurationError: ``steps`` is not a whole number above 0 or ``None``.
    """
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ConfigurationError(f"verify(steps={steps!r}): give a whole number above 0, or None")

    def verify_instrument(ov: Any) -> Iterator[Any]:
        yield ov.phases.parse_args
        from .rates import _flag_settings, compute_rate, loading_rate, rate
        from .stopping import early_stop

        seen = _Seen()
        # Subscribed before the early stop's, so that the step it stops at is seen.
        ov.given.subscribe(seen.record)
        settings = _flag_settings(ov.options)
        method: Any = getattr(ov.options, "rate_method", "step")
        ov.require(rate(method=method, **settings), loading_rate(**settings))
        ov.require(compute_rate(**settings))
        if steps is not None:
            ov.require(early_stop(steps, key="step"))
        yield ov.phases.finalize(priority=-100)
        if ov.phases.run_script.pending:
            # The script never started (a voirfile or a probe failed first): nothing to report.
            name = _script_name(ov)
            print(f"overseer --verify: {name} did not run: no checklist", file=sys.stderr)
            return
        stopped = bool(ov.stopped)
        print(_report(ov, seen, stopped), flush=True)

    return verify_instrument


def command_line(ov: Any) -> Iterator[Any]:
    """Run the script briefly with every rate on and print a checklist of what it gives."""
    add = ov.argparser.add_argument
    add("--verify", action="store_true", help="run briefly, then print what the script gives")
    add("--verify-steps", type=positive_whole, default=30, metavar="N", help="steps run (30)")
    yield ov.phases.parse_args
    if ov.options.verify:
        ov.require(verify(steps=ov.options.verify_steps))


class _Seen:
    """The keys given so far, and the steps."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.steps = 0

    def record(self, values: dict[str, Any]) -> None:
        self.keys.update(values)
        if "step" in values:
            self.steps += 1
            if "batch" in values or "batch_size" in values:
                self.keys.add("step+batch")
        wrap = values.get("$wrap")
        if isinstance(wrap, dict) and wrap.get("name") == "step" and "batch" in values:
            self.keys.add("step+batch")  # give.wrap("step", batch=batch)

    def has(self, check: _Check) -> bool:
        if check.keys == ("step", "batch"):
            return "step+batch" in self.keys
        return all(key in self.keys for key in check.keys)


def _report(ov: Any, seen: _Seen, stopped: bool) -> str:
    from .rates import measured_rates

    places, guessed = _places(_script_path(ov))
    ended = "was stopped" if stopped else "ended on its own"
    name = _script_name(ov)
    lines = [f"overseer --verify: {name} {ended} after {seen.steps} steps.", ""]
    missing: list[str] = []
    for title, checks in (("Essential", ESSENTIAL), ("Additional", ADDITIONAL)):
        lines.append(f"{title}:")
        for check in checks:
            lines.extend(_check_lines(check, seen.has(check), (places, guessed), missing))
        given = sum(seen.has(check) for check in checks)
        lines += [f"  {given} of {len(checks)} given.", ""]
    import statistics  # here: every overseer run loads this module, few print a checklist

    lines.append("Rates (--train-rate, --loading-rate, --compute-rate):")
    found = measured_rates(ov)
    for task, needs in RATES:
        values = found.get(task)
        shown = f"{statistics.median(values):.1f} items/s" if values else f"none: give {needs}"
        lines.append(f"  {task:<8} {shown}")
    if missing:
        lines += ["", "A voirfile.py beside the script that gives what is missing:", ""]
        lines += [f"    {line}" if line else "" for line in _voirfile(missing)]
    return "\n".join(lines)


def _script_path(ov: Any) -> Path | None:
    program = getattr(ov, "program", None)
    return Path(program.name) if program is not None else None


def _script_name(ov: Any) -> str:
    path = _script_path(ov)
    return path.name if path is not None else "the script"


GUESSED = "  # names guessed: put the script's own function and variable"


def _check_lines(
    check: _Check, given: bool, found: tuple[dict[str, str], set[str]], missing: list[str]
) -> list[str]:
    """The check's line; when not given, how to give it, with its voirfile line added to
    ``missing`` (commented out when it holds guessed names, so the voirfile still runs)."""
    mark = "[x]" if given else "[ ]"
    lines = [f"  {mark} {check.label:<28} {check.use}"]
    if not given:
        places, guessed = found
        voirfile = check.voirfile.format(**places)
        fields = {field for _, field, _, _ in string.Formatter().parse(check.voirfile) if field}
        guess = bool(fields & guessed)
        missing.append(f"# {voirfile}{GUESSED}" if guess else voirfile)
        shown = f"{voirfile}{GUESSED}" if guess else voirfile
        lines += [f"        script:   {check.script}", f"        voirfile: {shown}"]
    return lines


def _voirfile(lines: list[str]) -> list[str]:
    head = ["from overseer_instruments import script_options", ""]
    wanted = any("script_options" in line for line in lines)
    body = ["def instrument_probes(ov):", "    yield ov.phases.load_script"]
    return [*(head if wanted else []), *body, *("    " + line for line in lines)]


# ---------------------------------------------------------------- where things are in the source

_GUESSES = {
    "loss_function": "train",
    "loop_function": "train",
    "loop": "batch",
    "batch": "batch",
    "model_function": "main",
    "loader_function": "main",
    "loader": "train_loader",
}


def _places(path: Path | None) -> tuple[dict[str, str], set[str]]:
    """The functions and variables the voirfile lines name, read from the script's source,
    and which of them are guesses (``train``, ``batch``): the source does not show them.
    """
    places = dict(_GUESSES)
    try:
        tree = ast.parse(path.read_text()) if path is not None else None
    except (OSError, SyntaxError, ValueError):
        tree = None
    if tree is None:
        return places, set(places)
    found: dict[str, str] = {}
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    for key, wanted in (("loss", "loss".__eq__), ("model", "model".__eq__)):
        assigned = _assigning(functions, wanted)
        if assigned:
            found[f"{key}_function"] = assigned[0]
    loader = _assigning(functions, lambda name: "loader" in name)
    if loader:
        found["loader_function"], found["loader"] = loader
    loop = _first_loop(functions, prefer=found.get("loss_function", _GUESSES["loss_function"]))
    if loop:
        found["loop_function"], found["loop"] = loop[:2]
        if loop[2] is not None:
            found["batch"] = loop[2]
    return places | found, set(places) - set(found)


def _own_nodes(function: ast.FunctionDef) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of functions or classes inside it."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop(0)
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(node))


def _assigning(
    functions: list[ast.FunctionDef], wanted: Callable[[str], bool]
) -> tuple[str, str] | None:
    for function in functions:
        for node in _own_nodes(function):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and wanted(node.id):
                return function.name, node.id
    return None


def _first_loop(
    functions: list[ast.FunctionDef], prefer: str
) -> tuple[str, str, str | None] | None:
    """The training loop: in the function computing the loss if any, not over a range().

    Its function, its variable (what ``#endloop_`` names) and its batch: the variable when
    the loop runs over the batches, else what the body takes from an iterator or names a
    batch (``for step in range(n): inputs, targets = next(batches)``), else None.
    """
    loops = [
        (function.name != prefer, _over_range(node), index, function.name, variable, node)
        for function in functions
        for index, node in enumerate(_own_nodes(function))
        if isinstance(node, ast.For) and (variable := _batch_variable(node))
    ]
    if not loops:
        return None
    _, counted, _, function, variable, loop = min(loops, key=lambda found: found[:3])
    batch = _batch_in_body(loop) if counted else variable
    return function, variable, batch


def _batch_in_body(loop: ast.For) -> str | None:
    """The name a counted loop's body gives its batch: assigned from ``next(...)``, or a
    name holding "batch"; the first name of a tuple (``inputs`` in ``inputs, targets``)."""
    for node in ast.walk(loop):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        while isinstance(target, ast.Tuple) and target.elts:
            target = target.elts[0]
        if not isinstance(target, ast.Name):
            continue
        value = node.value
        from_iterator = isinstance(value, ast.Call) and getattr(value.func, "id", None) == "next"
        if from_iterator or "batch" in target.id:
            return target.id
    return None


def _over_range(loop: ast.For) -> bool:
    call = loop.iter
    return (
        isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "range"
    )


def _batch_variable(loop: ast.For) -> str | None:
    """The loop variable holding the batch: ``x`` in ``for x, y in loader`` and in
    ``for i, (x, y) in enumerate(loader)``."""
    target, call = loop.target, loop.iter
    counted = isinstance(call, ast.Call) and getattr(call.func, "id", None) == "enumerate"
    if counted and isinstance(target, ast.Tuple) and len(target.elts) == 2:
        target = target.elts[1]
    while isinstance(target, ast.Tuple) and target.elts:
        target = target.elts[0]
    return target.id if isinstance(target, ast.Name) else None
