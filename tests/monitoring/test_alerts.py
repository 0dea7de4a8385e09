"""Alerts on both stores: dedup while unresolved, transitions, audit events, webhook delivery."""

from __future__ import annotations

import json
import logging
import socket
import threading
from datetime import timedelta

import pytest

from modelward.client import Client
from modelward.errors import ConflictError, InvalidInputError, NotFoundError
from modelward.governance import webhooks
from modelward.monitoring import alerts
from modelward.store.sql import SqlStore
from modelward.store.tables import utcnow
from tests.governance.test_webhooks import Receiver, receiver  # noqa: F401  (fixture)


def store_of(client: Client) -> SqlStore:
    store = client.registry.store
    assert isinstance(store, SqlStore)
    return store


def breach(monitor: str = "slow", value: float = 300.0, model: str = "churn") -> alerts.Breach:
    end = utcnow()
    return alerts.Breach(
        model, 2, monitor, "resources.latency_p99_ms", "critical", value, "> 250",
        end - timedelta(hours=1), end, f"latency p99 is {value:g}",
    )  # fmt: skip


def actions(client: Client) -> list[str]:
    return [e.action for e in client.audit_events(object_type="alert")]


def test_a_breach_opens_an_alert_with_an_audit_event(client: Client) -> None:
    alert = alerts.raise_alert(store_of(client), breach())
    assert (alert.status, alert.count, alert.value, alert.severity) == (
        "open",
        1,
        300.0,
        "critical",
    )
    assert alert.first_seen == alert.last_seen and alert.version == 2
    (event,) = client.audit_events(object_type="alert")
    assert event.action == "alert.raised" and event.object_id == str(alert.id)
    assert event.actor == alerts.SYSTEM_ACTOR and event.after["monitor"] == "slow"
    assert client.verify_audit().events >= 1  # raises if the chain were broken


def test_repeated_breaches_count_on_the_open_alert(client: Client) -> None:
    store = store_of(client)
    first = alerts.raise_alert(store, breach(value=300.0))
    later = utcnow() + timedelta(minutes=15)
    again = alerts.raise_alert(store, breach(value=420.0), now=later)
    assert again.id == first.id and again.count == 2 and again.value == 420.0
    assert again.last_seen == later and again.first_seen == first.first_seen
    other = alerts.raise_alert(store, breach(monitor="errors"))
    assert other.id != first.id
    assert actions(client) == ["alert.raised", "alert.raised"]  # one event per alert, not per run


def test_an_acknowledged_alert_still_collects_breaches(client: Client) -> None:
    store = store_of(client)
    alert = alerts.raise_alert(store, breach())
    alerts.acknowledge(store, alert.id, actor="ops")
    again = alerts.raise_alert(store, breach())
    assert again.id == alert.id and again.count == 2 and again.status == "acknowledged"


def test_open_acknowledged_resolved_records_who_and_when(client: Client) -> None:
    store = store_of(client)
    alert = alerts.raise_alert(store, breach())
    acked = alerts.acknowledge(store, alert.id, actor="ann")
    assert acked.status == "acknowledged" and acked.acknowledged_by == "ann"
    assert acked.acknowledged_at is not None
    done = alerts.resolve(store, alert.id, actor="bob")
    assert (done.status, done.resolved_by) == ("resolved", "bob")
    events = client.audit_events(object_type="alert")
    assert [e.action for e in events] == ["alert.raised", "alert.acknowledged", "alert.resolved"]
    assert [e.actor for e in events][1:] == ["ann", "bob"]
    assert events[2].before["status"] == "acknowledged" and events[2].after["status"] == "resolved"


def test_an_open_alert_can_be_resolved_directly_and_a_new_breach_opens_a_new_one(
    client: Client,
) -> None:
    store = store_of(client)
    alert = alerts.raise_alert(store, breach())
    alerts.resolve(store, alert.id, actor="ops")
    fresh = alerts.raise_alert(store, breach())
    assert fresh.id != alert.id and fresh.count == 1


@pytest.mark.parametrize(
    ("first", "then"),
    [("resolve", "acknowledge"), ("resolve", "resolve"), ("acknowledge", "acknowledge")],
)
def test_invalid_transitions_are_refused(client: Client, first: str, then: str) -> None:
    store = store_of(client)
    alert = alerts.raise_alert(store, breach())
    getattr(alerts, first)(store, alert.id, actor="ops")
    with pytest.raises(ConflictError, match=f"alert {alert.id} is .*; it cannot become"):
        getattr(alerts, then)(store, alert.id, actor="ops")
    assert len(actions(client)) == 2  # the refused move left no event


