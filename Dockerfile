# ampa: one image for the API, the workers and the bots (`docker-compose.yml` picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    AMPA_DATA_DIR=/data \
    AMPA_SOUNDFONT=/usr/share/sounds/sf2/FluidR3_GM.sf2

# The General MIDI SoundFont the renderer plays, ffmpeg for audio decoding, libsndfile for soundfile.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fluid-soundfont-gm ffmpeg libsndfile1 \
    && rm -rf /var/lib/apt/lists/*

# CPU-only torch first, from the PyTorch index, so the project install does not pull the CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

WORKDIR /app
COPY pyproject.toml README.md ./
COPY ampa ./ampa
COPY pipeline ./pipeline
COPY worker ./worker
COPY bot ./bot
COPY migrations ./migrations
# tinysoundfont without its pyaudio dependency (live playback, never used; needs portaudio to build).
RUN pip install . && pip install --no-deps tinysoundfont==0.3.7

RUN useradd --create-home --uid 10001 ampa && mkdir -p /data && chown ampa:ampa /data
USER ampa
VOLUME ["/data"]
EXPOSE 8000 3000

ENTRYPOINT ["ampa"]
CMD ["api", "--host", "0.0.0.0"]
