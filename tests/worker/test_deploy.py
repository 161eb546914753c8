"""docker-compose.yml and the Dockerfile: checked with the real `docker-compose config` (no Docker
engine runs here), and the commands the containers run are the ones the tests run."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from ampa.cli import build_parser
from tests.worker.conftest import IN_CI, REPO
from tests.patience import patience


@pytest.fixture(scope="module")
def compose() -> dict:
    binary = shutil.which("docker-compose")
    if binary is None:
        if IN_CI:
            pytest.fail("docker-compose is not installed (CI=true)")
        pytest.skip("docker-compose is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "AMPA_"))}
    out = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=patience(60),
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def test_services_and_start_order(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker", "discord", "slack"}
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker", "discord", "slack"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://") and env["REDIS_URL"].startswith("redis://")
    assert "ports" not in services["worker"] and "container_name" not in services["worker"]  # --scale worker=N


def test_containers_run_real_ampa_commands(compose: dict) -> None:
    services = compose["services"]
    parser = build_parser()
    for name in ("migrate", "api", "worker"):
        args = parser.parse_args(services[name]["command"])  # exits (SystemExit) on an unknown command
        assert callable(args.func)
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["worker"]["command"] == ["worker"]
    for name, command in (("discord", "exec ampa discord"), ("slack", "exec ampa slack")):
        script = services[name]["entrypoint"][-1]
        assert command in script and "exit 0" in script
        assert services[name]["restart"] == "on-failure"  # a bot without a token exits 0 and stays down


def test_bot_entrypoint_exits_cleanly_without_a_token(compose: dict) -> None:
    script = compose["services"]["discord"]["entrypoint"][-1].replace("$$", "$")
    out = subprocess.run(
        ["sh", "-c", script],
        env={"PATH": os.environ["PATH"], "DISCORD_TOKEN": ""},
        capture_output=True,
        text=True,
        timeout=patience(30),
        check=False,
    )
    assert out.returncode == 0 and "not started" in out.stdout


def test_dockerfile_installs_cpu_torch_and_the_soundfont() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert text.startswith("# ampa") and "FROM python:3.11-slim" in text
    assert "fluid-soundfont-gm" in text
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in text
    assert 'ENTRYPOINT ["ampa"]' in text


def test_the_api_serves_the_track_pages_and_every_container_links_them_alike(compose: dict) -> None:
    """`api` publishes its port (the pages live there); every ampa container gets the same public
    address and settings built from its environment accept them (an empty AMPA_LINK_SECRET means
    "use the shared volume's"); the bots serve no pages of their own."""
    from worker.settings import Settings

    services = compose["services"]
    published = {int(p["target"]) for p in services["api"]["ports"]}
    assert 8000 in published and services["api"]["command"][-1] == "8000"
    for name in ("api", "worker", "discord", "slack"):
        env = services[name]["environment"]
        assert env["AMPA_PUBLIC_URL"] == "http://localhost:8000" and env["AMPA_DATA_DIR"] == "/data"
        ours = {k: v for k, v in env.items() if k.startswith("AMPA_") and k != "AMPA_API_TOKEN"}
        settings = Settings(_env_file=None, **ours)
        assert settings.link_secret is None and settings.web_port == 0 and settings.retention_days == 30
        assert any(str(volume).startswith("ampa-data:/data") for volume in services[name]["volumes"])
