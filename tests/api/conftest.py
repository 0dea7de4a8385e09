"""The control-plane app in-process (ASGI, no sockets) on each database backend."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import MetaData, select, update

from modelward.api.app import create_app
from modelward.api.context import ApiContext
from modelward.config import load_settings
from modelward.governance import users
from modelward.store.tables import TokenRow
from tests.store.helpers import new_version


@dataclass
class Api:
    """The app, an HTTP client on it, and the first admin's token."""

    app: FastAPI
    ctx: ApiContext
    loop: asyncio.AbstractEventLoop
    http: httpx.AsyncClient
    admin: str

    def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One request, with ``Authorization: Bearer token`` when a token is given."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.loop.run_until_complete(
            self.http.request(method, path, headers=headers, **kwargs)
        )

    def token_for(self, name: str, role: str, **options: Any) -> str:
        """A token for user ``name`` (created with ``role`` when new)."""
        if name not in {u.name for u in users.list_users(self.ctx.auth)}:
            users.create_user(self.ctx.auth, name, role, actor="tester")
        return users.create_token(self.ctx.auth, name, actor="tester", **options)[1]

    def seed(self, name: str, versions: int = 1) -> None:
        """A model with ``versions`` versions, recorded by the CLI user ``tester``."""
        for i in range(versions):
            self.ctx.store.create_version(
                name, new_version(f"{name}-{i}"), actor="tester", create_model={}
            )

    def set_token_times(self, secret: str, **values: Any) -> None:
        """Change a token's dates in the database directly (to expire it, age its last use)."""
        digest = hashlib.sha256(secret.encode()).hexdigest()
        self.ctx.auth.write(
            lambda s: s.execute(update(TokenRow).where(TokenRow.hash == digest).values(**values))
        )

    def token_row(self, secret: str) -> TokenRow:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return self.ctx.auth.read(
            lambda s: s.scalars(select(TokenRow).where(TokenRow.hash == digest)).one()
        )

    def dump(self) -> str:
        """Every row of every table in the database, as text."""
        meta = MetaData()
        meta.reflect(self.ctx.auth.engine)
        with self.ctx.auth.engine.connect() as conn:
            rows = [repr(tuple(r)) for t in meta.sorted_tables for r in conn.execute(t.select())]
        return "\n".join(rows)


@pytest.fixture
def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The app on a fresh database (SQLite and PostgreSQL) with a first admin called root."""
    monkeypatch.setenv("MODELWARD_DATABASE_URL", database_url)
    app = create_app(load_settings())
    ctx: ApiContext = app.state.context
    created = users.create_first_admin(ctx.auth, "root", actor="tester")
    assert created is not None
    loop = asyncio.new_event_loop()
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://control")
    yield Api(app, ctx, loop, http, created[1])
    loop.run_until_complete(http.aclose())
    loop.close()
    ctx.close()