def test_unknown_alerts_and_statuses(client: Client) -> None:
    store = store_of(client)
    with pytest.raises(NotFoundError, match="no alert 42"):
        alerts.acknowledge(store, 42, actor="ops")
    with pytest.raises(NotFoundError):
        alerts.get_alert(store, 42)
    with pytest.raises(InvalidInputError, match="unknown alert status"):
        alerts.list_alerts(store, status="closed")


def test_listing_filters_by_model_and_status(client: Client) -> None:
    store = store_of(client)
    a = alerts.raise_alert(store, breach(model="churn"))
    b = alerts.raise_alert(store, breach(model="fraud"))
    alerts.resolve(store, b.id, actor="ops")
    assert [x.id for x in alerts.list_alerts(store)] == [b.id, a.id]
    assert [x.id for x in alerts.list_alerts(store, model="churn")] == [a.id]
    assert [x.id for x in alerts.list_alerts(store, status="resolved")] == [b.id]
    assert alerts.get_alert(store, a.id).to_dict()["window_end"].endswith("+00:00")


def test_recovery_resolves_only_an_unresolved_alert(client: Client) -> None:
    store = store_of(client)
    assert alerts.resolve_recovered(store, "churn", "slow", value=10.0) is None
    alert = alerts.raise_alert(store, breach())
    done = alerts.resolve_recovered(store, "churn", "slow", value=10.0)
    assert done is not None and done.id == alert.id and done.resolved_by == alerts.SYSTEM_ACTOR
    assert client.audit_events(object_type="alert")[-1].after["note"] == "recovered: slow is 10"


def test_concurrent_breaches_open_one_alert(client: Client) -> None:
    store = store_of(client)
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        alerts.raise_alert(store, breach())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (alert,) = alerts.list_alerts(store)
    assert alert.count == 4 and actions(client) == ["alert.raised"]


def test_alerts_are_logged(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    store = store_of(client)
    with caplog.at_level(logging.INFO, logger="modelward.monitoring.alerts"):
        alert = alerts.raise_alert(store, breach())
        alerts.acknowledge(store, alert.id, actor="ann")
    levels = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert levels[0][0] == logging.ERROR and f"alert {alert.id} raised (critical)" in levels[0][1]
    assert f"alert {alert.id} acknowledged by ann" in levels[1][1]


def test_alerts_reach_a_webhook_signed(client: Client, receiver: Receiver) -> None:  # noqa: F811
    store, settings = store_of(client), client.settings
    hook = webhooks.add(store, receiver.url, ["alert."], actor="ops")
    alert = alerts.raise_alert(store, breach())
    alerts.acknowledge(store, alert.id, actor="ann")
    counts = webhooks.dispatch(store, settings, webhooks.http_sender())
    assert counts["delivered"] == 2
    (h1, b1), (_, b2) = receiver.received
    assert h1[webhooks.SIGNATURE_HEADER] == webhooks.sign(webhooks.secret(settings, hook.id), b1)
    assert h1["X-Modelward-Event"] == "alert.raised"
    assert json.loads(b1)["event"]["after"]["id"] == alert.id
    assert json.loads(b2)["event"]["action"] == "alert.acknowledged"


def test_a_webhook_answering_500_is_retried_then_failed_and_the_alert_kept(
    client: Client,
    receiver: Receiver,  # noqa: F811
) -> None:
    store, settings = store_of(client), client.settings
    receiver.status = 500
    webhooks.add(store, receiver.url, ["alert."], actor="ops")
    alert = alerts.raise_alert(store, breach())
    moment = utcnow()
    for _ in range(webhooks.MAX_ATTEMPTS):
        webhooks.dispatch(store, settings, webhooks.http_sender(timeout=2), now=moment)
        moment += timedelta(hours=2)
    (delivery,) = webhooks.deliveries(store)
    assert delivery["state"] == "failed" and delivery["last_status"] == 500
    assert len(receiver.received) == webhooks.MAX_ATTEMPTS
    assert alerts.get_alert(store, alert.id).status == "open"
    assert actions(client) == ["alert.raised"]


def test_a_closed_webhook_port_is_retried_and_the_alert_kept(client: Client) -> None:
    store, settings = store_of(client), client.settings
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    webhooks.add(store, dead, ["alert."], actor="ops")
    alert = alerts.raise_alert(store, breach())
    counts = webhooks.dispatch(store, settings, webhooks.http_sender(timeout=2))
    assert counts["retrying"] == 1
    (delivery,) = webhooks.deliveries(store)
    assert delivery["state"] == "pending" and "ConnectError" in delivery["last_error"]
    assert alerts.list_alerts(store, status="open")[0].id == alert.id
