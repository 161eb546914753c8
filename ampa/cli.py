"""The `ampa` command. Each subcommand lives in its own module under `ampa.commands`.

A command module exposes `register(subparsers)`, which adds its parser and sets
`func=run`, where `run(args) -> int` is the exit code. Command modules import their heavy
dependencies inside `run`, so `ampa --help` and `ampa parse` start fast.
"""

from __future__ import annotations

import argparse
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
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
