"""Score the parser on a JSONL evaluation set (prompts-dev or edits-dev format).

Prompts: per-field precision/recall/F1 for genres, moods, instruments and exclude (micro-averaged
over items), exact-match rates for tempo_bpm, key, duration_s and time_signature (over items whose
`expect` gives that field; a value predicted where none is expected counts against precision in
`false_explicit`), and the number of exclusions turned into inclusions (must be 0). Only values
with source "prompt" count as predictions.

Edits: the exact-match rate of change lists (unordered), with the relative rules of the vocabulary
("<0", ">0", ">previous", "<previous", "new").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LIST_FIELDS = ("genres", "moods", "instruments", "exclude")
SCALAR_FIELDS = ("tempo_bpm", "key", "duration_s", "time_signature")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
    return items


def is_edit_set(items: list[dict[str, Any]]) -> bool:
    return bool(items) and all("previous" in item and "reply" in item for item in items)


@dataclass
class FieldScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class PromptReport:
    n: int = 0
    fields: dict[str, FieldScore] = field(default_factory=lambda: {f: FieldScore() for f in LIST_FIELDS})
    exact: dict[str, list[int]] = field(default_factory=lambda: {f: [0, 0] for f in SCALAR_FIELDS})
    false_explicit: dict[str, int] = field(default_factory=lambda: {f: 0 for f in SCALAR_FIELDS})
    exclusions_included: int = 0
    # not-a-request detection, over items that say "request": false (questions, chit-chat, gibberish)
    # and over the requests, none of which may be taken for one
    not_requests: list[int] = field(default_factory=lambda: [0, 0])  # [detected, total]
    requests_refused: int = 0
    misses: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.n,
            "fields": {name: {"precision": round(s.precision, 3), "recall": round(s.recall, 3), "f1": round(s.f1, 3),
                              "tp": s.tp, "fp": s.fp, "fn": s.fn} for name, s in self.fields.items()},
            "exact": {name: {"rate": round(ok / total, 3) if total else None, "correct": ok, "total": total}
                      for name, (ok, total) in self.exact.items()},
            "false_explicit": self.false_explicit,
            "exclusions_turned_into_inclusions": self.exclusions_included,
            "not_requests": {"detected": self.not_requests[0], "total": self.not_requests[1]},
            "requests_refused": self.requests_refused,
        }


def _prompt_values(spec_dict: dict[str, Any]) -> dict[str, Any]:
    """Only what the prompt said (source == "prompt")."""
    out: dict[str, Any] = {}
    for name in LIST_FIELDS:
        out[name] = {v["value"] for v in spec_dict.get(name) or [] if v.get("source") == "prompt"}
    for name in SCALAR_FIELDS:
        value = spec_dict.get(name)
        out[name] = value["value"] if isinstance(value, dict) and value.get("source") == "prompt" else None
    return out


def _same(name: str, got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if name in ("tempo_bpm", "duration_s"):
        return abs(float(got) - float(want)) < 1e-6
    return str(got) == str(want)


def score_prompts(items: list[dict[str, Any]], parse: Callable[[str], dict[str, Any]]) -> PromptReport:
    """`parse(prompt)` returns a Spec.to_dict() (unresolved or resolved: only source=prompt counts)."""
    report = PromptReport()
    for item in items:
        report.n += 1
        expect = item.get("expect", {})
        parsed = parse(item["prompt"])
        got = _prompt_values(parsed)
        problems: list[str] = []
        taken = parsed.get("is_music_request", True)
        if item.get("request", True) is False:
            report.not_requests[1] += 1
            report.not_requests[0] += not taken
            if taken:
                problems.append("taken for a request")
        elif not taken and (item.get("request") is True or any(expect.values())):
            report.requests_refused += 1  # (an old-style item with an empty expect may be either)
            problems.append("refused as not a request")
        for name in LIST_FIELDS:
            want = set(expect.get(name, []))
            have = got[name]
            s = report.fields[name]
            s.tp += len(want & have)
            s.fp += len(have - want)
            s.fn += len(want - have)
            if want != have:
                problems.append(f"{name}: got {sorted(have)} want {sorted(want)}")
        report.exclusions_included += len(set(expect.get("exclude", [])) & got["instruments"])
        for name in SCALAR_FIELDS:
            if name in expect:
                report.exact[name][1] += 1
                if _same(name, got[name], expect[name]):
                    report.exact[name][0] += 1
                else:
                    problems.append(f"{name}: got {got[name]!r} want {expect[name]!r}")
            elif got[name] is not None:
                report.false_explicit[name] += 1
                problems.append(f"{name}: got {got[name]!r} want nothing")
        if problems:
            report.misses.append(f"{item.get('id', report.n)} {item['prompt'][:70]!r}: " + "; ".join(problems))
    return report


# ------------------------------------------------------------------------------------ edits
def change_matches(got: dict[str, Any], want: dict[str, Any], previous: dict[str, Any]) -> bool:
    """One predicted change against one expected change, with the relative rules."""
    if set(got) != set(want):
        return False
    for name, target in want.items():
        value = got[name]
        if isinstance(target, str) and target in ("<0", ">0"):
            if not isinstance(value, (int, float)) or (value >= 0 if target == "<0" else value <= 0):
                return False
        elif isinstance(target, str) and target in (">previous", "<previous"):
            before = previous.get(want.get("field"))
            if not isinstance(value, (int, float)) or before is None:
                return False
            if (value <= before) if target == ">previous" else (value >= before):
                return False
        elif name == "to" and want.get("field") == "seed" and target == "new":
            if value is None:
                return False
        elif isinstance(target, (int, float)) and not isinstance(target, bool):
            if not isinstance(value, (int, float)) or abs(value - target) > 1e-6:
                return False
        elif isinstance(target, list):
            if not isinstance(value, list) or sorted(map(str, value)) != sorted(map(str, target)):
                return False
        elif value != target:
            return False
    return True


def changes_match(got: list[dict[str, Any]], want: list[dict[str, Any]], previous: dict[str, Any]) -> bool:
    """Unordered list equality under change_matches (a greedy one-to-one pairing)."""
    if len(got) != len(want):
        return False
    unused = list(got)
    for w in want:
        hit = next((g for g in unused if change_matches(g, w, previous)), None)
        if hit is None:
            return False
        unused.remove(hit)
    return True


@dataclass
class EditReport:
    n: int = 0
    correct: int = 0
    misses: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.n, "changes_exact": round(self.correct / self.n, 3) if self.n else None,
                "correct": self.correct}


def score_edits(items: list[dict[str, Any]], apply: Callable[[dict[str, Any], str], list[dict[str, Any]]]) -> EditReport:
    """`apply(previous_plain, reply)` returns the change list (with actual numbers)."""
    report = EditReport()
    for item in items:
        report.n += 1
        got = apply(item["previous"], item["reply"])
        want = item.get("expect", {}).get("changes", [])
        if changes_match(got, want, item["previous"]):
            report.correct += 1
        else:
            report.misses.append(f"{item.get('id', report.n)} {item['reply']!r}: got {got} want {want}")
    return report


def format_prompt_report(report: PromptReport, *, title: str = "", verbose: bool = False) -> str:
    lines = [f"{title} ({report.n} prompts)" if title else f"{report.n} prompts",
             f"{'field':<14}{'precision':>10}{'recall':>8}{'F1':>7}"]
    for name, s in report.fields.items():
        lines.append(f"{name:<14}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>7.3f}")
    lines.append(f"{'explicit':<14}{'exact':>10}{'n':>8}{'extra':>7}")
    for name, (ok, total) in report.exact.items():
        rate = f"{ok / total:.3f}" if total else "-"
        lines.append(f"{name:<14}{rate:>10}{total:>8}{report.false_explicit[name]:>7}")
    lines.append(f"exclusions turned into inclusions: {report.exclusions_included}")
    if report.not_requests[1]:
        lines.append(f"not a request (questions, chit-chat, gibberish) detected: {report.not_requests[0]}/"
                     f"{report.not_requests[1]}; requests refused: {report.requests_refused}")
    if verbose and report.misses:
        lines.append("misses:")
        lines += [f"  {m}" for m in report.misses]
    return "\n".join(lines)


def format_edit_report(report: EditReport, *, title: str = "", verbose: bool = False) -> str:
    rate = f"{report.correct / report.n:.3f}" if report.n else "-"
    lines = [f"{title} ({report.n} edits)" if title else f"{report.n} edits",
             f"change lists exact: {rate} ({report.correct}/{report.n})"]
    if verbose and report.misses:
        lines.append("misses:")
        lines += [f"  {m}" for m in report.misses]
    return "\n".join(lines)
