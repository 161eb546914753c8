"""`ampa generate --backend stable-audio` against the local Stability stand-in, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from ampa.cli import main as ampa_main
from pipeline.backends.credits import predict_credits
from pipeline.backends.registry import BackendConfig
from pipeline.qa.key import estimate_key
from pipeline.qa.tempo import estimate_tempo
from pipeline.spec import Spec
from tests.stability_server import Reply, StabilityStandIn

KEY = "sk-e2e-secret-4d1c8b0f"
PROMPT = "dark techno at 128 BPM in F minor, 8 seconds"


@pytest.fixture(scope="module")
def server():
    # Every take comes back slightly slow and flat, as real models do: 125 BPM in Eb minor.
    with StabilityStandIn(api_key=KEY, tempo_factor=125 / 128, key_shift=-2) as running:
        yield running


def _env(server: StabilityStandIn, tmp: Path, **extra: str) -> dict[str, str]:
    return {
        "STABILITY_API_KEY": KEY,
        "STABILITY_API_URL": server.url,
        "AMPA_STABILITY_BACKOFF": "0.01",
        "AMPA_DATA_DIR": str(tmp / "data"),
        "HF_HUB_OFFLINE": "1",
        **extra,
    }


@pytest.fixture(scope="module")
def guided_run(server, tmp_path_factory):
    """One real `ampa -v generate` process in the default (guided) mode, through a 429 and a 503."""
    tmp = tmp_path_factory.mktemp("guided")
    server.requests.clear()
    server.queue(Reply.error(429, retry_after=0), Reply.error(503))
    proc = subprocess.run(
        [sys.executable, "-m", "ampa", "-v", "generate", PROMPT, "--backend", "stable-audio", "--out", str(tmp / "out"), "--quiet"],
        capture_output=True, text=True, env={**os.environ, **_env(server, tmp)}, timeout=600,
    )
    return proc, tmp / "out", list(server.requests)


def test_guided_track_is_mastered_at_the_asked_tempo_and_key(guided_run):
    proc, out, _ = guided_run
    assert proc.returncode == 0, proc.stderr
    mix, rate = sf.read(out / "mix.wav", dtype="float32", always_2d=True)
    assert estimate_tempo(mix.T, rate, 128).bpm == pytest.approx(128, rel=0.02)
    assert estimate_key(mix.T, rate).name == "F minor"
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] and report["backend"] == "stable-audio"
    assert report["qa"][-1]["checks"][-1]["name"] == "key" and report["qa"][-1]["checks"][-1]["passed"]
    generation = report["generation"]
    assert generation["model"] == "stable-audio-2.5" and generation["mode"] == "guided"
    assert generation["corrections"] == ["time-stretched 125.0 → 128 BPM (+2.4 %)", "pitch-shifted Eb minor → F minor (+2 semitones)"]
    assert [r["status"] for r in generation["requests"]] == [429, 503, 200]
    assert generation["credits"] == 20 and len(generation["seeds"]) == 1


def test_guided_track_delivers_mix_spectrogram_report_and_midi_but_no_stems(guided_run):
    proc, out, _ = guided_run
    assert {p.name for p in out.iterdir()} == {
        "mix.wav", "mix.mp3", "spectrogram.png", "report.json", "song.mid", "pianoroll.png"
    }  # the guide arrangement's MIDI and piano roll; no stems
    report = json.loads((out / "report.json").read_text())
    assert any("No stems: the stable-audio model makes one finished stereo mix" in n for n in report["notes"])
    assert "No stems" in proc.stderr  # the CLI shows the note


def test_guided_mode_sends_ampas_own_render_as_init_audio(guided_run):
    _, _, requests = guided_run
    assert [r.path.rsplit("/", 1)[-1] for r in requests] == ["audio-to-audio"] * 3
    sent = requests[-1]
    assert "128 BPM" in sent.fields["prompt"] and "F minor" in sent.fields["prompt"]
    assert sent.fields["strength"] == "0.6" and float(sent.fields["duration"]) >= 8
    filename, wav = sent.files["audio"]
    import io

    init, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    assert filename == "init.wav" and estimate_tempo(init.T, rate, 128).bpm == pytest.approx(128, rel=0.01)


def test_the_key_goes_to_the_api_only(guided_run):
    proc, out, requests = guided_run
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in requests)
    assert "HTTP Request: POST" in proc.stderr  # debug logging was on, and still no key in it
    assert KEY not in proc.stdout and KEY not in proc.stderr
    for path in out.rglob("*"):
        assert KEY.encode() not in path.read_bytes(), path


def test_text_mode_makes_the_track_from_a_caption(server, tmp_path, monkeypatch, capsys):
    for name, value in _env(server, tmp_path, AMPA_STABILITY_MODE="text").items():
        monkeypatch.setenv(name, value)
    server.requests.clear()
    out = tmp_path / "out"
    assert ampa_main(["generate", "dark techno at 128 BPM in F minor, 6 seconds", "--backend", "stable-audio", "--out", str(out), "--quiet"]) == 0
    (request,) = server.requests
    assert request.path.endswith("/text-to-audio") and request.files == {"none": ("none", b"")}
    assert request.fields["prompt"].startswith("Techno, dark") and "128 BPM, F minor" in request.fields["prompt"]
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] and "song.mid" not in report["files"]
    mix, rate = sf.read(out / "mix.wav", dtype="float32", always_2d=True)
    assert estimate_key(mix.T, rate).name == "F minor"


@pytest.mark.parametrize(
    ("replies", "code", "words"),
    [
        ([Reply.error(401)], 21, "Stability rejected the API key"),
        ([Reply.error(402)], 22, "out of credits"),
        ([Reply.moderation()], 23, "content moderation flagged this request"),
        ([Reply.error(422, "prompt: too many words about cats")], 24, "too many words about cats"),
        ([Reply.error(429)] * 2, 25, "rate-limiting"),
        ([Reply.error(502), Reply.dropped()], 26, "did not deliver after 2 tries"),
    ],
)
def test_each_failure_has_its_message_and_exit_code(server, tmp_path, monkeypatch, capsys, replies, code, words):
    for name, value in _env(server, tmp_path, AMPA_STABILITY_MODE="text", AMPA_STABILITY_RETRIES="1").items():
        monkeypatch.setenv(name, value)
    server.requests.clear()
    server.queue(*replies)
    assert ampa_main(["generate", PROMPT, "--backend", "stable-audio", "--out", str(tmp_path / "out"), "--quiet"]) == code
    err = " ".join(capsys.readouterr().err.split())
    assert "Could not make the track" in err and words in err and KEY not in err
    assert len(server.requests) == len(replies)


def test_credits_are_known_before_any_request():
    config = BackendConfig(stability_api_key="k", stability_model="stable-audio-2", stability_steps=100)
    spec = Spec.from_dict({"duration_s": 240, "tempo_bpm": 120}).with_updates(backend="stable-audio")
    estimate = predict_credits(spec, config)
    assert (estimate.requests, estimate.credits, estimate.max_credits) == (2, 46.0, 138.0)
    assert predict_credits(spec.with_updates(backend="symbolic"), config).credits == 0
    # An unresolved spec takes its genre's default length, as the job will.
    assert predict_credits(Spec(backend="stable-audio"), BackendConfig()).credits == 20


def test_a_far_take_is_re_requested_and_a_later_failure_says_what_was_spent(server):
    from pipeline.backends.stability import OutOfCredits
    from pipeline.backends.stable_audio import StableAudioBackend

    server.requests.clear()
    server.tempo_factor, before = 100 / 128, server.tempo_factor  # 22 % slow: too far to stretch
    server.queue(Reply(), Reply.error(402))
    stages: list[str] = []
    backend = StableAudioBackend(api_key=KEY, base_url=server.url, mode="text", backoff_s=0.01, max_takes=3)
    spec = Spec.from_dict({"genres": ["techno"], "tempo_bpm": 128, "key": "F minor", "duration_s": 6, "seed": 3})
    try:
        with pytest.raises(OutOfCredits) as caught:
            backend.generate(spec, on_stage=stages.append)
    finally:
        server.tempo_factor = before
    assert caught.value.credits_spent == 20  # the first take was paid for, the refused one was not
    assert stages == ["generating", "correcting", "generating"]
    seeds = [int(r.fields["seed"]) for r in server.requests]
    assert len(seeds) == 2 and seeds[0] != seeds[1]  # the re-request used a new seed
