"""One body for every error: ``{"error": message, "code": code, "hint": …}``.

A :class:`~modelward.errors.ModelwardError` answers with its own HTTP status (the one table in
``modelward/errors.py``); FastAPI's validation errors, unknown routes and wrong methods are
turned into the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from modelward.errors import (
    AuthenticationError,
    InvalidInputError,
    MethodNotAllowedError,
    ModelwardError,
    NotFoundError,
)

log = logging.getLogger("modelward.api")


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(ModelwardError, _modelward)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal)


def answer(exc: ModelwardError, headers: dict[str, str] | None = None) -> JSONResponse:
    """The response for ``exc``."""
    if isinstance(exc, AuthenticationError):
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)


async def _modelward(request: Request, exc: ModelwardError) -> JSONResponse:
    return answer(exc)


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [_problem(e) for e in exc.errors()]
    error = InvalidInputError(
        "invalid request: " + "; ".join(problems),
        hint="see the parameters in /api/v1/openapi.json",
    )
    body = error.to_dict()
    body["problems"] = problems
    return JSONResponse(body, status_code=error.http_status)


def _problem(error: dict[str, Any]) -> str:
    where = [str(part) for part in error.get("loc", ())]
    if where and where[0] in {"query", "path", "body", "header"}:
        kind, rest = where[0], where[1:]
        place = f"{kind} {'.'.join(rest)}".strip() if rest else kind
    else:
        place = ".".join(where) or "request"
    return f"{place}: {error.get('msg', 'invalid')}"


async def _http(request: Request, exc: HTTPException) -> JSONResponse:
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return answer(
            NotFoundError(
                f"no such route: {request.method} {request.url.path}",
                hint="the API lives under /api/v1; its routes are listed in /api/v1/openapi.json",
            ),
            headers,
        )
    if exc.status_code == 405:
        return answer(
            MethodNotAllowedError(
                f"{request.url.path} does not answer {request.method}",
                hint=f"allowed: {headers.get('Allow', headers.get('allow', '?'))}",
            ),
            headers,
        )
    code = "INVALID_INPUT" if exc.status_code < 500 else "INTERNAL_ERROR"
    return JSONResponse(
        {"error": str(exc.detail), "code": code}, status_code=exc.status_code, headers=headers
    )


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error in %s %s", request.method, request.url.path)
    return JSONResponse(
        {
            "error": f"internal error: {type(exc).__name__}",
            "code": "INTERNAL_ERROR",
            "hint": "this is a bug: the server log has the traceback; please report it",
        },
        status_code=500,
    )
