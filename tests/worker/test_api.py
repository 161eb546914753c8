"""The HTTP API through real HTTP requests (httpx over ASGI) against a real JobService on SQLite."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
import soundfile as sf

import tests.stand_in_pipeline as fake
from tests.worker.conftest import make_settings, wait_for
from worker.api import build_app
from worker.schemas import JobStatus
from worker.service import JobService
from tests.patience import patience

TOKEN = "t0k3n-for-tests-only-9f8e7d"


@pytest.fixture
async def client(tmp_path: Path):
    settings = make_settings(tmp_path, AMPA_API_TOKEN=TOKEN)
    service = await JobService.open(settings, pipeline=fake)
    app = build_app(settings, service)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ampa.test") as http:
        http.headers["Authorization"] = f"Bearer {TOKEN}"
        http.service = service  # type: ignore[attr-defined]
        yield http
    await service.close()


async def test_submit_follow_and_download(client: httpx.AsyncClient) -> None:
    response = await client.post("/jobs", json={"prompt": "chill lofi hip-hop, 85 BPM, 8 seconds", "requester_id": "a"})
    assert response.status_code == 201, response.text
    job = response.json()
    assert response.headers["Location"] == f"/jobs/{job['id']}"
    assert job["status"] == "PENDING"

    async def done() -> dict | None:
        body = (await client.get(f"/jobs/{job['id']}")).json()
        return body if body["status"] in ("SUCCESS", "FAILED") else None

    body = await wait_for(done, timeout=60, what="the job to finish")
    assert body["status"] == "SUCCESS"
    assert body["history"][0]["status"] == "PENDING" and body["history"][-1]["status"] == "SUCCESS"
    assert body["qa_reports"] and body["queue_position"] is None
    assert body["files"]["mix.mp3"] == f"/jobs/{job['id']}/files/mix.mp3"
    download = await client.get(body["files"]["mix.mp3"])
    assert download.status_code == 200
    assert round(sf.info(io.BytesIO(download.content)).duration) == 2, "the stand-in's 2 s MP3, whole"
    stem = await client.get(body["files"]["stems/drums.wav"])
    assert stem.status_code == 200
    listed = (await client.get("/jobs", params={"limit": 5})).json()
    assert [j["id"] for j in listed] == [job["id"]]
    stream = await client.get(f"/jobs/{job['id']}/events", headers={"Last-Event-ID": "2"})
    assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
    ids = [int(line[4:]) for line in stream.text.splitlines() if line.startswith("id: ")]
    assert ids == list(range(3, len(body["history"]) + 1))
    assert "event: SUCCESS" in stream.text


@pytest.mark.parametrize("name", ["../../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "nope.wav"])
async def test_file_names_outside_the_job_are_404(client: httpx.AsyncClient, name: str) -> None:
    job = (await client.post("/jobs", json={"prompt": "ambient pads, 8 seconds"})).json()
    response = await client.get(f"/jobs/{job['id']}/files/{name}")
    assert response.status_code == 404


async def test_auth_is_required(client: httpx.AsyncClient) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = await client.get("/jobs", headers=headers)
        assert response.status_code == 401
        assert "bearer token" in response.json()["detail"]
    assert (await client.get("/healthz", headers={"Authorization": ""})).status_code == 200


async def test_bad_requests_get_4xx_with_a_reason(client: httpx.AsyncClient) -> None:
    empty = await client.post("/jobs", json={"prompt": "  "})
    assert empty.status_code == 422 and empty.json()["reason"] == "empty_prompt"
    assert (await client.post("/jobs", json={"prompt": "x", "duration_s": -3})).status_code == 422
    assert (await client.post("/jobs", json={"prompt": "x", "colour": "red"})).status_code == 422
    assert (
        await client.post("/jobs", content=b"{not json", headers={"Content-Type": "application/json"})
    ).status_code == 422
    too_long = await client.post("/jobs", json={"prompt": "dark techno", "duration_s": 4000})
    assert too_long.status_code == 422 and "longer than this server allows" in too_long.json()["detail"]
    assert (await client.get("/jobs/missing")).status_code == 404
    assert (await client.post("/jobs/missing/cancel")).status_code == 404


async def test_limits_answer_429_and_idempotent_submit(tmp_path: Path) -> None:
    hold = tmp_path / "hold"
    hold.touch()  # jobs stay in "rendering" while this file exists
    settings = make_settings(tmp_path, AMPA_API_TOKEN=TOKEN)
    service = await JobService.open(settings, pipeline=fake, pipeline_options={"hold_file": str(hold)})
    transport = httpx.ASGITransport(app=build_app(settings, service))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://ampa.test", headers=headers) as client:
            body = {"prompt": "epic cinematic strings, 8 seconds", "requester_id": "busy"}
            first = await client.post("/jobs", json={**body, "client_ref": "req-1"})
            again = await client.post("/jobs", json={**body, "client_ref": "req-1"})
            assert first.status_code == again.status_code == 201
            assert first.json()["id"] == again.json()["id"]
            assert (await client.post("/jobs", json=body)).status_code == 201
            third = await client.post("/jobs", json=body)
            assert third.status_code == 429 and third.json()["reason"] == "concurrency"
            assert "You already have 2 tracks in the works" in third.json()["detail"]
            cancelled = await client.post(f"/jobs/{first.json()['id']}/cancel")
            assert cancelled.status_code == 200
    finally:
        hold.unlink()
        await service.close()


async def test_health_and_metrics(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}
    job = (await client.post("/jobs", json={"prompt": "funk groove, 8 seconds"})).json()
    service: JobService = client.service  # type: ignore[attr-defined]
    await wait_for(lambda: _done(service, job["id"]), timeout=60, what="the job")
    text = (await client.get("/metrics")).text
    assert 'ampa_jobs{status="SUCCESS"} 1.0' in text
    assert "ampa_queue_depth 0.0" in text
    assert 'ampa_stage_duration_seconds_count{stage="rendering"} 1.0' in text
    assert 'ampa_jobs_by_qa_retries{retries="0"} 1.0' in text
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def _done(service: JobService, job_id: str) -> bool:
    job = await service.get(job_id)
    return job is not None and job.status == JobStatus.SUCCESS


def test_api_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_app(make_settings(tmp_path))


def test_ampa_api_serves_real_http(tmp_path: Path) -> None:
    """`ampa api` as deployed: uvicorn on a real socket."""
    import socket
    import subprocess
    import sys
    import time

    from tests.worker.conftest import subprocess_env

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = subprocess_env({"AMPA_DATA_DIR": str(tmp_path / "data"), "AMPA_API_TOKEN": TOKEN})
    proc = subprocess.Popen(
        [sys.executable, "-m", "ampa.cli", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + patience(60)
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "ampa api did not start"
                time.sleep(0.1)
        assert health.status_code == 200 and health.json()["database"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/jobs").status_code == 401
        listed = httpx.get(f"http://127.0.0.1:{port}/jobs", headers={"Authorization": f"Bearer {TOKEN}"})
        assert listed.status_code == 200 and listed.json() == []
    finally:
        proc.terminate()
        proc.wait(patience(15))
