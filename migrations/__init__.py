"""Alembic migrations of the job store (run with `ampa db upgrade`)."""
