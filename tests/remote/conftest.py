"""A real control-plane server on 127.0.0.1 (uvicorn in a thread) on each database backend,
its first admin from ``modelward init``, and clients that reach it only over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
import uvicorn

from modelward.api.server import build
from modelward.client import Client
from modelward.config import load_settings
from modelward.governance import users
from modelward.remote import RemoteClient
from modelward.scoring.server import bind_socket
from tests.governance.test_validation import cancer, logistic, register  # noqa: F401


@dataclass
class Server:
    """The running server: its base URL, the admin token, and the embedded SDK on its database
    (to register models, which needs the artifact root, and to check what the API wrote)."""

    url: str
    admin_token: str
    local: Client
    env: Callable[[str | None], None]

    def remote(self, token: str | None) -> RemoteClient:
        """A remote client with ``token``."""
        return RemoteClient(tracking_uri=self.url, token=token, timeout=30)

    @property
    def admin(self) -> RemoteClient:
        """A remote client acting as the first admin."""
        return self.remote(self.admin_token)

    def token_for(self, name: str, role: str, **options: Any) -> str:
        """A token for a new user ``name`` with ``role``, made through the API by the admin."""
        self.admin.create_user(name, role)
        return self.admin.create_token(name, **options)[1]


@pytest.fixture
def server(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """The first admin (as ``modelward init`` creates it), then the control plane on a free
    loopback port, stopped after."""
    monkeypatch.setenv("MODELWARD_DATABASE_URL", database_url)
    for name in ("MODELWARD_TRACKING_URI", "MODELWARD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    local = Client(load_settings())
    created = users.create_first_admin(
        users.auth_store(local.registry.store), "admin", actor=local.settings.actor
    )
    assert created is not None
    token = created[1]
    app = build(load_settings())
    sock = bind_socket("127.0.0.1", 0)
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    def env(token: str | None) -> None:
        """Point the CLI at the server with ``token`` (remote mode)."""
        monkeypatch.setenv("MODELWARD_TRACKING_URI", url)
        if token is None:
            monkeypatch.delenv("MODELWARD_TOKEN", raising=False)
        else:
            monkeypatch.setenv("MODELWARD_TOKEN", token)

    try:
        yield Server(url, token, local, env)
    finally:
        local.close()
        uv.should_exit = True
        thread.join(30)
        sock.close()


def register_bc(server: Server, data: tuple[pd.DataFrame, pd.DataFrame]) -> int:
    """A real classifier registered by ``tester`` (the embedded SDK's actor) as model ``bc``."""
    return register(server.local, logistic(), data[0])
