"""Stems: download size and time through a signed link, FLAC (now) against 24-bit WAV (before).

For each length (30 s, 2 min, 4 min by default) a real track is made by the embedded job system
(SQLite, in-process runner, the real pipeline) while its track pages are served on 127.0.0.1; then:

- the stems archive is downloaded through its signed link, as a person would (no token), median of
  3 downloads: bytes and seconds;
- "before": the same stems (the FLAC files decode to the very samples) stored as 24-bit WAVs in a zip,
  as ampa wrote them until now: bytes;
- writing the stems: CPU seconds (all threads; wall time on a shared 2-core machine says more
  about the neighbours than about the writer) of the FLAC writer (two encoders at a time) against
  the WAV writer it replaced, on the same audio, median of 3.

    python benchmarks/stems_bench.py [--lengths 30 120 240] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.outputs import write_stem_outputs, write_wav, write_zip  # noqa: E402
from worker.schemas import JobRequest, JobStatus  # noqa: E402
from worker.service import JobService  # noqa: E402
from worker.settings import Settings  # noqa: E402
from worker.web.server import PageServer  # noqa: E402

PROMPT = "dark atmospheric synthwave at 140 BPM in A minor"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wav_stems(flac_zip: Path, out: Path) -> tuple[int, float, float, dict[str, np.ndarray]]:
    """The stems as the old writer stored them: bytes of a stored zip of 24-bit WAVs, and both writers'
    CPU seconds."""
    stems: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(flac_zip) as archive:
        for name in archive.namelist():
            with archive.open(name) as member:
                data, rate = soundfile.read(member, dtype="float32")
            stems[Path(name).stem] = data.T
    wav_times, flac_times = [], []
    for run in range(3):
        start = time.process_time()
        paths = [write_wav(out / f"wav{run}" / "stems" / f"{role}.wav", audio, rate) for role, audio in stems.items()]
        zipped = write_zip(out / f"wav{run}" / "stems.zip", paths)
        wav_times.append(time.process_time() - start)
        start = time.process_time()
        write_stem_outputs(out / f"flac{run}", stems, rate)
        flac_times.append(time.process_time() - start)
    return zipped.stat().st_size, statistics.median(wav_times), statistics.median(flac_times), stems


async def measure(lengths: list[float], runs: int) -> list[dict[str, float]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="ampa-stems-bench-") as folder:
        port = _free_port()
        settings = Settings(
            _env_file=None,
            AMPA_DATA_DIR=Path(folder) / "data",
            AMPA_PUBLIC_URL=f"http://127.0.0.1:{port}",
            AMPA_WEB_PORT=port,
            AMPA_MAX_DURATION=600,
            AMPA_JOB_TIMEOUT=900,
        )
        async with await JobService.open(settings) as service, PageServer(settings, service):
            async with httpx.AsyncClient(timeout=300) as http:
                for seconds in lengths:
                    job = await service.submit(
                        JobRequest(prompt=PROMPT, platform="cli", requester_id="bench", duration_s=seconds)
                    )
                    async for _ in service.events(job.id):
                        pass
                    job = await service.get(job.id)
                    if job.status != JobStatus.SUCCESS:
                        raise SystemExit(f"{seconds:g} s: the job failed: {job.error}")
                    url = service.links.for_chat(job)["stems.zip"]
                    times, size = [], 0
                    for _ in range(runs):
                        start = time.perf_counter()
                        answer = await http.get(url)
                        times.append(time.perf_counter() - start)
                        answer.raise_for_status()
                        size = len(answer.content)
                    zip_path = service.file_path(job, "stems.zip")
                    assert size == zip_path.stat().st_size
                    wav_size, wav_s, flac_s, stems = _wav_stems(zip_path, Path(folder) / f"re-{seconds:g}")
                    rows.append(
                        {
                            "seconds": seconds,
                            "stems": len(stems),
                            "wav_zip_mb": wav_size / 1e6,
                            "flac_zip_mb": size / 1e6,
                            "download_s": statistics.median(times),
                            "wav_write_s": wav_s,
                            "flac_write_s": flac_s,
                        }
                    )
                    print(_line(rows[-1]), flush=True)
    return rows


def _line(row: dict[str, float]) -> str:
    length = f"{int(row['seconds']) // 60}:{int(row['seconds']) % 60:02d}"
    return (
        f"| {length} | {row['stems']} | {row['wav_zip_mb']:.1f} MB | {row['flac_zip_mb']:.1f} MB "
        f"({row['flac_zip_mb'] / row['wav_zip_mb']:.0%}) | {row['download_s']:.2f} s | "
        f"{row['wav_write_s']:.2f} s | {row['flac_write_s']:.2f} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=float, nargs="+", default=[30.0, 120.0, 240.0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        "| length | stems | stems.zip before (24-bit WAV) | stems.zip now (24-bit FLAC) | download via signed link "
        "(loopback, median) | writing WAV stems, CPU s (before) | writing FLAC stems, CPU s (now) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    asyncio.run(measure(args.lengths, args.runs))


if __name__ == "__main__":
    main()
