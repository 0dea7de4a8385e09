"""docs/api.md lists every route; docs/access-control.md shows exactly the permission table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from modelward.api.app import create_app, permission_of, walk_routes
from modelward.config import load_settings
from modelward.governance.auth import PERMISSIONS, ROLE_PERMISSIONS, ROLES

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    home = tmp_path_factory.mktemp("docs-home")
    built = create_app(load_settings({"MODELWARD_HOME": str(home)}))
    yield built
    built.state.context.close()


def test_every_route_is_documented_with_its_permission(app: FastAPI) -> None:
    text = (DOCS / "api.md").read_text()
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\| `([A-Z]+ /api/v1/[^`]*)` \| ([^|]+) \|", text, re.M)
    }
    documented = set()
    for route in walk_routes(app):
        permission = permission_of(route)
        for method in sorted(route.methods - {"HEAD"}):
            key = f"{method} {route.path.replace('{ref:path}', '{ref}')}"
            documented.add(key)
            assert key in rows, f"docs/api.md does not list {key}"
            if permission is not None and permission.name is not None:
                assert f"`{permission.name}`" in rows[key], f"{key} needs {permission.name}"
    assert set(rows) == documented, (
        f"docs/api.md lists routes that do not exist: {set(rows) - documented}"
    )


def _doc_table() -> tuple[list[str], dict[str, set[str]]]:
    """Roles (columns) and, per permission, the roles with a ✓ in docs/access-control.md."""
    lines = (DOCS / "access-control.md").read_text().splitlines()
    header = next(line for line in lines if line.startswith("| permission |"))
    roles = [cell.strip() for cell in header.strip("|").split("|")][2:]
    table: dict[str, set[str]] = {}
    for line in lines:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        match = re.fullmatch(r"`([a-z_]+:[a-z_]+)`", cells[0])
        if match and len(cells) == len(roles) + 2:
            granted = {r for r, mark in zip(roles, cells[2:], strict=True) if mark == "✓"}
            table[match.group(1)] = granted
    return roles, table


def test_the_permission_table_in_the_docs_is_the_one_in_the_code() -> None:
    roles, table = _doc_table()
    assert roles == list(ROLES)
    assert set(table) == set(PERMISSIONS), "docs/access-control.md and PERMISSIONS differ"
    for permission, granted in table.items():
        expected = {r for r in ROLES if permission in ROLE_PERMISSIONS[r]}
        assert granted == expected, f"{permission}: docs say {granted}, code says {expected}"


def test_admin_holds_every_permission_and_viewer_only_reads() -> None:
    assert ROLE_PERMISSIONS["admin"] == frozenset(PERMISSIONS)
    assert ROLE_PERMISSIONS["viewer"] == {"models:read"}
    for role in ROLES:
        assert ROLE_PERMISSIONS[role] <= set(PERMISSIONS)
