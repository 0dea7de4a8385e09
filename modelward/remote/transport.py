"""HTTP to the control-plane API with the standard library: JSON in and out, a bearer token,
timeouts, and every error answer turned back into the modelward exception the server raised.

The server answers errors as ``{"error", "code", "hint", …}`` (``modelward/api/errors.py``);
:func:`error_from_body` rebuilds the exception of that ``code`` with the server's message, hint
and extra fields (``permission``, ``problems``, ``seq``), so a caller catches the same classes
(and the CLI exits with the same codes) as in embedded mode.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.client import HTTPResponse
from typing import Any, TypeVar

from modelward.config import ENV_ARTIFACT_ROOT, ENV_DATABASE_URL, ENV_TOKEN, ENV_TRACKING_URI
from modelward.errors import (
    AuthenticationError,
    InvalidInputError,
    ModelwardError,
    UnavailableError,
    all_error_classes,
)

T = TypeVar("T")
API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = 60.0
#: Errors by the HTTP status of an answer whose ``code`` this client does not know.
_BY_STATUS = {
    400: "INVALID_INPUT",
    401: "UNAUTHENTICATED",
    403: "REFUSED",
    404: "NOT_FOUND",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_CONTENT_TYPE",
    422: "INVALID_INPUT",
    503: "UNAVAILABLE",
}


def quote(segment: str | int) -> str:
    """One path segment, escaped (a ``/`` in a name stays inside its segment)."""
    return urllib.parse.quote(str(segment), safe="")


class Transport:
    """Requests to one server's ``/api/v1`` with one token."""

    def __init__(self, base_url: str, token: str | None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def json(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """Send ``body`` as JSON (when given); the answer's JSON."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        kind = None if body is None else "application/json"
        return self.send(method, path, query=query, data=data, content_type=kind, timeout=timeout)

    def send(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send ``data`` as it is (an upload, say); the answer's JSON."""
        with self.open(
            method, path, query=query, data=data, content_type=content_type, timeout=timeout
        ) as response:
            return self._decode(response)

    def text(self, path: str, *, query: Mapping[str, Any] | None = None) -> str:
        """A GET whose answer is text (HTML, Markdown)."""
        with self.open("GET", path, query=query) as response:
            return response.read().decode("utf-8")

    def pages(
        self, path: str, *, query: Mapping[str, Any] | None = None, limit: int | None = None
    ) -> list[Any]:
        """The items of a paged listing, following ``next`` links, at most ``limit`` of them."""
        items: list[Any] = []
        body = self.json("GET", path, query=query)
        while True:
            items.extend(body["items"])
            if body.get("next") is None or (limit is not None and len(items) >= limit):
                return items if limit is None else items[:limit]
            body = self.json("GET", _relative(body["next"]))

    @contextmanager
    def open(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
        timeout: float | None = None,
    ) -> Iterator[HTTPResponse]:
        """One request; the open response (read it inside the ``with``)."""
        url = self.base_url + API_PREFIX + path
        pairs = [(k, v) for k, v in (query or {}).items() if v is not None]
        if pairs:
            url += "?" + urllib.parse.urlencode(pairs, doseq=True)
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if content_type:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            response = urllib.request.urlopen(request, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as exc:
            with exc:
                raise self._error(exc.code, exc.read()) from None
        except (urllib.error.URLError, OSError) as exc:
            raise self._unreachable(exc) from None
        with response:
            try:
                yield response
            except (TimeoutError, ConnectionError) as exc:  # the answer stopped half-way
                raise self._unreachable(exc) from None

    def _decode(self, response: HTTPResponse) -> Any:
        raw = response.read()
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise self._odd_answer(response.status, raw) from None

    def _error(self, status: int, raw: bytes) -> ModelwardError:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("error"), str):
            return self._odd_answer(status, raw)
        error = error_from_body(status, body)
        if isinstance(error, AuthenticationError):
            error.hint = (
                f"{error.hint or 'ask an admin for a token'}; remote mode sends ${ENV_TOKEN} "
                f"(now {'set' if self.token else 'unset'}) to {self.base_url}"
            )
        return error

    def _unreachable(self, exc: BaseException) -> UnavailableError:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            what = f"did not answer within {self.timeout:g} s"
        else:
            what = f"cannot be reached: {getattr(reason, 'strerror', None) or reason}"
        return UnavailableError(
            f"the control-plane server at {self.base_url} {what}",
            hint=f"start it there with `modelward server`, or fix {ENV_TRACKING_URI}",
        )

    def _odd_answer(self, status: int, raw: bytes) -> UnavailableError:
        text = raw[:200].decode("utf-8", errors="replace").strip()
        return UnavailableError(
            f"{self.base_url} answered HTTP {status} without a modelward body: {text!r}",
            hint=f"check that {ENV_TRACKING_URI} names a `modelward server` (not a proxy page)",
        )


def error_from_body(status: int, body: Mapping[str, Any]) -> ModelwardError:
    """The exception a server's error body describes (its class found by ``code``)."""
    classes = {cls.code: cls for cls in all_error_classes()}
    code = str(body.get("code", ""))
    cls = classes.get(code) or classes.get(_BY_STATUS.get(status, ""), ModelwardError)
    error = cls.__new__(cls)  # subclasses take other constructor arguments: set the state
    Exception.__init__(error, body["error"])
    state = {k: v for k, v in body.items() if k not in ("error", "code", "hint")}
    error.__dict__.update(state, message=body["error"], hint=body.get("hint"))
    if code == "AUDIT_CHAIN_BROKEN" and "problem" not in state:
        error.__dict__["problem"] = str(body["error"]).partition(": ")[2]
    return error


def needs_store(what: str) -> InvalidInputError:
    """The error for what a remote client cannot do: it needs the store and artifacts here."""
    return InvalidInputError(
        f"{what} needs direct access to the metadata store and the artifacts; "
        f"it is not available through the control-plane API ({ENV_TRACKING_URI} is set)",
        hint=f"unset {ENV_TRACKING_URI} and set {ENV_DATABASE_URL} and {ENV_ARTIFACT_ROOT} "
        "to the server's database and artifact root",
    )


def multipart(fields: Mapping[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with text ``fields`` and one ``file`` part; the body and
    its ``Content-Type``."""
    boundary = "mw-" + secrets.token_hex(16)
    while boundary.encode() in content:  # 128 random bits: practically never
        boundary = "mw-" + secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    safe = urllib.parse.quote(filename, safe=" ._-")
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = b"".join(parts) + head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _relative(next_link: str) -> str:
    """A ``next`` link (``/api/v1/…?…``) as a path below the API prefix."""
    return next_link.removeprefix(API_PREFIX)


def rebuild(factory: Callable[[Any], T], data: Any) -> T:
    """``factory(data)`` for an entity read from an answer; a shape this client cannot read is
    a clear error (a server of another modelward version), not a ``KeyError``."""
    try:
        return factory(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnavailableError(
            f"the control-plane server answered in a shape this client cannot read ({exc!r})",
            hint="use the same modelward version on both sides",
        ) from exc
