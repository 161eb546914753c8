"""A deterministic dev / held-out split of the MusicCaps captions (../shared/eval/musiccaps-dev.jsonl).

A caption goes to the held-out part when the first byte of sha256(id) is below 64 (a quarter,
about 500 of 2,000); the rest is the dev part, the only part ever read to find what the tagger
and lexicon miss. The held-out part is copied into pipeline/understanding/data/ so the tests and
`ampa eval-parser` can score it without ../shared (MusicCaps is CC BY-SA 4.0: see NOTICE).

    python -m pipeline.understanding.training.musiccaps ../shared/eval/musiccaps-dev.jsonl
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HELDOUT_PATH = Path(__file__).resolve().parents[1] / "data" / "musiccaps-heldout.jsonl"


def is_heldout(item_id: str) -> bool:
    return hashlib.sha256(item_id.encode("utf-8")).digest()[0] < 64


def split(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(dev, held-out), each in file order."""
    dev = [item for item in items if not is_heldout(item["id"])]
    heldout = [item for item in items if is_heldout(item["id"])]
    return dev, heldout


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else Path("../shared/eval/musiccaps-dev.jsonl")
    items = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    dev, heldout = split(items)
    HELDOUT_PATH.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in heldout), encoding="utf-8")
    print(f"{len(dev)} dev, {len(heldout)} held-out -> {HELDOUT_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
