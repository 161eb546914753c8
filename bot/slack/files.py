"""Downloading a reference file a user shared with a mention, safely.

An event names its files by URL, and an event can carry any URL. The bot token opens every file
the app can see, so it is only ever sent to Slack's own file hosts (`files.slack.com`) or to the
origin of `SLACK_API_URL` when that was changed (a compatible server, the test emulator). Redirects
are followed by hand, one hop at a time, under the same rule. The size cap is checked against the
file's metadata before downloading and again while reading, so a lying `size` field cannot make
the app buffer a huge body.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp

from bot.common.attachments import AttachmentError, check_reference
from bot.slack.settings import SLACK_FILE_HOSTS, SlackSettings

log = logging.getLogger(__name__)

_MAX_REDIRECTS = 3
_CHUNK = 64 * 1024


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def is_trusted_file_url(url: str, api_url: str) -> bool:
    """True when `url` is on Slack's file host (https) or on the same origin as the Web API."""
    scheme, host, port = _origin(url)
    if scheme == "https" and host in SLACK_FILE_HOSTS and port == 443:
        return True
    return (scheme, host, port) == _origin(api_url)


def file_url(file: dict[str, Any]) -> str | None:
    return file.get("url_private_download") or file.get("url_private")


async def fetch_reference(file: dict[str, Any], settings: SlackSettings, *, timeout_s: float = 60.0) -> Path:
    """Download one shared file and check it is usable audio; return the saved path.

    Raises AttachmentError (with a message for the user) for anything wrong with the file.
    """
    name = file.get("name") or file.get("title") or "the file"
    url = file_url(file)
    if not url:
        raise AttachmentError(f"I couldn't get {name} from Slack (it has no download link). Try uploading it again.")
    if not is_trusted_file_url(url, settings.slack_api_url):
        log.warning("refused a file URL outside Slack's file hosts: %s", _origin(url)[1])
        raise AttachmentError(
            f"I can only fetch files uploaded to Slack, and {name} points somewhere else. "
            "Upload the audio file directly into Slack and mention me again."
        )
    declared = file.get("size")
    if isinstance(declared, int) and declared > settings.max_reference_bytes:
        raise _too_large(name, declared, settings.max_reference_bytes)
    data = await _download(url, name, settings, timeout_s)
    return check_reference(
        data, name, max_bytes=settings.max_reference_bytes, max_seconds=settings.max_reference_seconds
    )


async def _download(url: str, name: str, settings: SlackSettings, timeout_s: float) -> bytes:
    headers = {"Authorization": f"Bearer {settings.slack_bot_token.get_secret_value()}"}
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for _ in range(_MAX_REDIRECTS + 1):
                async with session.get(url, headers=headers, allow_redirects=False) as response:
                    if response.status in (301, 302, 303, 307, 308):
                        target = urljoin(url, response.headers.get("Location", ""))
                        if not is_trusted_file_url(target, settings.slack_api_url):
                            raise AttachmentError(
                                f"Slack sent me elsewhere to fetch {name}, so I stopped. Upload it again and retry."
                            )
                        url = target
                        continue
                    if response.status != 200:
                        log.warning("file download failed: HTTP %s", response.status)
                        raise AttachmentError(
                            f"I couldn't download {name} from Slack (HTTP {response.status}). "
                            "Check that I'm in this channel and upload it again."
                        )
                    return await _read_capped(response, name, settings.max_reference_bytes)
    except aiohttp.ClientError as exc:
        log.warning("file download failed: %s", type(exc).__name__)
        raise AttachmentError(f"I couldn't download {name} from Slack just now. Please try again.") from None
    except TimeoutError:
        raise AttachmentError(f"Downloading {name} from Slack took too long. Try a smaller file.") from None
    raise AttachmentError(f"Slack redirected me too many times fetching {name}. Upload it again and retry.")


async def _read_capped(response: aiohttp.ClientResponse, name: str, cap: int) -> bytes:
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > cap:
            raise _too_large(name, len(body), cap, at_least=True)
    # Slack serves an HTML login page (200) instead of the file when the token lacks files:read.
    if response.content_type == "text/html":
        raise AttachmentError(
            f"Slack didn't let me read {name} (the app needs the files:read scope). Ask an admin to reinstall ampa."
        )
    return bytes(body)


def _too_large(name: str, size: int, cap: int, *, at_least: bool = False) -> AttachmentError:
    more = "over " if at_least else ""
    return AttachmentError(
        f"{name} is {more}{size / 1e6:.1f} MB; references can be at most {cap / 1e6:.0f} MB. "
        "Send a shorter excerpt (30–60 s is plenty) or a compressed MP3/OGG."
    )
