"""Signed links: a job's page and files reachable without a token, for a limited time.

A link carries its expiry (`e`, Unix seconds) and an HMAC-SHA256 signature (`s`) over the job id,
the file name ("" for the page) and that expiry, keyed by the link secret. Changing any of the three
breaks the signature; the server checks it in constant time before it looks at the expiry, so a
tampered link says nothing about the job. Links hold no token and no secret: the signature is a
one-way function of the secret.

The secret is `AMPA_LINK_SECRET`, or else one made once with `secrets` and kept in the data folder
(`link-secret`, mode 0600), so every process sharing that folder (the API, the bots, docker-compose's
shared volume) signs and checks the same links.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from worker.schemas import JobView
from worker.settings import Settings

SECRET_FILE = "link-secret"


class LinkCheck(Enum):
    OK = "ok"
    TAMPERED = "tampered"  # wrong or missing signature: 403
    EXPIRED = "expired"  # a genuine link past its expiry: 410


def link_secret(settings: Settings) -> bytes:
    """AMPA_LINK_SECRET, or the data folder's secret file (made on first use, readable only by us)."""
    if settings.link_secret is not None:
        return settings.link_secret.get_secret_value().strip().encode()
    path = Path(settings.data_dir).expanduser() / SECRET_FILE
    if not path.is_file():
        _create_secret_file(path)
    secret = path.read_bytes().strip()
    if len(secret) < 32:
        raise ValueError(f"{path} holds no usable link secret; delete it to have a new one made")
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a copy or a restore loosened it
    return secret


def _create_secret_file(path: Path) -> None:
    """Written in full under a private name, then linked into place: two processes starting at once
    both end up reading the one file that won, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class LinkSigner:
    """Makes and checks signed URLs. `base_url` (AMPA_PUBLIC_URL) makes them absolute; empty: relative."""

    secret: bytes = field(repr=False)
    ttl_s: float
    base_url: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkSigner:
        return cls(
            secret=link_secret(settings),
            ttl_s=settings.link_days * 86400,
            base_url=(settings.public_base_url or "").rstrip("/"),
        )

    # ------------------------------------------------------------------ signing
    def expiry(self, now: float | None = None) -> int:
        return int((time.time() if now is None else now) + self.ttl_s)

    def signature(self, job_id: str, name: str, expires: int) -> str:
        message = f"ampa-link\0{job_id}\0{name}\0{expires}".encode()
        digest = hmac.new(self.secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def check(self, job_id: str, name: str, expires: str | None, signature: str | None) -> LinkCheck:
        if not expires or not signature or not expires.isdigit():
            return LinkCheck.TAMPERED
        expected = self.signature(job_id, name, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace")):
            return LinkCheck.TAMPERED
        return LinkCheck.EXPIRED if int(expires) < time.time() else LinkCheck.OK

    # ------------------------------------------------------------------ URLs
    def page_url(self, job_id: str, expires: int | None = None) -> str:
        expires = self.expiry() if expires is None else expires
        return f"{self.base_url}/t/{job_id}?e={expires}&s={self.signature(job_id, '', expires)}"

    def file_url(self, job_id: str, name: str, expires: int | None = None) -> str:
        expires = self.expiry() if expires is None else expires
        return f"{self.base_url}/t/{job_id}/{quote(name)}?e={expires}&s={self.signature(job_id, name, expires)}"

    def for_job(self, job: JobView, expires: int | None = None) -> dict[str, Any]:
        """What the API and `ampa jobs show` add to a job: `page_url`, `links` (one per file), their expiry."""
        expires = self.expiry() if expires is None else expires
        return {
            "page_url": self.page_url(job.id, expires),
            "links": {name: self.file_url(job.id, name, expires) for name in job.files},
            "links_expire_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
        }

    def for_chat(self, job: JobView) -> dict[str, str]:
        """For a bot's message: "page" and one link per file, all absolute; empty without a public
        address (AMPA_PUBLIC_URL), since a relative link means nothing in a chat."""
        if not self.base_url:
            return {}
        expires = self.expiry()
        return {"page": self.page_url(job.id, expires)} | {
            name: self.file_url(job.id, name, expires) for name in job.files
        }
