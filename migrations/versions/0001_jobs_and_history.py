"""jobs and their history

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Self-contained on purpose (no imports from worker.models): a migration describes the schema as it
was at this revision, whatever the models become later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("requester_id", sa.String(128), nullable=False),
        sa.Column("conversation_ref", sa.String(200)),
        sa.Column("thread_ref", sa.String(200)),
        sa.Column("status_message_ref", sa.String(200)),
        sa.Column("client_ref", sa.String(200)),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.String(32)),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", JSON),
        sa.Column("notes", JSON, nullable=False),
        sa.Column("reference_path", sa.Text()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16)),
        sa.Column("qa_attempt", sa.Integer(), nullable=False),
        sa.Column("qa_retries", sa.Integer(), nullable=False),
        sa.Column("qa_reports", JSON, nullable=False),
        sa.Column("files", JSON, nullable=False),
        sa.Column("timings", JSON, nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("execution_attempt", sa.Integer(), nullable=False),
        sa.Column("transient_failures", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_expires_at", WHEN),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN),
        sa.Column("finished_at", WHEN),
        sa.ForeignKeyConstraint(["parent_id"], ["jobs.id"], name="fk_jobs_parent_id_jobs", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.UniqueConstraint("platform", "client_ref", name="uq_jobs_platform_client_ref"),
    )
    op.create_index("ix_jobs_parent_id", "jobs", ["parent_id"])
    op.create_index("ix_jobs_platform_thread_ref", "jobs", ["platform", "thread_ref"])
    op.create_index("ix_jobs_requester_id_created_at", "jobs", ["requester_id", "created_at"])
    op.create_index("ix_jobs_status_created_at", "jobs", ["status", "created_at"])

    op.create_table(
        "job_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16)),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_job_events_job_id_jobs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_job_events"),
        sa.UniqueConstraint("job_id", "seq", name="uq_job_events_job_id_seq"),
    )


def downgrade() -> None:
    op.drop_table("job_events")
    op.drop_index("ix_jobs_status_created_at", "jobs")
    op.drop_index("ix_jobs_requester_id_created_at", "jobs")
    op.drop_index("ix_jobs_platform_thread_ref", "jobs")
    op.drop_index("ix_jobs_parent_id", "jobs")
    op.drop_table("jobs")
