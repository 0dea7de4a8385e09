"""The scoring app in-process (ASGI, no sockets): fast checks and a fuzz of both protocols."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvloop
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer

from modelward.client import Client
from modelward.scoring.app import ScoringApp
from modelward.scoring.config import ServeConfig
from modelward.scoring.server import build_app
from tests.scoring.models import register_sklearn

X, _ = load_breast_cancer(return_X_y=True, as_frame=True)


@dataclass
class Env:
    loop: asyncio.AbstractEventLoop
    http: httpx.AsyncClient
    app: ScoringApp

    def post(
        self, path: str, content: bytes, content_type: str = "application/json"
    ) -> httpx.Response:
        return self.loop.run_until_complete(
            self.http.post(path, content=content, headers={"content-type": content_type})
        )

    def get(self, path: str) -> httpx.Response:
        return self.loop.run_until_complete(self.http.get(path))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    home = tmp_path_factory.mktemp("app-home")
    previous = os.environ.get("MODELWARD_HOME")
    os.environ["MODELWARD_HOME"] = str(home)
    client = Client()
    ref = register_sklearn(client)
    loop = uvloop.new_event_loop()
    app = build_app([ref], ServeConfig(max_body_bytes=64 * 1024), client)
    loop.run_until_complete(app.startup())
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://scoring")
    yield Env(loop, http, app)
    loop.run_until_complete(http.aclose())
    loop.run_until_complete(app.shutdown())
    loop.close()
    client.close()
    if previous is not None:
        os.environ["MODELWARD_HOME"] = previous


def one_row() -> bytes:
    row = X.head(1)
    return json.dumps(
        {
            "inputs": [
                {"name": c, "shape": [1], "datatype": "FP64", "data": row[c].tolist()}
                for c in X.columns
            ]
        }
    ).encode()


def test_in_process_infer_and_routes(env: Env) -> None:
    r = env.post("/v2/models/cancer/infer", one_row())
    assert r.status_code == 200 and r.json()["outputs"][0]["name"] == "prediction"
    assert len(r.headers["x-request-id"]) == 32
    assert env.get("/v2/models/cancer/ready").json()["ready"] is True
    assert env.get("/nope").status_code == 404
    assert env.post("/v2/health/live", b"").status_code == 404  # wrong method
    assert env.get("/v2/models/cancer/versions/1").json()["versions"] == ["1"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
KEYS = st.sampled_from(
    [
        "inputs",
        "outputs",
        "id",
        "parameters",
        "dataframe_split",
        "dataframe_records",
        "instances",
        "columns",
        "data",
        "name",
        "shape",
        "datatype",
        "params",
    ]
)
SHAPED = st.dictionaries(KEYS, JSON, max_size=4)
BODIES = (
    JSON.map(lambda v: json.dumps(v).encode())
    | SHAPED.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=200)
    | st.just(one_row()[: len(one_row()) // 2])
)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/csv", "text/plain", "application/json; charset=utf-8", ""]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=BODIES,
    content_type=CONTENT_TYPES,
    path=st.sampled_from(["/v2/models/cancer/infer", "/invocations"]),
)
def test_random_payloads_never_get_a_server_error(
    env: Env, body: bytes, content_type: str, path: str
) -> None:
    r = env.post(path, body, content_type)
    assert r.status_code < 500, r.text
    assert set(r.json()) >= {"error"} or r.status_code == 200


def test_after_the_fuzz_the_worker_is_alive_and_answers(env: Env) -> None:
    pool = env.app.catalog.models[0].pool
    assert pool.alive == 1 and pool.restarts == 0
    assert env.post("/v2/models/cancer/infer", one_row()).status_code == 200


def _records(env: Env) -> dict[str, Any]:
    return env.app.inference_log.stats() if env.app.inference_log is not None else {}


def test_every_request_is_counted_in_the_inference_log(env: Env) -> None:
    before = _records(env)["recorded"]
    env.post("/v2/models/cancer/infer", one_row())
    env.post("/v2/models/cancer/infer", b"{broken")
    assert _records(env)["recorded"] == before + 2 and _records(env)["dropped"] == 0
