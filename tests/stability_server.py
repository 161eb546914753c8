"""A local stand-in for Stability AI's Stable Audio API (v2beta), for tests over real HTTP.

    with StabilityStandIn(api_key="sk-test") as server:          # listens on 127.0.0.1:<free port>
        server.queue(Reply.error(429, retry_after=1), Reply.drop())  # the next answers, in order
        server.tempo_factor = 125 / 128                           # then: audio slightly off
        ... STABILITY_API_URL=server.url ...
        server.requests                                           # every request, as received

Strict where Stability is: only the two endpoints, POST, multipart/form-data (a urlencoded body is
answered 400, as the real API does), `authorization: Bearer <key>` (401 otherwise), `accept`
audio/* or application/json, the documented field names (an unknown field is a 400 here, to catch
a misspelt one), and the documented ranges. A valid request with nothing queued gets audio
synthesised from the prompt's own words: a drum, bass and chord loop at the prompt's "N BPM" and
key — times `tempo_factor` and shifted by `key_shift` semitones, so a test can hand ampa a take
that is slightly off, as real models do.
"""

from __future__ import annotations

import base64
import email
import email.policy
import io
import json
import re
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import soundfile

ENDPOINTS = {
    "/v2beta/audio/stable-audio-2/text-to-audio": "text-to-audio",
    "/v2beta/audio/stable-audio-2/audio-to-audio": "audio-to-audio",
}
TEXT_FIELDS = {"prompt", "duration", "seed", "steps", "cfg_scale", "model", "output_format"}
STEPS = {"stable-audio-2.5": (4, 8), "stable-audio-2": (30, 100)}
TONICS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_FLAT_TO_SHARP = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb"}
RATE = 44100


@dataclass(frozen=True)
class Reply:
    """A scripted answer for the next request (instead of audio)."""

    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    garbage: bool = False  # 200 with an audio content type and bytes that are not audio
    location: str | None = None  # a redirect

    @classmethod
    def error(cls, status: int, *errors: str, name: str | None = None, retry_after: float | None = None) -> Reply:
        names = {401: "unauthorized", 402: "payment_required", 403: "forbidden", 422: "invalid_request",
                 429: "rate_limit_exceeded", 500: "internal_error", 503: "service_unavailable"}
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        body = {"id": f"err-{status}", "name": name or names.get(status, "error"), "errors": list(errors) or ["error"]}
        return cls(status=status, body=body, headers=headers)

    @classmethod
    def moderation(cls) -> Reply:
        return cls.error(403, "Your request was flagged by our content moderation system", name="content_moderation")

    @classmethod
    def dropped(cls) -> Reply:
        return cls(drop=True)

    @classmethod
    def undecodable(cls) -> Reply:
        return cls(garbage=True)

    @classmethod
    def redirect(cls, location: str) -> Reply:
        return cls(status=307, location=location)


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]  # lower-cased names
    fields: dict[str, str]
    files: dict[str, tuple[str, bytes]]  # name -> (filename, content)
    answered: int | None  # the status sent back; None for a dropped connection


