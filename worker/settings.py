"""Settings for the job system, the API and `ampa generate`, read from the environment (and `.env`).

One setting picks each moving part: `DATABASE_URL` (SQLite file by default, PostgreSQL through
asyncpg in production) and `REDIS_URL` (unset: the in-process runner; set: arq workers).
Settings are built once at start-up and passed in; nothing reads them at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from pipeline.backends.registry import BackendConfig

_DATA_DIR = Path(user_data_dir("ampa", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Where things live
    data_dir: Path = Field(default=_DATA_DIR, validation_alias="AMPA_DATA_DIR")
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    artifacts_dir: Path | None = Field(default=None, validation_alias="AMPA_ARTIFACTS_DIR")

    # Audio
    soundfont: Path | None = Field(default=None, validation_alias="AMPA_SOUNDFONT")
    loudness_target_lufs: float = Field(default=-14.0, ge=-30.0, le=-6.0, validation_alias="AMPA_LOUDNESS_TARGET")
    true_peak_ceiling_dbtp: float = Field(default=-1.0, ge=-6.0, le=0.0, validation_alias="AMPA_TRUE_PEAK_CEILING")
    max_qa_retries: int = Field(default=2, ge=0, le=5, validation_alias="AMPA_MAX_QA_RETRIES")
    render_workers: int = Field(default=2, ge=1, le=16, validation_alias="AMPA_RENDER_WORKERS")
    # True keeps the decoded SoundFont (~300 MB) resident between jobs, saving ~0.6 s per job.
    keep_soundfont_loaded: bool = Field(default=False, validation_alias="AMPA_KEEP_SOUNDFONT_LOADED")
    # Where a job's dry stems are spooled while it runs (~250 MB for 2 minutes); empty: the system temp.
    scratch_dir: Path | None = Field(default=None, validation_alias="AMPA_SCRATCH_DIR")

    # Limits
    max_duration_s: float = Field(default=360.0, gt=0, validation_alias="AMPA_MAX_DURATION")
    user_concurrent_jobs: int = Field(default=2, ge=1, validation_alias="AMPA_USER_CONCURRENT_JOBS")
    user_hourly_quota: int = Field(default=20, ge=1, validation_alias="AMPA_USER_HOURLY_QUOTA")
    queue_depth_cap: int = Field(default=200, ge=1, validation_alias="AMPA_QUEUE_DEPTH_CAP")
    in_process_concurrency: int = Field(default=1, ge=1, validation_alias="AMPA_IN_PROCESS_CONCURRENCY")
    max_reference_bytes: int = Field(default=25_000_000, validation_alias="AMPA_MAX_REFERENCE_BYTES")
    max_reference_seconds: float = Field(default=420.0, validation_alias="AMPA_MAX_REFERENCE_SECONDS")

    # Worker robustness
    job_timeout_s: int = Field(default=300, ge=10, validation_alias="AMPA_JOB_TIMEOUT")
    lease_s: float = Field(default=15.0, ge=1.0, validation_alias="AMPA_LEASE_SECONDS")
    reconcile_every_s: float = Field(default=5.0, gt=0, validation_alias="AMPA_RECONCILE_SECONDS")
    # The module providing produce() and ProduceOptions; tests and benchmarks point it at a fast fake.
    pipeline_module: str | None = Field(default=None, validation_alias="AMPA_PIPELINE")

    # HTTP API
    api_token: SecretStr | None = Field(default=None, validation_alias="AMPA_API_TOKEN")
    api_host: str = Field(default="127.0.0.1", validation_alias="AMPA_API_HOST")
    api_port: int = Field(default=8000, validation_alias="AMPA_API_PORT")
    public_base_url: str | None = Field(default=None, validation_alias="AMPA_PUBLIC_URL")

    # Track pages and signed links (worker/web). Unset secret: one is made and kept in the data folder.
    link_secret: SecretStr | None = Field(default=None, validation_alias="AMPA_LINK_SECRET")
    link_days: float = Field(default=7.0, gt=0, validation_alias="AMPA_LINK_DAYS")
    # Where `ampa discord` / `ampa slack` serve the pages themselves; 0: they do not (`ampa api` does).
    web_host: str = Field(default="127.0.0.1", validation_alias="AMPA_WEB_HOST")
    web_port: int = Field(default=8080, ge=0, le=65535, validation_alias="AMPA_WEB_PORT")
    # Files of finished jobs older than this are removed (the job record and its spec stay); 0: never.
    retention_days: float = Field(default=30.0, ge=0, validation_alias="AMPA_RETENTION_DAYS")
    retention_every_s: float = Field(default=3600.0, gt=0, validation_alias="AMPA_RETENTION_EVERY_S")
    # Generator backends (see pipeline.backends): which one a request gets unless it names another,
    # Stability's Stable Audio API, and the local neural models.
    default_backend: str = Field(default="symbolic", validation_alias="AMPA_DEFAULT_BACKEND")
    stability_api_key: SecretStr | None = Field(default=None, validation_alias="STABILITY_API_KEY")
    stability_api_url: str = Field(default="https://api.stability.ai", validation_alias="STABILITY_API_URL")
    stability_model: str = Field(default="stable-audio-2.5", validation_alias="AMPA_STABILITY_MODEL")
    stability_steps: int | None = Field(default=None, ge=4, le=100, validation_alias="AMPA_STABILITY_STEPS")
    stability_cfg_scale: float | None = Field(default=None, ge=1.0, le=25.0, validation_alias="AMPA_STABILITY_CFG")
    stability_strength: float | None = Field(default=None, ge=0.0, le=1.0, validation_alias="AMPA_STABILITY_STRENGTH")
    stability_mode: str = Field(default="guided", validation_alias="AMPA_STABILITY_MODE")
    stability_timeout_s: float = Field(default=180.0, gt=0, validation_alias="AMPA_STABILITY_TIMEOUT")
    stability_retries: int = Field(default=4, ge=0, le=10, validation_alias="AMPA_STABILITY_RETRIES")
    stability_backoff_s: float = Field(default=2.0, ge=0.0, le=60.0, validation_alias="AMPA_STABILITY_BACKOFF")
    neural_takes: int = Field(default=3, ge=1, le=5, validation_alias="AMPA_NEURAL_TAKES")
    musicgen_model: str | None = Field(default=None, validation_alias="AMPA_MUSICGEN_MODEL")
    stable_audio_open_model: str | None = Field(default=None, validation_alias="AMPA_STABLE_AUDIO_OPEN_MODEL")
    stable_audio_open_steps: int = Field(default=100, ge=1, le=500, validation_alias="AMPA_STABLE_AUDIO_OPEN_STEPS")
    device: str | None = Field(default=None, validation_alias="AMPA_DEVICE")

    # Which worker serves which generator backend (worker/routing.py)
    # What `ampa worker` serves when --backends is not given (comma-separated); empty: every ready one.
    worker_backends: str | None = Field(default=None, validation_alias="AMPA_WORKER_BACKENDS")
    # How long a job waits for a worker that runs its backend before it fails with the reason.
    backend_wait_s: float = Field(default=600.0, gt=0, validation_alias="AMPA_BACKEND_WAIT")
    # Stability credits one user may spend in 24 hours (None: no cap); checked before any request.
    stability_daily_credits_per_user: float | None = Field(
        default=None, ge=0, validation_alias="AMPA_STABILITY_DAILY_CREDITS_PER_USER"
    )

    @field_validator("api_token")
    @classmethod
    def _refuse_placeholder(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and token.get_secret_value().strip().lower() in {"", "changeme", "change-me", "secret"}:
            raise ValueError("AMPA_API_TOKEN is a placeholder; set a real random token (e.g. `openssl rand -hex 32`)")
        return token

    @field_validator("public_base_url")
    @classmethod
    def _public_url_is_a_web_address(cls, url: str | None) -> str | None:
        # Chat link buttons refuse anything but an absolute http(s) URL; say so at start, not at delivery.
        if url is not None and url.strip() and not url.strip().lower().startswith(("http://", "https://")):
            raise ValueError("AMPA_PUBLIC_URL must start with http:// or https:// (e.g. https://ampa.example.com)")
        return url.strip() or None if url is not None else None

    @field_validator("link_secret", mode="before")
    @classmethod
    def _unset_when_empty(cls, secret: object) -> object:
        return None if isinstance(secret, str) and not secret.strip() else secret  # compose passes ""

    @field_validator("link_secret")
    @classmethod
    def _strong_link_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value().strip()) < 32:
            raise ValueError("AMPA_LINK_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return secret

    @field_validator("default_backend")
    @classmethod
    def _known_backend(cls, name: str) -> str:
        from pipeline.backends.registry import BACKEND_NAMES

        if name not in BACKEND_NAMES:
            raise ValueError(f"AMPA_DEFAULT_BACKEND must be one of {', '.join(BACKEND_NAMES)} (got {name!r})")
        return name

    @field_validator("stability_mode")
    @classmethod
    def _known_mode(cls, mode: str) -> str:
        if mode not in ("guided", "text"):
            raise ValueError(f"AMPA_STABILITY_MODE must be 'guided' or 'text' (got {mode!r})")
        return mode

    @field_validator("stability_model")
    @classmethod
    def _known_model(cls, model: str) -> str:
        if model not in ("stable-audio-2.5", "stable-audio-2"):
            raise ValueError(f"AMPA_STABILITY_MODEL must be 'stable-audio-2.5' or 'stable-audio-2' (got {model!r})")
        return model

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'ampa.db'}"

    @property
    def resolved_artifacts_dir(self) -> Path:
        return self.artifacts_dir or self.data_dir / "artifacts"

    @property
    def uses_arq(self) -> bool:
        return bool(self.redis_url)


def backend_config(settings: Settings) -> BackendConfig:
    """The pipeline's view of the generator settings (one place, for the CLI, the worker and the bots)."""
    from pipeline.backends.registry import BackendConfig

    key = settings.stability_api_key.get_secret_value() if settings.stability_api_key else None
    return BackendConfig(
        soundfont=settings.soundfont,
        render_workers=settings.render_workers,
        keep_soundfont=settings.keep_soundfont_loaded,
        stability_api_key=key or None,
        stability_api_url=settings.stability_api_url,
        stability_model=settings.stability_model,
        stability_steps=settings.stability_steps,
        stability_cfg_scale=settings.stability_cfg_scale,
        stability_strength=settings.stability_strength,
        stability_mode=settings.stability_mode,
        stability_timeout_s=settings.stability_timeout_s,
        stability_retries=settings.stability_retries,
        stability_backoff_s=settings.stability_backoff_s,
        max_takes=settings.neural_takes,
        musicgen_model=settings.musicgen_model,
        stable_audio_open_model=settings.stable_audio_open_model,
        stable_audio_open_steps=settings.stable_audio_open_steps,
        device=settings.device,
    )
