"""generator backend and Stability credits per job

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

Which generator backend makes the job (the worker queue it goes to), and the credits a paid
backend predicted before the request and was charged after it (the per-user daily cap reads them).
Existing jobs were all made by the symbolic composer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("backend", sa.String(32), nullable=False, server_default="symbolic"))
        batch.add_column(sa.Column("predicted_credits", sa.Float()))
        batch.add_column(sa.Column("charged_credits", sa.Float()))
    op.create_index("ix_jobs_backend_status", "jobs", ["backend", "status"])


def downgrade() -> None:
    op.drop_index("ix_jobs_backend_status", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("charged_credits")
        batch.drop_column("predicted_credits")
        batch.drop_column("backend")