class StabilityStandIn:
    def __init__(self, api_key: str = "sk-standin-key", *, tempo_factor: float = 1.0, key_shift: int = 0) -> None:
        self.api_key = api_key
        self.tempo_factor = tempo_factor
        self.key_shift = key_shift
        self.answer_json = False  # answer audio as JSON base64 even to accept: audio/*
        self.requests: list[Recorded] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="stability-standin", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def queue(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def start(self) -> StabilityStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StabilityStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def next_reply(self) -> Reply | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    # ------------------------------------------------------------------- validation and audio
    def problems(self, kind: str, headers: dict[str, str], fields: dict[str, str], files: dict) -> tuple[int, list[str]]:
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, ["authorization: missing or invalid API key"]
        if not headers.get("content-type", "").startswith("multipart/form-data; boundary="):
            return 400, ["content-type: the body must be multipart/form-data"]
        accept = headers.get("accept", "")
        if accept not in ("audio/*", "application/json"):
            return 400, [f"accept: must be audio/* or application/json, got {accept!r}"]
        allowed_files = {"audio"} if kind == "audio-to-audio" else {"none"}
        allowed_fields = TEXT_FIELDS | ({"strength"} if kind == "audio-to-audio" else set())
        errors = [f"{name}: unknown field" for name in fields if name not in allowed_fields]
        errors += [f"{name}: unexpected file" for name in files if name not in allowed_files]
        errors += [f"{name}: sent as a file" for name in files if name in allowed_fields]
        prompt = fields.get("prompt", "")
        if not prompt.strip() or len(prompt) > 10_000:
            errors.append("prompt: required, at most 10000 characters")
        model = fields.get("model", "stable-audio-2.5")
        if model not in STEPS:
            errors.append(f"model: must be stable-audio-2.5 or stable-audio-2, got {model!r}")
        errors += _number(fields, "duration", 1, 190, float)
        errors += _number(fields, "seed", 0, 4294967294, int)
        errors += _number(fields, "cfg_scale", 1, 25, float)
        if model in STEPS:
            errors += _number(fields, "steps", *STEPS[model], int)
        if fields.get("output_format", "mp3") not in ("mp3", "wav"):
            errors.append("output_format: must be mp3 or wav")
        if kind == "audio-to-audio":
            errors += _number(fields, "strength", 0, 1, float)
            audio = files.get("audio")
            if audio is None:
                errors.append("audio: required")
            else:
                try:
                    info = soundfile.info(io.BytesIO(audio[1]))
                    if not 6 <= info.duration <= 190 or len(audio[1]) > 50_000_000:
                        errors.append(f"audio: must be 6–190 s and at most 50 MB (got {info.duration:.1f} s)")
                except RuntimeError:
                    errors.append("audio: not a readable audio file")
        elif files.get("none", ("", b""))[1]:
            errors.append("none: the dummy file part must be empty")
        return (400, errors) if errors else (200, [])

    def synthesise(self, fields: dict[str, str]) -> np.ndarray:
        prompt = fields["prompt"]
        bpm_match = re.search(r"(\d+(?:\.\d+)?)\s*BPM", prompt, re.IGNORECASE)
        key_match = re.search(r"\b([A-G][#b]?) (major|minor|dorian|mixolydian|lydian|phrygian)\b", prompt)
        bpm = (float(bpm_match.group(1)) if bpm_match else 120.0) * self.tempo_factor
        tonic = _FLAT_TO_SHARP.get(key_match.group(1), key_match.group(1)) if key_match else "C"
        minor = bool(key_match) and key_match.group(2) in ("minor", "dorian", "phrygian")
        seconds = float(fields.get("duration", "190"))
        return groove(bpm, (TONICS.index(tonic) + self.key_shift) % 12, minor, seconds, seed=int(fields.get("seed", 0) or 0))


def groove(bpm: float, tonic_pc: int, minor: bool, seconds: float, *, seed: int = 0) -> np.ndarray:
    """(2, n) float32: kick on every beat, hats between, a bass root and a chord per bar (i–iv–v–i
    in minor, I–IV–V–I in major), so tempo and key meters have what real music gives them."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    out = np.zeros(n, np.float64)
    beat = 60.0 / bpm
    rng = np.random.default_rng(seed)
    kick_t = np.arange(int(0.25 * RATE)) / RATE
    # A low kick (38–45 Hz, below the key meter's 55 Hz floor) so it does not read as a pitch.
    kick = 0.4 * np.sin(2 * np.pi * (38 * kick_t + 7 * (1 - np.exp(-kick_t * 40)) / 40)) * np.exp(-kick_t * 18)
    hat = rng.standard_normal(int(0.04 * RATE)) * np.exp(-np.arange(int(0.04 * RATE)) / RATE * 120) * 0.25
    for start in np.arange(0.0, seconds, beat):
        i = int(start * RATE)
        out[i : i + kick.size] += kick[: n - i]
        j = int((start + beat / 2) * RATE)
        if j < n:
            out[j : j + hat.size] += hat[: n - j]
    progression = ((0, 3, 7), (5, 8, 12), (7, 10, 14), (0, 3, 7)) if minor else ((0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7))
    bar = 4 * beat
    for b, start in enumerate(np.arange(0.0, seconds, bar)):
        chord = progression[b % 4]
        i0, i1 = int(start * RATE), min(n, int((start + bar) * RATE))
        local = t[i0:i1] - start
        envelope = np.exp(-local * 1.5)
        for k, interval in enumerate(chord):
            f = 440.0 * 2 ** ((60 + tonic_pc + interval - 69) / 12)  # from middle C
            # Harmonics at 1/k, as a real instrument has (the key meter expects them and takes them off).
            out[i0:i1] += 0.2 * envelope * sum(np.sin(2 * np.pi * f * h * local) / h for h in range(1, 7))
        root = 440.0 * 2 ** ((36 + tonic_pc + chord[0] % 12 - 69) / 12)  # from C2
        out[i0:i1] += 0.25 * np.exp(-local * 2.0) * np.sin(2 * np.pi * root * local)
    out *= 0.8 / max(1e-9, float(np.max(np.abs(out))))
    return np.stack([out, out * 0.98]).astype(np.float32)


def _number(fields: dict[str, str], name: str, low: float, high: float, kind: type) -> list[str]:
    if name not in fields:
        return []
    try:
        value = kind(fields[name])
    except ValueError:
        return [f"{name}: not a {kind.__name__}: {fields[name]!r}"]
    return [] if low <= value <= high else [f"{name}: must be between {low} and {high}, got {value}"]


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]] | None:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.message_from_bytes(head + body, policy=email.policy.HTTP)
    if not message.is_multipart():
        return None
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            return None
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, payload)
        else:
            fields[name] = payload.decode("utf-8")
    return fields, files


def _handler_for(server: StabilityStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet: tests read server.requests instead
            pass

        def do_GET(self) -> None:
            self._send_json(405, {"id": "x", "name": "method_not_allowed", "errors": ["use POST"]})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            kind = ENDPOINTS.get(self.path)
            parsed = _parse_multipart(headers.get("content-type", ""), body) if "multipart" in headers.get("content-type", "") else None
            fields, files = parsed if parsed else ({}, {})
            reply = server.next_reply() if kind else None

            def record(status: int | None) -> None:
                server.record(Recorded(self.path, headers, fields, files, status))

            if kind is None:
                record(404)
                return self._send_json(404, {"id": "x", "name": "not_found", "errors": [f"no route {self.path}"]})
            if reply is not None and reply.drop:
                record(None)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
            if reply is not None and reply.location:
                record(reply.status)
                self.send_response(reply.status)
                self.send_header("location", reply.location)
                self.send_header("content-length", "0")
                self.end_headers()
                return None
            status, errors = server.problems(kind, headers, fields, files)
            if parsed is None and status == 200:  # a multipart content type over a body that is not
                status, errors = 400, ["the body must be multipart/form-data"]
            if status != 200:
                record(status)
                return self._send_json(status, {"id": "bad", "name": "bad_request" if status == 400 else "unauthorized", "errors": errors})
            if reply is not None and reply.status != 200:
                record(reply.status)
                return self._send_json(reply.status, reply.body or {}, reply.headers)
            seed = int(fields.get("seed", "0") or 0) or 1234567
            if reply is not None and reply.garbage:
                record(200)
                return self._send(200, b"RIFF\x00\x00not audio at all", "audio/wav", {"seed": str(seed), "finish-reason": "SUCCESS"})
            audio = server.synthesise(fields)
            fmt = fields.get("output_format", "mp3")
            data = _encode(audio, fmt)
            record(200)
            if headers.get("accept") == "application/json" or server.answer_json:
                return self._send_json(200, {"audio": base64.b64encode(data).decode(), "seed": seed, "finish_reason": "SUCCESS"})
            return self._send(200, data, "audio/wav" if fmt == "wav" else "audio/mpeg", {"seed": str(seed), "finish-reason": "SUCCESS"})

        def _send_json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(body).encode(), "application/json", headers or {})

        def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _encode(audio: np.ndarray, fmt: str) -> bytes:
    if fmt == "wav":
        buffer = io.BytesIO()
        soundfile.write(buffer, audio.T, RATE, subtype="PCM_16", format="WAV")
        return buffer.getvalue()
    from pedalboard.io import AudioFile

    buffer = io.BytesIO()
    with AudioFile(buffer, "w", samplerate=RATE, num_channels=2, format="mp3", quality=192) as f:
        f.write(audio)
    return buffer.getvalue()


if __name__ == "__main__":
    # A stand-in to point `ampa` at by hand: python -m tests.stability_server --key sk-x [--tempo-factor 0.977]
    import argparse
    import time

    parser = argparse.ArgumentParser(description="a local stand-in for Stability's Stable Audio API")
    parser.add_argument("--key", default="sk-standin-key")
    parser.add_argument("--tempo-factor", type=float, default=1.0, help="answer at the prompt's tempo times this")
    parser.add_argument("--key-shift", type=int, default=0, help="answer this many semitones off the prompt's key")
    args = parser.parse_args()
    with StabilityStandIn(api_key=args.key, tempo_factor=args.tempo_factor, key_shift=args.key_shift) as server:
        print(f"STABILITY_API_URL={server.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
