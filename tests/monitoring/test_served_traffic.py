"""Monitoring on what the scoring server itself logged: drift, labels joined on the request ids
it returned, performance and resources."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pandas as pd
import uvloop

from modelward.client import Client
from modelward.scoring.config import ServeConfig
from modelward.scoring.server import build_app
from tests.monitoring.windowed import population, register


def serve(client: Client, frames: list[pd.DataFrame]) -> list[str]:
    app = build_app(["loans/1"], ServeConfig(), client)

    async def go() -> list[str]:
        await app.startup()
        ids = []
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                for frame in frames:
                    body = {"dataframe_records": frame.to_dict(orient="records")}
                    r = await http.post(
                        "/invocations",
                        content=json.dumps(body),
                        headers={"content-type": "application/json"},
                    )
                    assert r.status_code == 200, r.text
                    ids.append(r.headers["x-request-id"])
        finally:
            await app.shutdown()  # flushes the inference log
        return ids

    return uvloop.run(go())


def test_the_servers_own_log_shows_drift_and_takes_labels(
    sqlite_client: Client, tmp_path: Path
) -> None:
    register(sqlite_client, tmp_path)
    shifted = population(600, shift=15, seed=21)
    ids = serve(sqlite_client, [shifted.iloc[i : i + 50] for i in range(0, 600, 50)])
    (report,) = sqlite_client.window_drift("loans", "1d").values()
    assert "age" in report.drifted_columns and "income" not in report.drifted_columns
    truth = pd.DataFrame(
        {"request_id": [i for i in ids for _ in range(50)], "row": list(range(50)) * len(ids)}
    )
    truth["label"] = (shifted["age"].to_numpy() > 40).astype(int)  # the model's own rule
    receipt = sqlite_client.add_labels("loans", truth)
    assert receipt.added == 600 and receipt.unknown_request_ids == 0
    found, _ = sqlite_client.performance("loans", "1d")
    assert found.n_labelled == 600 and found.metrics["accuracy"] == 1.0
    summary = sqlite_client.resources("loans", "1d")
    assert summary["requests"] == 12 and summary["peak_rss_mb"] is not None
