"""`ampa submit|jobs|worker|db` as a user runs them: real processes, SQLite, the fast pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.worker.conftest import FAKE_PIPELINE, subprocess_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return subprocess_env({"AMPA_DATA_DIR": str(tmp_path / "data"), "AMPA_PIPELINE": FAKE_PIPELINE})


def ampa(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ampa.cli", *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


def test_submit_worker_jobs(env: dict[str, str]) -> None:
    assert ampa(env, "db", "upgrade").returncode == 0
    submitted = ampa(env, "submit", "funky disco groove, 110 BPM, 8 seconds", "--seed", "7")
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip().splitlines()[-1]
    assert len(job_id) == 32 and "ampa worker" in submitted.stderr

    burst = ampa(env, "worker", "--burst")
    assert burst.returncode == 0, burst.stderr

    shown = ampa(env, "jobs", "show", job_id)
    assert shown.returncode == 0
    job = json.loads(shown.stdout)
    assert job["status"] == "SUCCESS" and job["qa_retries"] == 0 and job["spec"]["seed"]["value"] == 7
    assert [e["status"] for e in job["history"]][:: len(job["history"]) - 1] == ["PENDING", "SUCCESS"]
    assert Path(job["files"]["mix.mp3"]).is_file() and job["qa_reports"]

    listed = ampa(env, "jobs", "list")
    assert listed.returncode == 0 and job_id in listed.stdout and "SUCCESS" in listed.stdout
    cancelled = ampa(env, "jobs", "cancel", job_id)
    assert cancelled.returncode == 0 and "SUCCESS" in cancelled.stdout  # finished jobs stay finished


def test_submit_wait_follows_the_job_and_fails_with_its_reason(env: dict[str, str], tmp_path: Path) -> None:
    ref = tmp_path / "ref.bad"  # the fake pipeline refuses it as the real one refuses non-audio
    ref.write_bytes(b"not audio")
    failed = ampa(env, "submit", "lofi beat, 8 seconds", "--wait", "--reference", str(ref))
    assert failed.returncode == 1
    assert "[parsing]" in failed.stderr and "FAILED" in failed.stderr and "not audio" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert len(failed.stdout.strip().splitlines()[-1]) == 32


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("submit", ""), 2, "Tell me what to make"),
        (("submit", "ambient", "--duration", "-5"), 2, "positive number"),
        (("submit", "ambient", "--duration", "5000"), 2, "longer than this server allows"),
        (("submit", "ambient", "--reference", "/nonexistent.wav"), 2, "Reference file not found"),
        (("jobs", "show", "nope"), 1, "No job with id"),
        (("jobs", "cancel", "nope"), 1, "No job with id"),
        (("jobs", "list", "--limit", "0"), 2, "--limit"),
    ],
)
def test_bad_input_gets_a_message_and_an_exit_code(
    env: dict[str, str], args: tuple[str, ...], code: int, says: str
) -> None:
    out = ampa(env, *args)
    assert out.returncode == code, (out.stdout, out.stderr)
    assert says in out.stderr and "Traceback" not in out.stderr


def test_unreachable_database_is_one_clear_line(env: dict[str, str]) -> None:
    env = {**env, "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"}
    for args in (("db", "upgrade"), ("jobs", "list")):
        out = ampa(env, *args)
        assert out.returncode == 1 and "Traceback" not in out.stderr
        assert "DATABASE_URL" in out.stderr


def test_api_refuses_to_listen_openly_without_a_token(env: dict[str, str]) -> None:
    out = ampa(env, "api")
    assert out.returncode == 2 and "AMPA_API_TOKEN is not set" in out.stderr
    out = ampa(env, "api", "--no-auth", "--host", "0.0.0.0")
    assert out.returncode == 2 and "only allowed on 127.0.0.1" in out.stderr
