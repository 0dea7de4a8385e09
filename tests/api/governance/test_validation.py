"""Validation through the API (SQLite and PostgreSQL): a real classifier scored on uploaded
data (multipart file or JSON rows), its reports listed and read, bad data refused clearly."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pandas as pd
import pytest

from modelward.api import uploads
from modelward.client import Client
from tests.api.conftest import Api
from tests.api.governance.support import register_real

BC = "/api/v1/models/bc/versions/1"
URLENCODED = "application/x-www-form-urlencoded"


def upload(frame: pd.DataFrame, name: str = "holdout.csv") -> tuple[dict[str, Any], bytes]:
    """A multipart ``file`` part holding ``frame`` as CSV; the files argument and the bytes."""
    data = frame.to_csv(index=False).encode()
    return {"file": (name, io.BytesIO(data), "text/csv")}, data


def test_validate_an_uploaded_file_then_read_the_report(api: Api, mw: Client, cancer: Any) -> None:
    register_real(mw, cancer)
    mw.update_model("bc", goals=["roc_auc>=0.9"])
    token = api.token_for("val", "data_scientist")
    files, data = upload(cancer[1])
    r = api.call("POST", f"{BC}/validate", token, files=files, data={"label_column": "label"})
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["passed"] and report["actor"] == "val"
    assert report["metrics"]["roc_auc"] > 0.9
    assert report["data"]["fingerprint"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert report["data"]["rows"] == len(cancer[1])
    assert mw.get("bc/1").stage == "validated"
    listed = api.call("GET", f"{BC}/validation-reports", token).json()
    assert [x["id"] for x in listed["items"]] == [report["id"]]
    one = api.call("GET", f"/api/v1/validation-reports/{report['id']}", token).json()
    assert one == report
    doc = api.call("GET", f"/api/v1/validation-reports/{report['id']}/document", token).json()
    assert doc["ref"] == "bc/1" and doc["passed"] is True and doc["digest"] == one["digest"]
    page = api.call("GET", f"/api/v1/validation-reports/{report['id']}/html", token)
    assert page.headers["content-type"].startswith("text/html")
    assert "Validation of bc/1" in page.text and "passed" in page.text
    missing = api.call("GET", "/api/v1/validation-reports/999/document", token)
    assert missing.status_code == 404


def test_validate_json_rows_with_another_label_column(api: Api, mw: Client, cancer: Any) -> None:
    register_real(mw, cancer)
    holdout = cancer[1].rename(columns={"label": "y"}).head(60)
    body = {"rows": holdout.to_dict(orient="records"), "label_column": "y"}
    r = api.call("POST", f"{BC}/validate", api.admin, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["data"]["rows"] == 60 and r.json()["data"]["label_column"] == "y"
    assert r.json()["data"]["location"] == "in-memory"


def test_validation_data_without_the_label_column_is_a_clear_400(
    api: Api, mw: Client, cancer: Any
) -> None:
    register_real(mw, cancer)
    features = cancer[1].drop(columns=["label"]).head(20)
    files, _ = upload(features)
    r = api.call("POST", f"{BC}/validate", api.admin, files=files)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "INVALID_DATA"
    assert "no label column 'label'" in r.json()["error"] and "mean radius" in r.json()["hint"]
    r = api.call(
        "POST", f"{BC}/validate", api.admin, json={"rows": features.to_dict(orient="records")}
    )
    assert r.status_code == 400 and "no label column 'label'" in r.json()["error"]
    assert mw.validation_reports("bc/1") == [] and mw.get("bc/1").stage == "draft"


@pytest.mark.parametrize(
    ("kwargs", "status", "needle"),
    [
        ({"content": b"a,b\n1,2\n", "headers": {"content-type": "text/csv"}}, 415, "text/csv"),
        ({"json": {"rows": []}}, 400, "rows"),
        ({"json": {"rows": [{"a": 1}], "labels": "x"}}, 400, "labels"),
        (
            {"content": b"label_column=label", "headers": {"content-type": URLENCODED}},
            415,
            URLENCODED,
        ),
        ({"files": {"file": ("x.txt", b"a\n1\n")}}, 400, "x.txt"),
        ({"files": {"file": ("x.csv", b"a\n1\n")}, "data": {"colour": "red"}}, 400, "colour"),
        (
            {
                "content": b"--b\r\nContent-Disposition: form-data",
                "headers": {"content-type": "multipart/form-data; boundary=b"},
            },
            400,
            "multipart",
        ),
    ],
)
def test_bad_validation_requests_are_refused(
    api: Api, mw: Client, cancer: Any, kwargs: dict[str, Any], status: int, needle: str
) -> None:
    register_real(mw, cancer)
    r = api.call("POST", f"{BC}/validate", api.admin, **kwargs)
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]
    assert mw.validation_reports("bc/1") == []


def test_a_form_without_a_file_part_and_a_body_over_the_limit(
    api: Api, mw: Client, cancer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_real(mw, cancer)
    boundary = "zz"
    form = f'--{boundary}\r\nContent-Disposition: form-data; name="label_column"\r\n\r\nlabel\r\n--{boundary}--\r\n'
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    r = api.call("POST", f"{BC}/validate", api.admin, content=form.encode(), headers=headers)
    assert r.status_code == 400 and "exactly one file part" in r.json()["error"]
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1000)
    files, _ = upload(cancer[1])
    r = api.call("POST", f"{BC}/validate", api.admin, files=files)
    assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"
