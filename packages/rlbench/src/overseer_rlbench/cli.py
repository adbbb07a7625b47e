"""The ``rl`` command: ``suite rl``, ``python -m overseer_rlbench``.

::

    suite rl train --size 5 --seconds 120      self-play training, then a match against random
    suite rl arena runs/a.pt runs/b.pt         rate checkpoints against reference agents
    suite rl bench --quick                      env, search, self-play, learner, arena speeds
    suite rl study --sizes 3,4                  a scaling study: grid, arena, frontier, PNG

Every error a user can cause is one line (``rl: error: ...``) with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .errors import RLBenchError

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace], int]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _parts(text: str) -> list[str]:
    """The items of a comma-separated option, which must not be empty."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return parts


def _int_list(text: str) -> list[int]:
    """``"3,4,5"`` -> ``[3, 4, 5]``, for the comma-separated options."""
    return [_positive_int(part) for part in _parts(text)]


def _str_list(text: str) -> list[str]:
    return _parts(text)


def _add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="torch device: cpu (default), cuda, ...")
    parser.add_argument("--seed", type=int, default=0, help="seed of every generator (default 0)")


def _add_train(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ._cmd_train import add_train_arguments

    train = commands.add_parser("train", help="self-play training on one board size")
    add_train_arguments(train, _positive_int, _positive_float)
    _add_device(train)


def _add_arena(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    arena = commands.add_parser("arena", help="rate checkpoints against each other and references")
    arena.add_argument("checkpoints", nargs="*", help="checkpoint files or folders holding them")
    arena.add_argument("--size", type=_positive_int, help="board size (default: the checkpoints')")
    arena.add_argument(
        "--games", type=_positive_int, default=64, help="games per pairing (default 64)"
    )
    arena.add_argument(
        "--simulations",
        type=_positive_int,
        default=16,
        help="search simulations of the checkpoints' agents (default 16)",
    )
    arena.add_argument(
        "--mcts", type=_int_list, default=[64], help="budgets of pure-MCTS references (64)"
    )
    arena.add_argument(
        "--no-solver", dest="solver", action="store_false", help="leave out perfect play"
    )
    _add_device(arena)


def _add_study(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .scaling import add_study_arguments

    study = commands.add_parser("study", help="a scaling study: grid, arena, frontier fit, PNG")
    add_study_arguments(study, _int_list, _str_list, _positive_int)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``rl`` and its subcommands (``bench`` parses its own arguments)."""
    parser = argparse.ArgumentParser(
        prog="suite rl", description="AlphaZero on Hex, batched on one device."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_train(commands)
    _add_arena(commands)
    commands.add_parser(
        "bench", help="measure speeds (see `suite rl bench --help`)", add_help=False
    )
    _add_study(commands)
    return parser


def _command(name: str) -> Command:
    if name == "train":
        from ._cmd_train import train_command

        return train_command
    if name == "arena":
        from ._cmd_arena import arena_command

        return arena_command
    from .scaling import study_command

    return study_command


def main(argv: Sequence[str] | None = None) -> int:
    """Train, rate, measure and study AlphaZero on Hex: train, arena, bench, study.

    Runs ``rl`` with ``argv`` (default: the process's) and returns the exit status.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    from ._allocator import keep_freed_memory

    keep_freed_memory()
    if argv[:1] == ["bench"]:
        from .bench import bench_command

        return bench_command(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _command(args.command)(args)
    except (RLBenchError, ValueError) as error:  # the modules' checks of bad arguments
        print(f"rl: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rl: interrupted; checkpoints already written are kept", file=sys.stderr)
        return 130
