"""Track-back from one request id: inference record → version → artifact → training data →
validation reports → approvals → label.

A request id is user text. It never reaches the SQL as text: it is sent as the hex of its UTF-8
bytes (only ``0-9a-f``) and decoded back inside DuckDB, so no id can change the query.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from modelward.errors import (
    InvalidInputError,
    ModelNotFoundError,
    NotFoundError,
    VersionNotFoundError,
)
from modelward.governance.lineage import upstream, version_summary
from modelward.governance.lineage_db import approvals, store_engine, validation_reports
from modelward.monitoring.logquery import VIEW, query_logs
from modelward.monitoring.tables import INPUT_PREFIX, OUTPUT_PREFIX
from modelward.refs import ModelRef

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from modelward.client import Client

NO_LABEL = "no label yet"
_RECENT_IDS = (
    f'modelward logs query "SELECT request_id, max(time) AS time FROM {VIEW} '
    'GROUP BY request_id ORDER BY time DESC LIMIT 20"'
)


def trace_request(client: Client, request_id: str) -> dict[str, Any]:
    """Everything behind one request, per model version that scored it (shadows included)."""
    if not isinstance(request_id, str) or not request_id.strip():
        raise InvalidInputError("a request id is needed", hint=f"find one with: {_RECENT_IDS}")
    frame = find_request(client, request_id)
    engine = store_engine(client)
    hops = []
    for key, group in frame.groupby(["model", "version"], sort=True):
        model, version = cast("tuple[Any, Any]", key)
        hops.append(_hop(client, engine, str(model), int(version), group))
    found = _labels(client, sorted({str(m) for m in frame["model"]}), request_id)
    return {
        "request_id": request_id,
        "records": hops,
        "label": found or None,
        "label_note": None if found else NO_LABEL,
    }


def _labels(client: Client, models: list[str], request_id: str) -> list[dict[str, Any]]:
    """The labels in force for ``request_id`` (one per model and row), when they arrived."""
    from modelward.monitoring.labels import list_labels

    out: list[dict[str, Any]] = []
    for model in models:
        frame = list_labels(client.settings.home, model)
        if frame.empty:
            continue
        mine = frame[frame["request_id"] == request_id].sort_values("row")
        for record in json.loads(mine.to_json(orient="records", date_format="iso")):
            out.append({"model": model, **record})
    return out


def find_request(client: Client, request_id: str) -> pd.DataFrame:
    """The inference log rows of ``request_id``; a clear not-found error when there are none."""
    literal = f"decode(unhex('{request_id.encode('utf-8').hex()}'))"
    sql = f'SELECT * FROM {VIEW} WHERE request_id = {literal} ORDER BY model, version, "row"'
    try:
        frame = query_logs(client.settings.home, sql)
    except NotFoundError as exc:
        raise NotFoundError(
            f"cannot trace request {request_id!r}: {exc.message}", hint=exc.hint
        ) from exc
    frame = frame[frame["request_id"] == request_id]  # belt and braces
    if frame.empty:
        raise NotFoundError(
            f"no inference record has request id {request_id!r}",
            hint=f"check the id (it is matched exactly); recent ones: {_RECENT_IDS}",
        )
    return frame


def _hop(
    client: Client, engine: Engine, model: str, version: int, group: pd.DataFrame
) -> dict[str, Any]:
    hop: dict[str, Any] = {"inference": _inference(model, version, group)}
    try:
        found = client.get(ModelRef(model, version=version))
    except (ModelNotFoundError, VersionNotFoundError):
        hop.update(model_version=None, note=f"{model}/{version} is no longer in the registry")
        return hop
    hop.update(
        model_version=version_summary(found),
        artifact_digest=found.digest,
        training_data=upstream(found)["datasets"],
        validation_reports=validation_reports(engine, found),
        approvals=approvals(engine, found),
    )
    return hop


def _inference(model: str, version: int, group: pd.DataFrame) -> dict[str, Any]:
    # files of other models add their columns as nulls; keep only what this request carried
    empty = [
        c
        for c in group.columns
        if c.startswith((INPUT_PREFIX, OUTPUT_PREFIX)) and bool(group[c].isna().all())
    ]
    records: list[dict[str, Any]] = json.loads(
        group.drop(columns=empty).to_json(orient="records", date_format="iso", date_unit="us")
    )
    first = records[0]
    return {
        "request_id": first["request_id"],
        "model": model,
        "version": version,
        "time": first.get("time"),
        "status": first.get("status"),
        "latency_ms": first.get("latency_ms"),
        "protocol": first.get("protocol"),
        "error": first.get("error"),
        "rows": [
            {
                "row": r.get("row"),
                "inputs": _prefixed(r, INPUT_PREFIX),
                "outputs": _prefixed(r, OUTPUT_PREFIX),
            }
            for r in records
        ],
    }


def _prefixed(record: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in record.items() if k.startswith(prefix)}
