"""`ampa parse`, `ampa eval-parser`: the real commands, in-process through ampa.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

from ampa.cli import main

FIELDS = ("genres", "moods", "instruments", "exclude", "tempo_bpm", "key", "duration_s", "time_signature")


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_parse_prints_the_resolved_spec_with_sources(capsys) -> None:
    code, out = _run(capsys, "parse", "lofi beat w/ jazzy keys ~85bpm")
    assert code == 0
    data = json.loads(out)
    for name in FIELDS:
        assert name in data
    assert data["tempo_bpm"] == {"value": 85.0, "source": "prompt", "confidence": 1.0}
    assert data["genres"][0]["value"] == "lofi-hiphop" and data["genres"][0]["source"] == "prompt"
    # what the prompt did not say is filled in and marked as a default
    assert data["key"]["source"] == "default" and data["duration_s"]["source"] == "default"
    assert all(i["source"] == "default" for i in data["instruments"])
    assert data["summary"].startswith("lofi-hiphop · 85 BPM")
    assert isinstance(data["notes"], list)


def test_parse_batch_keeps_order_in_one_process(capsys, tmp_path: Path) -> None:
    lines = [{"id": "a", "prompt": "techno 130bpm"}, {"id": "b", "prompt": "what's the weather"},
             {"id": "c", "previous": {"genres": ["rock"], "tempo_bpm": 120}, "reply": "faster"},
             {"id": "d", "prompt": "jazz in D dorian"}]
    batch = tmp_path / "in.jsonl"
    batch.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    code, out = _run(capsys, "parse", "--batch", str(batch))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c", "d"]
    assert rows[0]["tempo_bpm"]["value"] == 130
    assert rows[1]["is_music_request"] is False
    assert rows[2]["changes"] == [{"field": "tempo_bpm", "to": 132}]
    assert rows[3]["key"]["value"] == "D dorian"


def test_parse_batch_reports_bad_lines_and_carries_on(capsys, tmp_path: Path) -> None:
    batch = tmp_path / "in.jsonl"
    batch.write_text('not json\n{"prompt": "house 124"}\n[1, 2]\n')
    code, out = _run(capsys, "parse", "--batch", str(batch))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(rows) == 3
    assert "error" in rows[0] and rows[1]["tempo_bpm"]["value"] == 124 and "error" in rows[2]


def test_parse_previous_gives_changes(capsys, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"genres": ["lofi-hiphop"], "instruments": ["piano", "drums"], "tempo_bpm": 85,
                                "key": "A minor", "duration_s": 120}))
    code, out = _run(capsys, "parse", "--previous", str(spec), "make the drums quieter")
    data = json.loads(out)
    assert code == 0
    assert data["changes"] == [{"field": "mix", "stem": "drums", "db": -4.0}]
    assert data["mix"] == {"drums": -4.0} and data["new_prompt"] is False

    code, out = _run(capsys, "parse", "--previous", str(spec), "love it")
    data = json.loads(out)
    assert data["changes"] == [] and data["makes_new_version"] is False

    code, out = _run(capsys, "parse", "--previous", str(spec), "can you do a dark techno track at 130 instead, 4 minutes")
    data = json.loads(out)
    assert data["new_prompt"] is True and data["genres"][0]["value"] == "techno"


def test_parse_previous_accepts_the_full_shape_too(capsys, tmp_path: Path) -> None:
    code, out = _run(capsys, "parse", "techno 130bpm")
    spec = tmp_path / "full.json"
    spec.write_text(out)
    data = json.loads(out)
    for extra in ("summary", "notes", "is_music_request"):
        data.pop(extra, None)
    spec.write_text(json.dumps(data))
    code, out = _run(capsys, "parse", "--previous", str(spec), "20 bpm faster")
    assert code == 0 and json.loads(out)["tempo_bpm"]["value"] == 150


def test_parse_errors_are_plain(capsys, tmp_path: Path) -> None:
    code = main(["parse", "--previous", str(tmp_path / "missing.json"), "faster"])
    err = capsys.readouterr().err
    assert code == 2 and "could not read the previous spec" in err and "Traceback" not in err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"key": "H major"}))
    code = main(["parse", "--previous", str(bad), "faster"])
    err = capsys.readouterr().err
    assert code == 2 and "not valid" in err


def test_eval_parser_scores_both_formats(capsys, tmp_path: Path) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(json.dumps({"id": "1", "prompt": "dark trap 140 bpm, no vocals",
                                   "expect": {"genres": ["trap"], "moods": ["dark"], "exclude": ["vocals"],
                                              "tempo_bpm": 140}}) + "\n")
    edits = tmp_path / "e.jsonl"
    edits.write_text(json.dumps({"id": "e1", "previous": {"tempo_bpm": 100, "genres": ["rock"]}, "reply": "faster",
                                 "expect": {"changes": [{"field": "tempo_bpm", "to": ">previous"}]}}) + "\n")
    code, out = _run(capsys, "eval-parser", "--json", str(prompts), str(edits))
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 0
    assert first["fields"]["genres"]["f1"] == 1.0 and first["exact"]["tempo_bpm"]["rate"] == 1.0
    assert first["exclusions_turned_into_inclusions"] == 0
    assert second["changes_exact"] == 1.0
