"""`ampa db upgrade|current`: bring the job store's schema up to date (Alembic, programmatically)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database schema (upgrade)", description="Manage the job store's schema.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="apply every migration (run after each update)")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    actions.add_parser("current", help="print the schema revision the database is at")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from worker.cli_support import load_settings

    settings = load_settings()
    from sqlalchemy.exc import SQLAlchemyError

    from worker.migrate import current, upgrade

    url = settings.resolved_database_url
    try:
        if args.action == "upgrade":
            upgrade(url, args.revision)
            print(f"Database is at revision {current(url)}.")
        else:
            print(current(url) or "(empty: run `ampa db upgrade`)")
    except (SQLAlchemyError, OSError) as exc:
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"Could not migrate the database: {first}. Check DATABASE_URL.", file=sys.stderr)
        return 1
    return 0
