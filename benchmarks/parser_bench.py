"""Prompt-parser benchmark: cold load time, per-prompt latency, memory, and the eval figures.

    python benchmarks/parser_bench.py [--dev-dir ../shared/eval] [--runs 3]

Load time and memory are measured in fresh processes (median of --runs); latency is the median
and p95 over the dev prompts (each prompt's median of --runs parses) once the parser is loaded.
The cold runs also say whether parsing imported torch or transformers (it should not) and the
process's peak RSS (ru_maxrss: what the ≤ 1 GB budget is about).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DEV = REPO.parent / "shared" / "eval"
HELD_OUT = REPO / "pipeline" / "understanding" / "data" / "heldout.jsonl"

_COLD = """
import json, resource, sys, time, psutil
process = psutil.Process()
rss0 = process.memory_info().rss
t0 = time.perf_counter()
from pipeline.understanding import load_parser, parse_prompt
loaded = load_parser()
t1 = time.perf_counter()
parse_prompt("dark atmospheric synthwave at 140 BPM in A minor, 2 minutes, no drums")
t2 = time.perf_counter()
print(json.dumps({"load_s": t1 - t0, "first_parse_s": t2 - t1, "rss_added_mb": (process.memory_info().rss - rss0) / 2**20,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # kB on Linux
                  "mode": loaded.mode, "imported": [m for m in ("torch", "transformers") if m in sys.modules]}))
"""


# Long prompts: captions of 40-80 words parsed one after another in one process, as `ampa parse --batch` does
# (the caches start empty in each fresh process, so this is the figure a batch of new text gets).
_LONG = """
import json, resource, statistics, sys, time
from pipeline.understanding import load_parser, parse_prompt
load_parser(); parse_prompt("warm up")
walls, cpus = [], []
for line in sys.stdin:
    text = json.loads(line)
    w, c = time.perf_counter(), time.process_time()
    parse_prompt(text)
    walls.append(time.perf_counter() - w); cpus.append(time.process_time() - c)
def p95(xs): xs = sorted(xs); return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
print(json.dumps({"n": len(walls), "median_ms": statistics.median(walls) * 1000, "p95_ms": p95(walls) * 1000,
                  "cpu_median_ms": statistics.median(cpus) * 1000, "cpu_p95_ms": p95(cpus) * 1000,
                  "total_s": sum(walls), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
MUSICCAPS_HELD_OUT = REPO / "pipeline" / "understanding" / "data" / "musiccaps-heldout.jsonl"


def long_prompts(dev_dir: Path, limit: int) -> list[str]:
    """Captions of 40-80 words: the shared MusicCaps file when present, else the repo's held-out part."""
    from pipeline.understanding.evaluate import read_jsonl

    source = dev_dir / "musiccaps-dev.jsonl"
    items = read_jsonl(source if source.exists() else MUSICCAPS_HELD_OUT)
    return [item["prompt"] for item in items if 40 <= len(item["prompt"].split()) <= 80][:limit]


def long_runs(prompts: list[str], runs: int) -> list[dict]:
    lines = "".join(json.dumps(p) + "\n" for p in prompts)
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", _LONG], input=lines, capture_output=True, text=True, cwd=REPO,
                              check=True)
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def cold_runs(runs: int) -> list[dict]:
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", _COLD], capture_output=True, text=True, cwd=REPO, check=True)
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def latency(prompts: list[str], runs: int) -> tuple[float, float]:
    from pipeline.understanding import load_parser, parse_prompt

    load_parser()
    parse_prompt("warm up")
    per_prompt = []
    for prompt in prompts:
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            parse_prompt(prompt)
            times.append(time.perf_counter() - t)
        per_prompt.append(statistics.median(times))
    per_prompt.sort()
    p95 = per_prompt[min(len(per_prompt) - 1, round(0.95 * (len(per_prompt) - 1)))]
    return statistics.median(per_prompt) * 1000, p95 * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev-dir", type=Path, default=DEFAULT_DEV)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--long", type=int, default=1000, metavar="N", help="long prompts to parse per run (0: skip)")
    parser.add_argument("--only-long", action="store_true", help="only the long-prompt figure")
    args = parser.parse_args()

    if args.long:
        prompts = long_prompts(args.dev_dir, args.long)
        runs = long_runs(prompts, args.runs)
        med = lambda key: statistics.median(r[key] for r in runs)  # noqa: E731 -- a local shorthand
        print(f"long prompts ({len(prompts)} captions of 40-80 words, one process each run, median of {len(runs)} "
              f"runs): latency median {med('median_ms'):.1f} ms, p95 {med('p95_ms'):.1f} ms; CPU time median "
              f"{med('cpu_median_ms'):.1f} ms, p95 {med('cpu_p95_ms'):.1f} ms; whole batch {med('total_s'):.1f} s; "
              f"peak RSS {med('peak_rss_mb'):.0f} MB")
        if args.only_long:
            return 0

    from pipeline.spec import Spec
    from pipeline.understanding import apply_reply, parse_prompt
    from pipeline.understanding.evaluate import (
        format_edit_report,
        format_prompt_report,
        read_jsonl,
        score_edits,
        score_prompts,
    )

    cold = cold_runs(args.runs)
    print(f"model load (cold, fresh process, incl. imports): median {statistics.median(c['load_s'] for c in cold):.2f} s "
          f"over {len(cold)} runs; first parse after load {statistics.median(c['first_parse_s'] for c in cold) * 1000:.0f} ms; "
          f"mode={cold[0]['mode']}")
    print(f"RSS added by loading the parser: median {statistics.median(c['rss_added_mb'] for c in cold):.0f} MB; "
          f"process peak RSS {statistics.median(c['peak_rss_mb'] for c in cold):.0f} MB; "
          f"imported {', '.join(cold[0]['imported']) or 'neither torch nor transformers'}")

    dev_prompts = args.dev_dir / "prompts-dev.jsonl"
    sets = [(HELD_OUT, "held-out")]
    if dev_prompts.exists():
        sets.insert(0, (dev_prompts, "dev"))
    prompts = [item["prompt"] for path, _ in sets for item in read_jsonl(path)]
    median_ms, p95_ms = latency(prompts, args.runs)
    print(f"parse latency over {len(prompts)} prompts: median {median_ms:.1f} ms, p95 {p95_ms:.1f} ms")
    print()
    for path, name in sets:
        report = score_prompts(read_jsonl(path), lambda p: parse_prompt(p).spec.to_dict())
        print(format_prompt_report(report, title=f"{name}: {path.name}"))
        print()
    edits = args.dev_dir / "edits-dev.jsonl"
    if edits.exists():
        report = score_edits(read_jsonl(edits), lambda prev, reply: apply_reply(Spec.from_dict(prev), reply).changes)
        print(format_edit_report(report, title=f"dev: {edits.name}"))
    else:
        print(f"(no dev sets at {args.dev_dir}: only the held-out set was scored)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
