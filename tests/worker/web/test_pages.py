"""Pages and signed links through the API app (httpx over ASGI), on SQLite and on PostgreSQL: the
job JSON's `page_url` and `links`, downloads without the bearer token, refusals, and `ampa jobs show`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from tests.worker.conftest import REPO, make_settings, subprocess_env, wait_for
from tests import stand_in_pipeline as stand_in
from worker.api import build_app
from worker.service import JobService

TOKEN = "t0k3n-for-tests-only-9f8e7d"
PUBLIC = "https://ampa.example.org"


@contextlib.asynccontextmanager
async def _api_client(tmp_path: Path, **env: str):
    settings = make_settings(tmp_path, AMPA_API_TOKEN=TOKEN, AMPA_PUBLIC_URL=PUBLIC, **env)
    service = await JobService.open(settings, pipeline=stand_in)
    transport = httpx.ASGITransport(app=build_app(settings, service))
    async with httpx.AsyncClient(transport=transport, base_url="http://ampa.test") as http:
        http.service = service  # type: ignore[attr-defined]
        yield http
    await service.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def any_db_api(request: pytest.FixtureRequest, tmp_path: Path):
    env = {"DATABASE_URL": request.getfixturevalue("pg_url")} if request.param == "postgres" else {}
    async with _api_client(tmp_path, **env) as http:
        yield http


@pytest.fixture
async def api(tmp_path: Path):
    async with _api_client(tmp_path) as http:
        yield http


async def _finished(api: httpx.AsyncClient, prompt: str = "chill lofi hip-hop, 85 BPM, 8 seconds") -> dict:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    job = (await api.post("/jobs", json={"prompt": prompt, "requester_id": "a"}, headers=auth)).json()

    async def done() -> dict | None:
        body = (await api.get(f"/jobs/{job['id']}", headers=auth)).json()
        return body if body["status"] == "SUCCESS" else None

    return await wait_for(done, timeout=60, what="the job to finish")


def _local(url: str) -> str:
    assert url.startswith(PUBLIC + "/t/"), url
    return url[len(PUBLIC) :]


async def test_job_json_links_open_without_the_token(any_db_api: httpx.AsyncClient) -> None:
    api = any_db_api
    body = await _finished(api)
    assert set(body["links"]) == set(body["files"]) and body["links_expire_at"].endswith("Z")
    page = await api.get(_local(body["page_url"]))  # no Authorization header
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert body["summary"] in page.text and "What ampa understood" in page.text
    for name, url in body["links"].items():
        answer = await api.get(_local(url))
        path = api.service.file_path(await api.service.get(body["id"]), name)  # type: ignore[attr-defined]
        assert answer.status_code == 200 and answer.content == path.read_bytes(), name
    # The API's own file route still wants the token.
    assert (await api.get(f"/jobs/{body['id']}/files/mix.mp3")).status_code == 401
    # Neither the API token nor the link secret is in what a page or a link shows.
    secret = api.service.links.secret.decode()  # type: ignore[attr-defined]
    assert TOKEN not in page.text and secret not in page.text and secret not in json.dumps(body)


async def test_refused_links_get_a_page_and_never_the_file(api: httpx.AsyncClient) -> None:
    body = await _finished(api)
    signer = api.service.links  # type: ignore[attr-defined]
    wav = _local(body["links"]["mix.wav"])
    assert (await api.get(wav)).content.startswith(b"RIFF")
    other = (await _finished(api, "dark techno, 130 BPM, 8 seconds"))["id"]
    for tampered in (wav.replace(body["id"], other), wav.replace("mix.wav", "stems.zip"), wav.split("?")[0]):
        answer = await api.get(tampered)
        assert answer.status_code == 403 and "not valid" in answer.text and b"RIFF" not in answer.content
    expired = _local(signer.file_url(body["id"], "mix.wav", expires=int(time.time()) - 1))
    answer = await api.get(expired)
    assert answer.status_code == 410 and "expired" in answer.text and b"RIFF" not in answer.content
    missing = _local(signer.file_url(body["id"], "nothing.txt"))
    assert (await api.get(missing)).status_code == 404
    assert (await api.get(_local(signer.page_url("0" * 32)))).status_code == 404
    css = await api.get("/web/static/ampa.css")
    assert css.status_code == 200 and "font" in css.text


async def test_a_page_links_its_versions(api: httpx.AsyncClient) -> None:
    first = await _finished(api)
    service = api.service  # type: ignore[attr-defined]
    follow = await service.follow_up(first["id"], "make the drums quieter", requester_id="a")
    await wait_for(lambda: _succeeded(service, follow.job.id), timeout=60, what="v2")
    page = await api.get(_local(first["page_url"]))
    assert "make the drums quieter" in page.text
    assert f'href="/t/{follow.job.id}?e=' in page.text  # v1's page links v2's (relative: any address works)


async def _succeeded(service: JobService, job_id: str) -> bool:
    job = await service.get(job_id)
    return job is not None and job.status == "SUCCESS"


async def test_ampa_jobs_show_prints_signed_links(api: httpx.AsyncClient, tmp_path: Path) -> None:
    body = await _finished(api)
    env = subprocess_env({"AMPA_DATA_DIR": str(tmp_path / "data"), "AMPA_PUBLIC_URL": PUBLIC})
    # In a thread: this process's job service must keep running (and finish its transactions) while
    # the CLI reads the same SQLite file; a blocked event loop held its write lock past the CLI's wait.
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ampa", "jobs", "show", body["id"]],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    assert shown["page_url"].startswith(f"{PUBLIC}/t/{body['id']}?e=")
    assert shown["links"]["stems.zip"].startswith(f"{PUBLIC}/t/{body['id']}/stems.zip?e=")
    assert set(shown["links"]) == set(shown["files"])
    # Signed with the data folder's secret, so the API process accepts what the CLI printed.
    assert (await api.get(_local(shown["links"]["mix.wav"]))).content.startswith(b"RIFF")
    # Without a public address the links are relative (the operator knows where the API is).
    service = api.service  # type: ignore[attr-defined]
    relative = replace(service.links, base_url="")
    assert relative.for_job(await service.get(body["id"]))["page_url"].startswith(f"/t/{body['id']}?e=")
