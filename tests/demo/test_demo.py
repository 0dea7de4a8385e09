from __future__ import annotations

from rich.console import Console

from modelward.client import Client
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
    served = text.split("served over HTTP")[1]
    assert served.count(" 200 ") == 7 and "decision" in served and "forecast" in served
    again = run(sqlite_client, Console(file=open("/dev/null", "w")), serve=False)  # noqa: SIM115
    assert [s.version for s in again] == [2, 2, 2, 2]  # running twice adds versions, breaks nothing
