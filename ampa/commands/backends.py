"""`ampa backends`: every generator backend, whether this installation can run it, and why not."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backends",
        help="list the generator backends: which are ready here and what the others need",
        description="List every generator backend, whether it is ready on this installation, and why not.",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per backend, for scripts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.backends.registry import readiness
    from worker.cli_support import load_settings
    from worker.settings import backend_config

    settings = load_settings()
    states = readiness(backend_config(settings))
    if args.json:
        for state in states:
            print(json.dumps({"name": state.name, "ready": state.ready, "reason": state.reason,
                              "default": state.name == settings.default_backend}))
        return 0
    width = max(len(state.name) for state in states)
    for state in states:
        mark = "ready    " if state.ready else "not ready"
        default = "  (default)" if state.name == settings.default_backend else ""
        print(f"{state.name:<{width}}  {mark}  {state.reason}{default}")
    return 0
