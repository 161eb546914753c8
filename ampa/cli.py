"""The `ampa` command. Each subcommand lives in its own module under `ampa.commands`.

A command module exposes `register(subparsers)`, which adds its parser and sets
`func=run`, where `run(args) -> int` is the exit code; a `worker.cli_support.CommandError` raised
by it (bad settings, bad arguments) is printed as its message with its exit code. Command modules import their heavy
dependencies inside `run`, so `ampa --help` and `ampa parse` start fast.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import sys

# Order is the order `ampa --help` lists them.
COMMAND_MODULES = (
    "generate",  # ampa generate PROMPT            (pipeline, no server)
    "parse",  # ampa parse PROMPT | --batch | --previous  (prompt understanding)
    "eval_parser",  # ampa eval-parser FILE
    "train_parser",  # ampa train-parser               (fine-tunes the span tagger)
    "submit",  # ampa submit PROMPT              (job system)
    "jobs",  # ampa jobs list|show|cancel
    "worker",  # ampa worker [--burst]
    "db",  # ampa db upgrade
    "api",  # ampa api
    "discord",  # ampa discord
    "slack",  # ampa slack [--http --port N]
    "backends",  # ampa backends                  (which generators are ready here)
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ampa", description="ampa: an AI music production assistant.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"ampa.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"ampa.commands.{name}":
                continue  # command not built in this checkout
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from worker.cli_support import CommandError

    try:
        return int(args.func(args) or 0)
    except CommandError as exc:  # bad settings or arguments: what to do, never a traceback
        print(f"ampa {args.command}: {exc.message}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        # The process is about to exit and every connection was closed above. Freezing the heap
        # skips the interpreter's last garbage collection over it, which took 2-3 s for a bot
        # process (over 10 s on a loaded machine) and made restarts slow.
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
