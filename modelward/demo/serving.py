"""The demo's serving part: start the scoring server on the demo models, call both protocols."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import httpx
import pandas as pd
import uvicorn
from rich.console import Console
from rich.table import Table

from modelward.client import Client
from modelward.scoring.config import ServeConfig
from modelward.scoring.server import build_app, resolve_refs


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _oip(frame: pd.DataFrame, **parameters: Any) -> dict[str, Any]:
    inputs = [
        {
            "name": c,
            "shape": [len(frame)],
            "datatype": "FP64"
            if frame[c].dtype.kind == "f"
            else "INT64"
            if frame[c].dtype.kind == "i"
            else "BYTES",
            "data": frame[c].tolist(),
        }
        for c in frame.columns
    ]
    body: dict[str, Any] = {"id": "demo", "inputs": inputs}
    if parameters:
        body["parameters"] = parameters
    return body


def serve_and_call(
    client: Client, samples: dict[str, pd.DataFrame], console: Console
) -> list[tuple[str, int, str, str]]:
    """Serve the demo models' champions, send OIP and MLflow requests, print what came back;
    each call is (request, status, answer, request id)."""
    refs = resolve_refs([f"{name}@champion" for name in samples], client)
    port = _free_port()
    app = build_app(refs, ServeConfig(port=port), client)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    calls: list[tuple[str, int, str, str]] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        console.print(f"  serving {', '.join(refs)} on {url}", highlight=False)
        requests = _requests(samples)
        with httpx.Client(base_url=url, timeout=30) as http:
            for n, (label, path, kwargs) in enumerate(requests, start=1):
                started = time.perf_counter()
                r = http.post(path, headers={"X-Request-ID": f"demo-{n}"}, **kwargs)
                took = (time.perf_counter() - started) * 1000
                answer = f"{_summary(r)} ({took:.1f} ms)"
                calls.append((label, r.status_code, answer, r.headers.get("x-request-id", "")))
    finally:
        server.should_exit = True
        thread.join(60)
    table = Table(
        title="the same models, served over HTTP (OIP v2 and MLflow)", title_justify="left"
    )
    for column in ("request id", "request", "status", "answer"):
        table.add_column(column, overflow="fold")
    for row in calls:
        table.add_row(row[3], row[0], str(row[1]), row[2])
    console.print(table)
    return calls


def _requests(samples: dict[str, pd.DataFrame]) -> list[tuple[str, str, dict[str, Any]]]:
    out: list[tuple[str, str, dict[str, Any]]] = []
    for name, frame in samples.items():
        if frame.empty:  # a forecaster: no inputs, a horizon
            out.append(
                (
                    f"OIP infer {name} horizon=6",
                    f"/v2/models/{name}/infer",
                    {"json": {"inputs": [], "parameters": {"horizon": 6}}},
                )
            )
            continue
        out.append((f"OIP infer {name}", f"/v2/models/{name}/infer", {"json": _oip(frame)}))
        records = {"dataframe_records": frame.to_dict(orient="records")}
        out.append((f"MLflow invocations {name}", f"/models/{name}/invocations", {"json": records}))
    return out


def _summary(response: httpx.Response) -> str:
    body = response.json()
    if "outputs" in body:
        return "; ".join(f"{o['name']}={_short(o['data'])}" for o in body["outputs"][:2])
    if "predictions" in body:
        return _short(body["predictions"])
    return str(body.get("error", body))[:120]


def _short(values: list[Any]) -> str:
    def tidy(v: Any) -> Any:
        if isinstance(v, float):
            return round(v, 1)
        if isinstance(v, dict):
            return {k: tidy(x) for k, x in v.items()}
        return v

    return str([tidy(v) for v in values[:3]]) + (" …" if len(values) > 3 else "")
