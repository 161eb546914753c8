"""`ampa parse`: show what ampa understood from a prompt, or from a reply to a previous spec.

    ampa parse "dark synthwave at 140 BPM in A minor, 2 minutes"   -> the resolved spec as JSON
    ampa parse --batch prompts.jsonl                                 -> one JSON line per input, in order
    ampa parse --previous spec.json "make the drums quieter"        -> the new spec + "changes"
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="show the spec ampa understands from a prompt (JSON)",
        description="Print the resolved spec of a prompt as JSON: every value with its source and confidence, "
        "plus a one-line summary and notes.",
    )
    parser.add_argument("prompt", nargs="?", help="the prompt (or, with --previous, the reply)")
    parser.add_argument("--batch", type=Path, metavar="FILE.jsonl",
                        help='JSONL with {"prompt": ...} or {"previous": {...}, "reply": ...} per line')
    parser.add_argument("--previous", type=Path, metavar="SPEC.json",
                        help="a previous spec (full or plain values); PROMPT is then a reply to it")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.batch is not None:
        return _run_batch(args.batch)
    if args.previous is not None:
        try:
            previous = json.loads(args.previous.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"could not read the previous spec {args.previous}: {exc}. Give a JSON file "
                  'like {"genres": ["jazz"], "tempo_bpm": 90}.', file=sys.stderr)
            return 2
        out = edit_output(previous, args.prompt or "")
        if "error" in out:
            print(out["error"], file=sys.stderr)
            return 2
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    if args.prompt is None:
        print('give a prompt, e.g. ampa parse "lofi beat, 85 bpm", or --batch FILE.jsonl', file=sys.stderr)
        return 2
    print(json.dumps(prompt_output(args.prompt), ensure_ascii=False, indent=2))
    return 0


def prompt_output(prompt: str) -> dict[str, Any]:
    """The resolved spec of a prompt, with summary, notes and is_music_request."""
    from pipeline.defaults import resolve
    from pipeline.understanding import parse_prompt

    parsed = parse_prompt(prompt)
    resolved = resolve(parsed.spec, seed_text=prompt)
    out = resolved.to_dict()
    out["summary"] = resolved.summary()
    out["notes"] = resolved.notes
    out["is_music_request"] = parsed.is_music_request
    if not parsed.is_music_request:
        out["reply"] = parsed.reply  # what a chat user reads instead of getting a track
    return out


def edit_output(previous: dict[str, Any], reply: str) -> dict[str, Any]:
    """The new resolved spec after a reply, with "changes", "new_prompt" and "messages"."""
    from pydantic import ValidationError

    from pipeline.defaults import resolve
    from pipeline.spec import Spec
    from pipeline.understanding import apply_reply

    try:
        spec = Spec.from_dict(previous)
    except (ValidationError, TypeError, AttributeError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else {"msg": str(exc), "loc": ()}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return {"error": f"the previous spec is not valid ({where}: {first['msg']})"}
    edit = apply_reply(spec, reply)
    resolved = resolve(edit.spec, seed_text=reply if edit.new_prompt else "")
    out = resolved.to_dict()
    out["summary"] = resolved.summary()
    out["changes"] = edit.changes
    out["new_prompt"] = edit.new_prompt
    out["makes_new_version"] = edit.makes_new_version
    out["messages"] = edit.messages
    return out


def _run_batch(path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        print(f"could not read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    failures = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            out: dict[str, Any] = {"error": f"line {number}: not JSON ({exc.msg})"}
        else:
            if isinstance(item, dict) and "reply" in item and "previous" in item:
                out = edit_output(item["previous"], str(item["reply"]))
            elif isinstance(item, dict) and "prompt" in item:
                out = prompt_output(str(item["prompt"]))
            else:
                out = {"error": f'line {number}: expected {{"prompt": ...}} or {{"previous": ..., "reply": ...}}'}
            if isinstance(item, dict) and "id" in item:
                out = {"id": item["id"], **out}
        failures += "error" in out
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 1 if failures else 0
