"""Settings for the job system, the API and `ampa generate`, read from the environment (and `.env`).

One setting picks each moving part: `DATABASE_URL` (SQLite file by default, PostgreSQL through
asyncpg in production) and `REDIS_URL` (unset: the in-process runner; set: arq workers).
Settings are built once at start-up and passed in; nothing reads them at import time.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'ampa.db'}"

    @property
    def resolved_artifacts_dir(self) -> Path:
        return self.artifacts_dir or self.data_dir / "artifacts"

    @property
    def uses_arq(self) -> bool:
        return bool(self.redis_url)
