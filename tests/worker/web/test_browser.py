"""The track page in a real browser: Debian's headless Chromium driven by selenium, against a live
embedded ampa (SQLite, in-process runner, the REAL pipeline on two short versions of a track).

Selenium Manager downloads nothing: the browser and the driver are Debian's (/usr/bin/chromium,
/usr/bin/chromedriver) and SE_OFFLINE is set. Screenshots at phone (390 px) and desktop (1280 px)
widths are saved under $AMPA_TEST_ARTIFACTS (or a pytest temporary folder) and their paths printed.
"""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
import soundfile

from tests.worker.conftest import IN_CI
from tests.worker.web.live import LiveSite
from worker.schemas import JobRequest, JobStatus

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

pytestmark = pytest.mark.timeout(400)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """v1 of a track and a reply that made v2, both made by the real pipeline and served live."""
    with LiveSite(tmp_path_factory.mktemp("live")) as live:
        service = live.service
        assert service is not None
        first = live.run(
            service.submit(
                JobRequest(prompt="synthwave at 120 BPM in A minor, 6 seconds", platform="api", requester_id="web")
            )
        )
        first = live.run(live.finished(first.id))
        assert first.status == JobStatus.SUCCESS, first.error
        follow = live.run(service.follow_up(first.id, "make the drums quieter", requester_id="web"))
        assert follow.job is not None, follow.message
        second = live.run(live.finished(follow.job.id))
        assert second.status == JobStatus.SUCCESS, second.error
        yield {"live": live, "v1": first, "v2": second}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        if IN_CI:
            pytest.fail("chromium and chromium-driver are not installed (scripts/install.sh installs them)")
        pytest.skip("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--mute-audio"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("AMPA_TEST_ARTIFACTS") or tmp_path_factory.mktemp("artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _page_url(site: dict[str, Any], version: str) -> str:
    live: LiveSite = site["live"]
    return live.service.links.page_url(site[version].id)


def _fetch(driver: Any, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """fetch() from inside the page: status, two headers, length and SHA-256 of the body."""
    return driver.execute_async_script(
        """
        const [url, headers, done] = arguments;
        fetch(url, {headers}).then(async (r) => {
          const body = await r.arrayBuffer();
          const digest = await crypto.subtle.digest('SHA-256', body);
          done({status: r.status, length: body.byteLength,
                range: r.headers.get('content-range'), accept: r.headers.get('accept-ranges'),
                sha256: [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join('')});
        }).catch((e) => done({error: String(e)}));
        """,
        url,
        headers or {},
    )


def _pictures_loaded(browser: Any) -> list[list[Any]]:
    """Wait until every picture has loaded (or failed): [path, naturalWidth, naturalHeight] each."""
    return browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const images = [...document.querySelectorAll('figure img')];
        Promise.all(images.map(i => i.complete ? null : new Promise(r => { i.onload = r; i.onerror = r; })))
          .then(() => done(images.map(i => [new URL(i.src).pathname, i.naturalWidth, i.naturalHeight])));
        """
    )


def test_the_page_renders_plays_and_shows_its_pictures(browser: Any, site: dict[str, Any]) -> None:
    v2 = site["v2"]
    browser.get(_page_url(site, "v2"))
    assert v2.summary in browser.title
    assert browser.find_element("css selector", "h1.title").text == v2.summary
    # The player has a playable source: the browser decodes its metadata and knows its length.
    state = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const audio = document.querySelector('audio');
        const report = () => done({ready: audio.readyState, duration: audio.duration, src: audio.currentSrc,
                                   error: audio.error && audio.error.code});
        if (audio.readyState >= 1) report();
        else {
          audio.addEventListener('loadedmetadata', report); audio.addEventListener('error', report); audio.load();
        }
        """
    )
    assert state["error"] is None and state["ready"] >= 1, state
    assert urlsplit(state["src"]).path.endswith("/mix.mp3")
    assert abs(state["duration"] - 6.0) < 1.5, state
    # Both pictures load (the piano roll is new: one colour per stem, sections marked).
    pictures = _pictures_loaded(browser)
    names = sorted(path.rsplit("/", 1)[-1] for path, _, _ in pictures)
    assert names == ["pianoroll.png", "spectrogram.png"]
    assert all(width == 1600 and height == 600 for _, width, height in pictures), pictures
    text = browser.find_element("tag name", "main").text
    for heading in ("Downloads", "Measured on the master", "What ampa understood", "Versions"):
        assert heading in text
    figures = browser.find_element("css selector", "table.figures").text
    assert "Loudness" in figures and "LUFS" in figures and "True peak" in figures
    assert "Tempo" in figures and "120.0 BPM" in figures and "Key" in figures and "A minor" in figures
    understood = browser.find_element("css selector", "dl.understood").text
    assert "synthwave" in understood and "you asked" in understood and "ampa chose" in understood
    assert "drums -4 dB" in understood  # the reply's mix change


def test_each_download_returns_the_files_bytes_and_audio_answers_ranges(browser: Any, site: dict[str, Any]) -> None:
    live: LiveSite = site["live"]
    v2 = site["v2"]
    browser.get(_page_url(site, "v2"))
    links = browser.execute_script(
        "return [...document.querySelectorAll('a[download]')].map(a => [a.dataset.name, a.href, "
        "a.parentElement.querySelector('.kind').textContent]);"
    )
    names = {name for name, _, _ in links}
    assert {"mix.mp3", "mix.wav", "stems.zip", "stems-wav.zip", "song.mid", "report.json"} <= names
    assert {n for n in names if n.startswith("stems/")} and all(
        n.endswith(".flac") for n in names if n.startswith("stems/")
    )
    for name, href, kind in links:
        fetched = _fetch(browser, href)
        assert fetched.get("status") == 200, (name, fetched)
        path = live.service.file_path(v2, name) or live.service.file_path(v2, "stems.zip").with_name(name)
        assert fetched["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), name
        assert kind.split("·")[-1].strip().endswith(("kB", "MB", "bytes", "when asked")), kind
    # The WAV stems (made on request for DAWs without FLAC) hold the FLAC stems' very samples.
    flac_zip = live.service.file_path(v2, "stems.zip")
    with zipfile.ZipFile(flac_zip) as flacs, zipfile.ZipFile(flac_zip.with_name("stems-wav.zip")) as wavs:
        assert [n.replace(".flac", ".wav") for n in flacs.namelist()] == wavs.namelist()
        for flac_name, wav_name in zip(flacs.namelist(), wavs.namelist(), strict=True):
            with flacs.open(flac_name) as a, wavs.open(wav_name) as b:
                flac_audio, wav_audio = soundfile.read(a, dtype="int32"), soundfile.read(b, dtype="int32")
            assert soundfile.info(wavs.open(wav_name)).subtype == "PCM_24"
            assert np.array_equal(flac_audio[0], wav_audio[0]) and flac_audio[1] == wav_audio[1]
    mp3 = next(href for name, href, _ in links if name == "mix.mp3")
    size = live.service.file_path(v2, "mix.mp3").stat().st_size
    assert _fetch(browser, mp3)["accept"] == "bytes"  # players learn they may seek
    part = _fetch(browser, mp3, {"Range": "bytes=1000-1999"})
    assert part["status"] == 206 and part["length"] == 1000, part
    assert part["range"] == f"bytes 1000-1999/{size}"
    whole = live.service.file_path(v2, "mix.mp3").read_bytes()
    assert part["sha256"] == hashlib.sha256(whole[1000:2000]).hexdigest()


def test_versions_link_each_other(browser: Any, site: dict[str, Any]) -> None:
    browser.get(_page_url(site, "v2"))
    items = browser.find_elements("css selector", "ol.versions li")
    assert [item.text.split()[0] for item in items] == ["v1", "v2"]
    assert "make the drums quieter" in items[1].text and items[1].get_attribute("aria-current") == "page"
    items[0].find_element("tag name", "a").click()
    assert browser.find_element("css selector", "h1.title").text == site["v1"].summary
    current = browser.find_element("css selector", "ol.versions li.current")
    assert current.text.startswith("v1")


def test_tampered_and_expired_links_are_refused(browser: Any, site: dict[str, Any]) -> None:
    live: LiveSite = site["live"]
    v1 = site["v1"]
    signer = live.service.links
    browser.get(_page_url(site, "v1"))  # any page of the site, for fetch()
    good = signer.file_url(v1.id, "mix.wav")
    tampered = good.replace("/mix.wav?", "/stems.zip?")
    expired = signer.file_url(v1.id, "mix.wav", expires=int(time.time()) - 60)
    longer = good.replace("e=", "e=9")
    wav = hashlib.sha256(live.service.file_path(v1, "mix.wav").read_bytes()).hexdigest()
    assert _fetch(browser, good)["sha256"] == wav
    for url, status in ((tampered, 403), (longer, 403), (expired, 410)):
        answer = _fetch(browser, url)
        assert answer["status"] == status and answer["sha256"] != wav, (url, answer)
    browser.get(expired)
    assert "This link has expired" in browser.find_element("tag name", "h1").text
    browser.get(signer.page_url(v1.id).replace("s=", "s=x"))
    assert "This link is not valid" in browser.find_element("tag name", "h1").text


@pytest.mark.parametrize("width", [390, 1280])
def test_screenshots_at_phone_and_desktop_widths(
    browser: Any, site: dict[str, Any], artifacts: Path, width: int
) -> None:
    browser.set_window_size(width, 900)
    browser.get(_page_url(site, "v2"))
    inner = browser.execute_script("return window.innerWidth")
    browser.set_window_size(width + (width - inner), 900)  # the window's frame takes a few pixels
    # Nothing wider than the screen: a phone never scrolls sideways.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width + (width - inner), height + 200)
    # The pictures load lazily: with the whole page in view, wait for them before the screenshot.
    assert all(w > 0 for _, w, _ in _pictures_loaded(browser))
    path = artifacts / f"track-page-{width}px.png"
    assert browser.save_screenshot(str(path))
    print(f"screenshot: {path}")
    assert path.stat().st_size > 10_000


def test_pages_and_links_carry_no_secret(browser: Any, site: dict[str, Any]) -> None:
    live: LiveSite = site["live"]
    secret = live.service.links.secret.decode()
    browser.get(_page_url(site, "v2"))
    html = browser.page_source
    assert secret not in html and secret not in _page_url(site, "v2")
    assert all(secret not in url for url in live.service.links.for_chat(site["v2"]).values())
