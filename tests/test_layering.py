"""Imports flow one way: bot → worker → pipeline. `pipeline` imports neither; nothing imports `bot`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "pipeline": {"worker", "bot", "ampa", "sqlalchemy", "redis", "arq", "asyncio", "discord", "slack_bolt", "httpx", "aiohttp"},
    "worker": {"bot", "ampa"},
    "bot": {"ampa"},
}


# The one exception: a remote generator's synchronous network client (it runs in the pipeline's thread).
ALLOWED = {"pipeline/backends/stability.py": {"httpx"}}


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_inward(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imported_top_levels(path) & FORBIDDEN[package] - ALLOWED.get(str(path.relative_to(ROOT)), set())
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)
