"""The job system's public records: what bots, the API and the CLI send in and get back.

These are the contract between `bot/` and `worker/`. Bots never touch the database or the
queue directly; they hold a `worker.service.JobService` and speak in these types.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    RETRYING_QA = "RETRYING_QA"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.CANCELLED})


@dataclass(frozen=True)
class JobRequest:
    """A request to make a track, as an adapter (Discord, Slack, API, CLI) understood it."""

    prompt: str
    platform: str  # "discord" | "slack" | "api" | "cli"
    requester_id: str
    conversation_ref: str | None = None  # channel id
    thread_ref: str | None = None  # thread id / thread_ts, once known
    reference_path: str | None = None  # local path of a reference audio file the adapter downloaded and checked
    duration_s: float | None = None  # explicit override (slash-command option)
    seed: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # guided choices: genre, mood, tempo_bpm, key
    parent_id: str | None = None  # set for iterations
    spec: dict[str, Any] | None = None  # a ready spec (follow-ups, variations): parsing is skipped
    client_ref: str | None = None  # platform idempotency key (Slack event id, Discord interaction id)
    # Generator backend (pipeline.backends.BACKEND_NAMES) asked for by an option; None: the words of
    # the prompt ("made with stable audio"), a ready spec's own backend, else AMPA_DEFAULT_BACKEND.
    backend: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class JobEvent:
    """One change of a job's state, in order (`seq` grows by one per job). Replayable from the database."""

    job_id: str
    seq: int
    status: JobStatus
    stage: str | None  # pipeline.vocabulary.STAGES entry while PROCESSING
    attempt: int  # QA attempt number, 1-based
    message: str  # human-readable: "QA: too loud (-9.6 LUFS), fixing — attempt 2"
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)  # e.g. {"queue_position": 3} or a QA summary

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = str(self.status)
        out["at"] = self.at.isoformat()
        return out


@dataclass(frozen=True)
class JobView:
    """A job as anyone outside the job system sees it."""

    id: str
    platform: str
    requester_id: str
    conversation_ref: str | None
    thread_ref: str | None
    status_message_ref: str | None
    prompt: str
    parent_id: str | None
    version: int  # 1 for a new request, parent's version + 1 for an iteration
    spec: dict[str, Any] | None  # pipeline.spec.Spec.to_dict()
    summary: str  # Spec.summary(): one line of what ampa understood
    status: JobStatus
    stage: str | None
    qa_retries: int
    qa_reports: list[dict[str, Any]]  # one per QA attempt
    files: dict[str, str]  # artifact name ("mix.mp3", "stems.zip", ...) -> local path
    error: str | None  # why it failed, in words a user understands
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    timings: dict[str, float]  # stage -> seconds
    delivered: bool  # the adapter has posted the final result
    notes: list[str] = field(default_factory=list)  # what was ignored, clamped, unsupported
    reference_path: str | None = None  # the reference track this job followed, if any
    backend: str = "symbolic"  # the generator backend that makes it
    predicted_credits: float | None = None  # a paid backend's estimate before any request
    charged_credits: float | None = None  # what the paid backend charged (None: nothing yet)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = str(self.status)
        for name in ("created_at", "updated_at", "started_at", "finished_at"):
            value = getattr(self, name)
            out[name] = value.isoformat() if value else None
        return out


@dataclass(frozen=True)
class FollowUp:
    """What a reply in a job's thread turned into."""

    job: JobView | None  # the new version, or None when nothing was made
    changes: list[dict[str, Any]]  # the edit list (vocabulary shape)
    message: str | None  # what to tell the user when nothing was made or some edit could not be applied


class JobRejected(Exception):
    """A request refused before it became a job. `user_message` is safe to show as it is."""

    def __init__(self, reason: str, user_message: str) -> None:
        super().__init__(user_message)
        self.reason = reason  # machine code: quota | concurrency | queue_full | too_long | empty_prompt | not_music | bad_reference | not_found | forbidden | failed_parent | prompt_too_long | bad_option | bad_spec | backend_unavailable | credits
        self.user_message = user_message
