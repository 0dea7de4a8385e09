"""Events to webhooks: a real HTTP receiver on loopback, signatures, retries, the delivery log."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sklearn.linear_model import LogisticRegression

from modelward.client import Client
from modelward.errors import InvalidInputError, NotFoundError
from modelward.governance import webhooks
from modelward.store.tables import utcnow


class Receiver:
    """An HTTP server that records what it is sent and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def model() -> LogisticRegression:
    return LogisticRegression().fit([[0.0], [1.0]], [0, 1])


def test_matching_events_are_delivered_signed(client: Client, receiver: Receiver) -> None:
    store, settings = client.registry.store, client.settings
    client.register_model(model(), "m", risk_tier="low")  # before the subscription: not sent
    hook = webhooks.add(store, receiver.url, ["alias."], actor="ops")
    client.register_model(model(), "m", risk_tier="low")
    client.set_alias("m", "challenger", 2)
    counts = webhooks.dispatch(store, settings, webhooks.http_sender())
    assert counts == {"queued": 1, "delivered": 1, "retrying": 0, "failed": 0}
    headers, body = receiver.received[0]
    expected = webhooks.sign(webhooks.secret(settings, hook.id), body)
    assert (
        headers[webhooks.SIGNATURE_HEADER] == expected
        and headers["X-Modelward-Event"] == "alias.set"
    )
    event = json.loads(body)["event"]
    assert event["object_id"] == "m@challenger" and event["after"] == {"version": 2}
    assert webhooks.dispatch(store, settings, webhooks.http_sender())["queued"] == 0  # sent once
    assert webhooks.deliveries(store)[0]["state"] == "delivered"


def test_a_receiver_that_is_down_is_retried_then_failed_and_the_event_kept(client: Client) -> None:
    store, settings = client.registry.store, client.settings
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"  # nothing listens there
    webhooks.add(store, dead, [], actor="ops")
    client.register_model(model(), "m", risk_tier="low")
    now = utcnow()
    first = webhooks.dispatch(store, settings, webhooks.http_sender(timeout=2), now=now)
    assert first["queued"] >= 1 and first["retrying"] == first["queued"]
    log = webhooks.deliveries(store)
    assert all(d["state"] == "pending" and d["attempts"] == 1 and d["last_error"] for d in log)
    assert (
        webhooks.dispatch(store, settings, webhooks.http_sender(timeout=2), now=now)["retrying"]
        == 0
    )  # not due yet
    moment = now
    for _ in range(webhooks.MAX_ATTEMPTS):
        moment += timedelta(hours=2)
        webhooks.dispatch(store, settings, webhooks.http_sender(timeout=2), now=moment)
    assert {d["state"] for d in webhooks.deliveries(store)} == {"failed"}
    assert client.audit_events(object_type="version")  # the events themselves are never lost


def test_an_error_status_is_retried_until_it_succeeds(client: Client, receiver: Receiver) -> None:
    store, settings = client.registry.store, client.settings
    webhooks.add(store, receiver.url, ["version."], actor="ops")
    receiver.status = 500
    client.register_model(model(), "m", risk_tier="low")
    now = utcnow()
    assert webhooks.dispatch(store, settings, webhooks.http_sender(), now=now)["retrying"] == 1
    receiver.status = 204
    later = webhooks.dispatch(
        store, settings, webhooks.http_sender(), now=now + timedelta(minutes=1)
    )
    assert later["delivered"] == 1 and len(receiver.received) == 2
    assert webhooks.deliveries(store)[0]["attempts"] == 2


def test_bad_webhooks_are_refused(client: Client) -> None:
    store = client.registry.store
    for url in ("ftp://x/hook", "not a url", "https://user:pw@hooks.example.org/x"):
        with pytest.raises(InvalidInputError):
            webhooks.add(store, url, [], actor="ops")
    with pytest.raises(NotFoundError):
        webhooks.remove(store, 99, actor="ops")
    hook = webhooks.add(store, "https://hooks.example.org/x", [], actor="ops")
    webhooks.remove(store, hook.id, actor="ops")
    assert webhooks.list_webhooks(store) == []
    assert [e.action for e in client.audit_events(object_type="webhook")] == [
        "webhook.create",
        "webhook.delete",
    ]


def test_the_cli_adds_dispatches_and_shows_the_log(run: object, receiver: Receiver) -> None:
    from tests.support.cli import Run

    assert callable(run)
    cli: Run = run  # type: ignore[assignment]
    added = cli("webhooks", "add", receiver.url, "--event", "version.")
    assert added.code == 0 and "signing secret: " in added.out
    Client().register_model(model(), "m", risk_tier="low")
    sent = cli("webhooks", "dispatch")
    assert sent.code == 0 and "delivered 1" in sent.out
    log = json.loads(cli("webhooks", "deliveries", "--json").out)
    assert log[0]["state"] == "delivered"
    assert json.loads(cli("webhooks", "list", "--json").out)[0]["url"] == receiver.url
    assert cli("webhooks", "remove", "1").code == 0
