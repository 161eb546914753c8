# ampa: one image for the API, the workers and the bots (`docker-compose.yml` picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    AMPA_DATA_DIR=/data

# FluidSynth and the sample banks the renderer plays (MuseScore General, FluidR3 as the fallback, the
# AVL acoustic drum kits), ffmpeg for audio decoding, libsndfile for soundfile.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fluid-soundfont-gm ffmpeg libsndfile1 \
       libfluidsynth3 musescore-general-soundfont-lossless avldrums.lv2-soundfont hydrogen-drumkits \
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
RUN pip install .

RUN useradd --create-home --uid 10001 ampa && mkdir -p /data && chown ampa:ampa /data
USER ampa
VOLUME ["/data"]
EXPOSE 8000 3000

ENTRYPOINT ["ampa"]
CMD ["api", "--host", "0.0.0.0"]
