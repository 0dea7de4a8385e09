"""The real scoring server: `modelward serve` in its own process, real HTTP on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from modelward.client import Client
from modelward.demo.scenario import APPLICANTS, RULES_FILE
from tests.scoring.models import register_sklearn, register_trouble

X, _ = load_breast_cancer(return_X_y=True, as_frame=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    home: Path

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


def start_server(home: Path, refs: list[str], *args: str) -> Server:
    port = free_port()
    env = {**os.environ, "MODELWARD_HOME": str(home)}
    script = Path(sys.executable).parent / "modelward"
    process = subprocess.Popen(
        [str(script), "serve", *refs, "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        try:
            if httpx.get(f"{url}/v2/health/live", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    return Server(process, url, home)


def wait_ready(url: str, model: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/v2/models/{model}/ready").status_code == 200:
            return
        time.sleep(0.1)
    raise AssertionError(f"{model} never became ready")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("serve-home")
    previous = os.environ.get("MODELWARD_HOME")
    os.environ["MODELWARD_HOME"] = str(home)
    client = Client()
    refs = [register_sklearn(client), register_trouble(client, home / "code")]
    client.register_model(RULES_FILE, "credit", input_example=APPLICANTS)
    refs.append("credit")
    client.close()
    srv = start_server(home, refs, "--max-body-mb", "1", "--request-timeout", "3")
    for name in ("cancer", "trouble", "credit"):
        wait_ready(srv.url, name)
    yield srv
    if srv.process.poll() is None:
        srv.stop()
    if previous is not None:
        os.environ["MODELWARD_HOME"] = previous


def columns_body(frame: pd.DataFrame, **extra: object) -> dict[str, object]:
    inputs = [
        {"name": c, "shape": [len(frame)], "datatype": "FP64", "data": frame[c].tolist()}
        for c in frame.columns
    ]
    return {"inputs": inputs, **extra}


def test_oip_per_column_and_tensor_inputs(server: Server) -> None:
    rows = X.head(3)
    from sklearn.linear_model import LogisticRegression

    expected = LogisticRegression(solver="liblinear").fit(X, _).predict(rows).tolist()
    r = httpx.post(
        f"{server.url}/v2/models/cancer/infer",
        json=columns_body(rows, id="my-id"),
        headers={"X-Request-ID": "rid-1"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["model_name"], body["model_version"], body["id"]) == ("cancer", "1", "my-id")
    assert body["outputs"][0]["name"] == "prediction" and body["outputs"][0]["data"] == expected
    assert r.headers["x-request-id"] == "rid-1"
    tensor = {
        "inputs": [
            {
                "name": "input-0",
                "shape": [3, 30],
                "datatype": "FP64",
                "data": rows.to_numpy().tolist(),
            }
        ],
        "parameters": {"content_type": "np"},
    }
    r = httpx.post(f"{server.url}/v2/models/cancer/versions/1/infer", json=tensor)
    assert r.status_code == 200, r.text and r.json()["outputs"][0]["data"] == expected
    r = httpx.post(
        f"{server.url}/v2/models/cancer/infer", json=columns_body(rows, parameters={"proba": True})
    )
    assert {o["name"] for o in r.json()["outputs"]} == {
        "prediction",
        "probability_0",
        "probability_1",
    }


def test_mlflow_invocations_formats(server: Server) -> None:
    rows = X.head(2)
    url = f"{server.url}/models/cancer/invocations"
    split = {"dataframe_split": {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}}
    records = {"dataframe_records": rows.to_dict(orient="records")}
    instances = {"instances": rows.to_dict(orient="records")}
    answers = [httpx.post(url, json=b).json() for b in (split, records, instances)]
    assert answers[0] == answers[1] == answers[2] and len(answers[0]["predictions"]) == 2
    csv = rows.to_csv(index=False)
    r = httpx.post(url, content=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json() == answers[0]
    r = httpx.post(f"{server.url}/invocations", json=split)
    assert (
        r.status_code == 400 and "/models/{name}/invocations" in r.json()["error"]
    )  # 3 models served


def test_rules_answer_by_output_name(server: Server) -> None:
    body = {"dataframe_records": APPLICANTS.to_dict(orient="records")}
    r = httpx.post(f"{server.url}/models/credit/invocations", json=body)
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    assert [p["decision"] for p in predictions] == ["reject", "review", "approve", "approve"]
    assert all("limit" in p for p in predictions)


def test_health_metadata_and_metrics(server: Server) -> None:
    assert httpx.get(f"{server.url}/v2/health/ready").json() == {"ready": True}
    assert httpx.get(f"{server.url}/ping").status_code == 200
    assert httpx.get(f"{server.url}/health").status_code == 200
    assert httpx.get(f"{server.url}/version").text == "0.1.0"
    meta = httpx.get(f"{server.url}/v2").json()
    assert meta["name"] == "modelward"
    model = httpx.get(f"{server.url}/v2/models/cancer").json()
    assert model["platform"] == "sklearn" and len(model["inputs"]) == 30
    assert model["inputs"][0] == {"name": "mean radius", "datatype": "FP64", "shape": [-1]}
    httpx.post(f"{server.url}/v2/models/cancer/infer", json=columns_body(X.head(1)))
    text = httpx.get(f"{server.url}/metrics").text
    for series in (
        "modelward_requests_total",
        "modelward_request_latency_seconds_bucket",
        "modelward_batch_rows_bucket",
        "modelward_inflight_requests",
        "modelward_model_load_seconds",
        "modelward_worker_cpu_seconds",
        "modelward_worker_rss_bytes",
    ):
        assert series in text, series


@pytest.mark.parametrize(
    ("path", "payload", "status", "message"),
    [
        ("/v2/models/cancer/infer", b"{not json", 400, ""),
        (
            "/v2/models/cancer/infer",
            b'{"inputs": [{"name": "mean radius", "shape": [1], "datatype": "BOOL", "data": [true]}]}',
            422,
            "",
        ),
        ("/v2/models/nope/infer", b"{}", 404, "not served here"),
        ("/v2/models/cancer/versions/9/infer", b"{}", 404, "version 9"),
    ],
)
def test_bad_requests_get_clear_errors(
    server: Server, path: str, payload: bytes, status: int, message: str
) -> None:
    r = httpx.post(
        f"{server.url}{path}", content=payload, headers={"Content-Type": "application/json"}
    )
    assert r.status_code in {status, 400}, r.text
    assert set(r.json()) == {"error"} and message in r.json()["error"]


def test_signature_problems_are_all_listed(server: Server) -> None:
    rows = X.head(2).drop(columns=["mean radius"])
    body = columns_body(rows)
    for item in body["inputs"]:  # type: ignore[attr-defined]
        if item["name"] == "mean area":
            item["data"] = [None, 1.0]  # JSON null where the column is not nullable
    r = httpx.post(f"{server.url}/v2/models/cancer/infer", json=body)
    assert r.status_code == 422
    error = r.json()["error"]
    assert "missing column: 'mean radius'" in error and "'mean area'" in error


def test_oversized_body_is_413(server: Server) -> None:
    big = b'{"inputs": [' + b" " * (2 * 1024 * 1024) + b"]}"
    r = httpx.post(
        f"{server.url}/v2/models/cancer/infer",
        content=big,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413 and "over the limit" in r.json()["error"]


def test_a_crashing_model_does_not_take_the_others_down(server: Server) -> None:
    url = f"{server.url}/models/trouble/invocations"
    with ThreadPoolExecutor(4) as pool:
        crash = pool.submit(httpx.post, url, json={"dataframe_records": [{"x": -1.0}]}, timeout=30)
        others = [
            pool.submit(
                httpx.post, f"{server.url}/v2/models/cancer/infer", json=columns_body(X.head(1))
            )
            for _ in range(10)
        ]
        r = crash.result()
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert "exited" in r.json()["error"]
        assert all(f.result().status_code == 200 for f in others)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = httpx.post(url, json={"dataframe_records": [{"x": 2.0}]})
        if r.status_code == 200:
            break
        time.sleep(0.2)
    assert r.status_code == 200 and r.json() == {"predictions": [4.0]}
    assert "modelward_worker_restarts_total" in httpx.get(f"{server.url}/metrics").text


def test_a_hanging_model_gets_503_not_a_hang_and_an_exception_is_500(server: Server) -> None:
    url = f"{server.url}/models/trouble/invocations"
    started = time.monotonic()
    r = httpx.post(url, json={"dataframe_records": [{"x": -2.0}]}, timeout=30)
    assert r.status_code == 503 and time.monotonic() - started < 15
    wait_ready(server.url, "trouble")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = httpx.post(url, json={"dataframe_records": [{"x": -4.0}]})
        if r.status_code != 503:
            break
        time.sleep(0.2)
    assert r.status_code == 500 and "x = -4 is not allowed" in r.json()["error"]
    assert httpx.post(url, json={"dataframe_records": [{"x": 1.0}]}).json() == {
        "predictions": [2.0]
    }


def test_graceful_shutdown_finishes_in_flight_requests_and_flushes_the_log(tmp_path: Path) -> None:
    os.environ["MODELWARD_HOME"] = str(tmp_path)
    client = Client()
    ref = register_trouble(client, tmp_path / "code")
    client.close()
    srv = start_server(tmp_path, [ref])
    wait_ready(srv.url, "trouble")
    body = {"dataframe_records": [{"x": 3.0}], "params": {"delay": 1.5}}
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(
            httpx.post,
            f"{srv.url}/models/trouble/invocations",
            json=body,
            headers={"X-Request-ID": "slow-1"},
            timeout=30,
        )
        time.sleep(0.5)
        code = srv.stop()
        r = slow.result()
    assert r.status_code == 200 and r.json() == {"predictions": [6.0]}
    assert code == 0
    logged = client.query_logs("SELECT request_id, status, output__prediction FROM inference")
    assert logged.to_dict(orient="records") == [
        {"request_id": "slow-1", "status": 200, "output__prediction": 6.0}
    ]


def test_a_model_that_fails_to_load_is_not_ready_and_the_others_serve(tmp_path: Path) -> None:
    os.environ["MODELWARD_HOME"] = str(tmp_path)
    client = Client()
    good = register_sklearn(client)
    bad = register_trouble(client, tmp_path / "code")
    client.close()
    os.environ["MW_TEST_FAIL_LOAD"] = "1"
    try:
        srv = start_server(tmp_path, [good, bad])
    finally:
        del os.environ["MW_TEST_FAIL_LOAD"]
    try:
        wait_ready(srv.url, "cancer")
        deadline = time.monotonic() + 60
        while httpx.get(f"{srv.url}/v2/models/trouble/ready").json()["error"] is None:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        r = httpx.post(
            f"{srv.url}/models/trouble/invocations", json={"dataframe_records": [{"x": 1.0}]}
        )
        assert r.status_code == 503 and "load failed on purpose" in r.json()["error"]
        assert httpx.get(f"{srv.url}/v2/health/ready").status_code == 503
        assert (
            httpx.post(
                f"{srv.url}/v2/models/cancer/infer", json=columns_body(X.head(1))
            ).status_code
            == 200
        )
    finally:
        srv.stop()


def test_several_http_workers_share_the_port(tmp_path: Path) -> None:
    os.environ["MODELWARD_HOME"] = str(tmp_path)
    client = Client()
    ref = register_sklearn(client)
    client.close()
    srv = start_server(tmp_path, [ref], "--workers", "2", "--no-inference-log")
    try:
        wait_ready(srv.url, "cancer")
        with httpx.Client() as session:  # one keep-alive connection, many requests
            codes = [
                session.post(
                    f"{srv.url}/v2/models/cancer/infer", json=columns_body(X.head(1))
                ).status_code
                for _ in range(20)
            ]
        assert codes == [200] * 20
        assert "modelward_requests_total" in httpx.get(f"{srv.url}/metrics").text
    finally:
        assert srv.stop() == 0


def test_json_payloads_in_the_log_are_queryable(server: Server) -> None:
    r = httpx.post(
        f"{server.url}/v2/models/cancer/infer",
        json=columns_body(X.head(2)),
        headers={"X-Request-ID": "logged-1"},
    )
    assert r.status_code == 200
    assert json.loads(r.content)["outputs"]


def test_forecasts_and_any_language_models_over_http(tmp_path: Path) -> None:
    import statsmodels.api as sm
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    os.environ["MODELWARD_HOME"] = str(tmp_path)
    client = Client()
    monthly = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()["1990":]
    fit = ExponentialSmoothing(monthly, trend="add", seasonal="add", seasonal_periods=12).fit()
    client.register_model(fit, "co2")
    node = Path(__file__).resolve().parents[2] / "examples" / "process" / "node"
    client.register_model(node, "node-scorer")
    client.close()
    srv = start_server(tmp_path, ["co2", "node-scorer"])
    try:
        wait_ready(srv.url, "co2")
        wait_ready(srv.url, "node-scorer")
        r = httpx.post(
            f"{srv.url}/v2/models/co2/infer", json={"inputs": [], "parameters": {"horizon": 6}}
        )
        assert r.status_code == 200, r.text
        forecast = next(o for o in r.json()["outputs"] if o["name"] == "forecast")["data"]
        assert forecast == pytest.approx(fit.forecast(6).tolist(), rel=1e-9)
        rows = [
            {"age": 30.0, "income": 50.0, "debt_ratio": 0.2},
            {"age": 60.0, "income": 20.0, "debt_ratio": 1.5},
        ]
        r = httpx.post(
            f"{srv.url}/models/node-scorer/invocations", json={"dataframe_records": rows}
        )
        assert r.status_code == 200, r.text
        predictions = r.json()["predictions"]
        assert len(predictions) == 2 and {"probability", "label"} <= set(predictions[0])
    finally:
        assert srv.stop() == 0
