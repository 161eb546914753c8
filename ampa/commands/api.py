"""`ampa api`: the HTTP API (FastAPI + uvicorn). Swagger UI at /docs.

Needs AMPA_API_TOKEN (clients send `Authorization: Bearer <token>`). For local use without a token,
`--no-auth` is accepted only when binding to 127.0.0.1/localhost, so an open API is never exposed.
"""

from __future__ import annotations

import argparse
import sys

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "api", help="serve the HTTP API", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", help="bind address (default AMPA_API_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default AMPA_API_PORT, 8000)")
    parser.add_argument("--no-auth", action="store_true", help="no bearer token (only on 127.0.0.1)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from worker.cli_support import load_settings

    settings = load_settings()
    host = args.host or settings.api_host
    port = args.port or settings.api_port
    if not 0 < port < 65536:
        print(f"--port must be between 1 and 65535 (got {port}).", file=sys.stderr)
        return 2
    if settings.api_token is None and not args.no_auth:
        print(
            "AMPA_API_TOKEN is not set. Set it (e.g. `export AMPA_API_TOKEN=$(openssl rand -hex 32)`), "
            "or run with --no-auth on 127.0.0.1 for local use.",
            file=sys.stderr,
        )
        return 2
    if args.no_auth and host not in _LOCAL_HOSTS:
        print(
            f"--no-auth is only allowed on 127.0.0.1, not {host}: set AMPA_API_TOKEN to listen there.", file=sys.stderr
        )
        return 2

    import uvicorn

    from worker.api import build_app

    app = build_app(settings, require_auth=not args.no_auth)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True)
    return 0
