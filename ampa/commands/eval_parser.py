"""`ampa eval-parser FILE`: score the prompt parser on a JSONL evaluation set.

Prompt sets ({"prompt", "expect"}) get per-field precision/recall/F1 and exact-match rates;
edit sets ({"previous", "reply", "expect": {"changes"}}) get the exact-match rate of change lists.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval-parser", help="score the prompt parser on a JSONL evaluation set",
                                   description="Score the parser on prompts-dev / edits-dev style JSONL files.")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="JSONL evaluation file(s)")
    parser.add_argument("--verbose", action="store_true", help="list every item that was not exactly right")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.spec import Spec
    from pipeline.understanding import apply_reply, parse_prompt
    from pipeline.understanding.evaluate import (
        format_edit_report,
        format_prompt_report,
        is_edit_set,
        read_jsonl,
        score_edits,
        score_prompts,
    )

    status = 0
    for path in args.files:
        try:
            items = read_jsonl(path)
        except (OSError, ValueError) as exc:
            print(f"could not read {path}: {exc}", file=sys.stderr)
            status = 2
            continue
        if is_edit_set(items):
            report = score_edits(items, lambda prev, reply: apply_reply(Spec.from_dict(prev), reply).changes)
            text = format_edit_report(report, title=str(path), verbose=args.verbose)
        elif all("prompt" in item for item in items):
            report = score_prompts(items, _parsed)
            text = format_prompt_report(report, title=str(path), verbose=args.verbose)
        else:
            print(f'{path}: every line needs "prompt" (+ "expect") or "previous" + "reply"', file=sys.stderr)
            status = 2
            continue
        print(json.dumps({"file": str(path), **report.to_dict()}) if args.json else text)
        if not args.json:
            print()
    return status


def _parsed(prompt: str) -> dict:
    """The unresolved spec as a dict, with whether the parser took the text for a request."""
    from pipeline.understanding import parse_prompt

    result = parse_prompt(prompt)
    return {**result.spec.to_dict(), "is_music_request": result.is_music_request}
