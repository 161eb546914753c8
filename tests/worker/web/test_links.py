"""Signed links: what a signature covers, expiry, and the secret kept in the data folder."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from tests.worker.conftest import make_settings
from worker.web.links import SECRET_FILE, LinkCheck, LinkSigner, link_secret


def _query(url: str) -> tuple[str, str, str]:
    path, _, query = url.partition("?")
    params = dict(part.split("=", 1) for part in query.split("&"))
    return path, params["e"], params["s"]


def test_a_signature_covers_job_file_and_expiry() -> None:
    signer = LinkSigner(secret=b"k" * 32, ttl_s=3600)
    path, e, s = _query(signer.file_url("job1", "stems.zip"))
    assert path == "/t/job1/stems.zip"
    assert signer.check("job1", "stems.zip", e, s) is LinkCheck.OK
    assert signer.check("job2", "stems.zip", e, s) is LinkCheck.TAMPERED  # another job
    assert signer.check("job1", "mix.wav", e, s) is LinkCheck.TAMPERED  # another file
    assert signer.check("job1", "", e, s) is LinkCheck.TAMPERED  # the page is not a file
    assert signer.check("job1", "stems.zip", str(int(e) + 86400), s) is LinkCheck.TAMPERED  # a longer life
    assert signer.check("job1", "stems.zip", e, s[:-1] + ("A" if s[-1] != "A" else "B")) is LinkCheck.TAMPERED
    assert signer.check("job1", "stems.zip", e, None) is LinkCheck.TAMPERED
    assert signer.check("job1", "stems.zip", "soon", s) is LinkCheck.TAMPERED
    other = LinkSigner(secret=b"j" * 32, ttl_s=3600)
    assert other.check("job1", "stems.zip", e, s) is LinkCheck.TAMPERED  # another secret


def test_an_expired_link_is_told_apart_from_a_forged_one() -> None:
    signer = LinkSigner(secret=b"k" * 32, ttl_s=3600)
    past = int(time.time()) - 5
    _, e, s = _query(signer.page_url("job1", expires=past))
    assert signer.check("job1", "", e, s) is LinkCheck.EXPIRED
    assert signer.check("job1", "", str(past + 7200), s) is LinkCheck.TAMPERED


def test_links_are_absolute_with_a_public_url_and_quote_file_names() -> None:
    signer = LinkSigner(secret=b"k" * 32, ttl_s=60, base_url="https://ampa.example.com")
    url = signer.file_url("job1", "stems/lead synth.flac")
    assert url.startswith("https://ampa.example.com/t/job1/stems/lead%20synth.flac?e=")
    assert "k" * 32 not in url


def test_the_secret_is_made_once_private_and_shared(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    secrets_read: list[bytes] = []
    threads = [threading.Thread(target=lambda: secrets_read.append(link_secret(settings))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(secrets_read)) == 1 and len(secrets_read[0]) == 64
    path = settings.data_dir / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in settings.data_dir.iterdir()] == [SECRET_FILE]  # no temporary file left
    # A later process reads the same secret: links survive a restart.
    assert link_secret(make_settings(tmp_path)) == secrets_read[0]
    os.chmod(path, 0o644)
    link_secret(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_configured_secret_wins_and_must_be_long(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, AMPA_LINK_SECRET="s" * 40)
    assert link_secret(settings) == b"s" * 40
    assert not (settings.data_dir / SECRET_FILE).exists()
    assert "s" * 40 not in repr(settings)
    with pytest.raises(ValueError, match="at least 32"):
        make_settings(tmp_path, AMPA_LINK_SECRET="short")


def test_a_public_url_must_be_a_web_address(tmp_path: Path) -> None:
    """Chat link buttons need absolute http(s) URLs: a bare host name is refused at start."""
    with pytest.raises(ValueError, match="must start with http"):
        make_settings(tmp_path, AMPA_PUBLIC_URL="ampa.example.com")
    assert make_settings(tmp_path, AMPA_PUBLIC_URL="").public_base_url is None
    signer = LinkSigner.from_settings(make_settings(tmp_path, AMPA_PUBLIC_URL="https://ampa.example.com/"))
    assert signer.page_url("j").startswith("https://ampa.example.com/t/j?e=")
