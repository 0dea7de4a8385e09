"""Validation: run it on uploaded labelled data, list a version's reports, read one report.

``POST …/validate`` takes either a ``multipart/form-data`` body (a ``file`` part in CSV, Parquet
or JSON lines, named by its suffix, plus optional ``label_column`` and ``task`` fields) or JSON
``{"rows": [...], "label_column": …, "task": …}``. Scoring runs in the server process, in a
worker thread, with the same service function as ``modelward validate``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from modelward.api.context import ApiContext, context
from modelward.api.pagination import PageParams, page_of, page_params
from modelward.api.schemas import ValidationRows
from modelward.api.security import requires
from modelward.api.uploads import Upload, media_type, parse_form, read_body
from modelward.client import Client
from modelward.errors import InvalidInputError, UnsupportedContentTypeError
from modelward.governance.users import Caller
from modelward.governance.validation import DEFAULT_LABEL
from modelward.refs import ModelRef
from modelward.store.governance_entities import ValidationReport as Report

router = APIRouter(tags=["validation"])
FORM_FIELDS = ("label_column", "task")
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "label_column": {"type": "string", "default": DEFAULT_LABEL},
                        "task": {"type": "string", "enum": ["classification", "regression"]},
                    },
                }
            },
            "application/json": {"schema": ValidationRows.model_json_schema()},
        },
    }
}


@router.post("/models/{name}/versions/{version}/validate", status_code=201, openapi_extra=_BODY_DOC)
async def validate(
    request: Request,
    name: str,
    version: int,
    caller: Caller = requires("lifecycle:validate"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """Score the version (and the champion) on the data, check goals and thresholds, store the
    report; a passing draft becomes ``validated``. The answer is the report."""
    client = ctx.client_for(caller)
    ref = ModelRef(name, version)
    kind, header = media_type(request)
    body = await read_body(request)
    if kind == "application/json":
        rows = _rows(body)
        data = pd.DataFrame(rows.rows)
        report = await run_in_threadpool(
            client.validate, ref, data, label_column=rows.label_column, task=rows.task
        )
        return report.to_dict()
    if kind != "multipart/form-data":
        raise UnsupportedContentTypeError(
            f"validation data cannot come as {kind}",
            hint="send multipart/form-data with a file part, or JSON {rows, label_column}",
        )
    fields, files = parse_form(header, body)
    unknown = sorted(set(fields) - set(FORM_FIELDS))
    if unknown or len(files) != 1:
        raise InvalidInputError(
            "the form needs exactly one file part"
            + (f" and no field {', '.join(map(repr, unknown))}" if unknown else "")
            + f" (it has {len(files)} file part(s))",
            hint=f"send the data as a file part; fields allowed: {', '.join(FORM_FIELDS)}",
        )
    label = fields.get("label_column") or DEFAULT_LABEL
    task = fields.get("task") or None
    report = await run_in_threadpool(_validate_file, client, ref, files[0], label, task)
    return report.to_dict()


def _rows(body: bytes) -> ValidationRows:
    try:
        return ValidationRows.model_validate_json(body)
    except ValidationError as exc:  # answered like any other invalid body
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        ) from exc


def _validate_file(
    client: Client, ref: ModelRef, upload: Upload, label: str, task: str | None
) -> Report:
    """Write the upload to a scratch file named like the client's (its suffix is its format)
    and validate on it; the file is removed afterwards, its fingerprint stays in the report."""
    client.settings.ensure_home()
    with tempfile.TemporaryDirectory(dir=client.settings.cache_dir, prefix="upload-") as tmp:
        path = Path(tmp) / upload.safe_name
        path.write_bytes(upload.content)
        return client.validate(ref, path, label_column=label, task=task)


@router.get("/models/{name}/versions/{version}/validation-reports")
def list_reports(
    request: Request,
    name: str,
    version: int,
    params: PageParams = Depends(page_params),
    caller: Caller = requires("models:read"),
    ctx: ApiContext = Depends(context),
) -> dict[str, Any]:
    """The version's validation reports, oldest first, one page at a time."""
    found = ctx.client_for(caller).validation_reports(ModelRef(name, version))
    return page_of(found, params, request)


@router.get("/validation-reports/{report_id}")
def get_report(
    report_id: int, caller: Caller = requires("models:read"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """One validation report's record."""
    return ctx.store.get_validation_report(report_id).to_dict()


@router.get("/validation-reports/{report_id}/document")
def report_document(
    report_id: int, caller: Caller = requires("models:read"), ctx: ApiContext = Depends(context)
) -> dict[str, Any]:
    """The report's stored JSON document (verified against its digest)."""
    return ctx.client_for(caller).report_document(report_id)


@router.get("/validation-reports/{report_id}/html", response_class=HTMLResponse)
def report_html(
    report_id: int, caller: Caller = requires("models:read"), ctx: ApiContext = Depends(context)
) -> HTMLResponse:
    """The report's self-contained HTML page."""
    return HTMLResponse(ctx.client_for(caller).report_html(report_id))
