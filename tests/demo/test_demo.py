from __future__ import annotations

from rich.console import Console

from modelward.client import Client
from modelward.demo.governance import AUTHOR, GOVERNED, REVIEWER
from modelward.demo.monitoring import MODEL as LOANS
from modelward.demo.scenario import run


def test_demo_registers_aliases_loads_and_scores_every_model(sqlite_client: Client) -> None:
    console = Console(record=True, width=160)
    steps = run(sqlite_client, console)
    assert [(s.name, s.flavor) for s in steps] == [
        ("demo-breast-cancer", "sklearn"),
        ("demo-wine-tree", "sklearn"),
        ("demo-co2-forecast", "statsmodels"),
        ("demo-credit-rules", "rules"),
    ]
    for step in steps:
        champion = sqlite_client.get(f"{step.name}@champion")
        assert champion.version == step.version and champion.digest == step.digest
        assert champion.lineage["datasets"], "training data fingerprint recorded"
    assert float(steps[0].metric.split("accuracy=")[1].split()[0]) > 0.9
    assert steps[3].scored.split() == ["reject", "review", "approve", "approve"]
    text = console.export_text()
    assert "demo-co2-forecast" in text and "done in" in text
    assert "the same models, served over HTTP" in text
    served = text.split("served over HTTP")[1].split("trace of request")[0]
    assert served.count(" 200 ") == 9 and "decision" in served and "forecast" in served
    governed = sqlite_client.get(f"{GOVERNED}@champion")
    assert governed.stage == "production"
    decisions = [(a.actor, a.role, a.decision) for a in sqlite_client.approvals(governed.ref)]
    assert decisions == [(REVIEWER, "reviewer", "approve")]  # the author's own was refused
    assert f"refused [SELF_APPROVAL]: {AUTHOR} may not approve" in text
    assert [r.passed for r in sqlite_client.validation_reports(governed.ref)] == [True]
    trace = text.split("trace of request demo-1")[1]
    assert f"{GOVERNED}/1 answered 200" in trace and f"by {REVIEWER} (reviewer)" in trace
    assert "validation #" in trace and governed.digest in trace.replace("\n", "")
    hourly = text.split("a shifting population, hour by hour")[1]
    assert "no labels yet" in hourly and "below goal" in hourly
    from modelward.monitoring.alerts import list_alerts

    alerts = list_alerts(sqlite_client.registry.store, model=LOANS, status="open")  # type: ignore[arg-type]
    assert sorted(a.metric for a in alerts) == ["drift.dataset", "performance.accuracy"]
    page = sqlite_client.settings.home / "reports" / f"{LOANS}.html"
    assert "monitoring report:" in text and "<svg" in page.read_text()
    events = len(sqlite_client.audit_log(limit=10_000))
    assert f"audit chain intact: {events} events" in text
    again = run(sqlite_client, Console(file=open("/dev/null", "w")), serve=False)  # noqa: SIM115
    assert [s.version for s in again] == [2, 2, 2, 2]  # running twice adds versions, breaks nothing
