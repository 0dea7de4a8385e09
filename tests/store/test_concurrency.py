"""Two processes registering 20 versions of one model at once: 40 distinct versions, none lost."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from modelward.client import Client
from tests.support.workers import register_many


def test_two_processes_register_twenty_versions_each(database_url: str, mw_home: Path) -> None:
    artifact_root = str(mw_home / "artifacts")
    ctx = multiprocessing.get_context("spawn")
    manager = ctx.Manager()
    start = manager.Event()
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        futures = [
            pool.submit(register_many, database_url, artifact_root, str(mw_home), w, 20, start)
            for w in (1, 2)
        ]
        start.set()
        results = [f.result(timeout=300) for f in futures]
    manager.shutdown()
    numbers = sorted(results[0] + results[1])
    assert numbers == list(range(1, 41))
    client = Client(database_url=database_url, artifact_root=artifact_root)
    versions = client.versions("shared", limit=100)
    assert len(versions) == 40
    assert {v.tags["worker"] for v in versions} == {"1", "2"}
    assert len({v.digest for v in versions}) == 40
    for v in versions[:3]:  # every recorded artifact is really there and loads
        assert len(client.load_model(v.ref).predict([[0.1, 0.2, 0.3]])) == 1
    events = client.audit_events(object_type="version")
    assert len(events) == 40
    client.close()
