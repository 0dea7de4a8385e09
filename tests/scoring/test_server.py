"""Server plumbing: the shared listening socket gives every connection TCP_NODELAY (uvicorn #3149)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest
import uvloop

from modelward.client import Client
from modelward.errors import InvalidInputError
from modelward.scoring.server import bind_socket, resolve_refs
from tests.scoring.models import register_sklearn


def _accepted_nodelay(listener: socket.socket, runner: Callable[[Any], Any] = uvloop.run) -> int:
    """TCP_NODELAY of a connection accepted through ``listener`` by the given event loop."""
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()  # type: ignore[attr-defined]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reader.read()
        writer.close()
        server.close()

    runner(main())
    return seen[0]


@pytest.mark.parametrize("runner", [uvloop.run, asyncio.run], ids=["uvloop", "asyncio"])
def test_connections_on_the_shared_socket_get_tcp_nodelay(runner: Callable[[Any], Any]) -> None:
    assert _accepted_nodelay(bind_socket("127.0.0.1", 0), runner) != 0


def test_the_probe_sees_the_bug_it_guards_against() -> None:
    """A listener bound with protocol 0, as uvicorn's multi-worker path does, loses TCP_NODELAY
    under the standard asyncio loop (uvloop happens to set it anyway)."""
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    plain.bind(("127.0.0.1", 0))
    plain.listen()
    assert _accepted_nodelay(plain, asyncio.run) == 0


def test_references_are_pinned_once(sqlite_client: Client) -> None:
    register_sklearn(sqlite_client, "m")
    register_sklearn(sqlite_client, "m")
    sqlite_client.update_model("m", risk_tier="low")  # champion auto-approves low risk
    sqlite_client.set_alias("m", "champion", 1)
    assert resolve_refs(["m", "m@champion"], sqlite_client) == ["m/2", "m/1"]
    with pytest.raises(InvalidInputError, match="already served"):
        resolve_refs(["m", "m/2"], sqlite_client)
    with pytest.raises(InvalidInputError, match="at least one"):
        resolve_refs([], sqlite_client)
