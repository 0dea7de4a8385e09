"""MODELWARD_TRACKING_URI and MODELWARD_TOKEN: which client ``connect()`` and the CLI get, and
bad values refused with a hint."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import modelward as mw
from modelward.client import Client
from modelward.config import load_settings
from modelward.errors import ConfigurationError, UnavailableError
from modelward.remote import RemoteClient
from modelward.remote.transport import error_from_body


def test_unset_means_the_embedded_store(mw_home: Path) -> None:
    settings = load_settings({"MODELWARD_HOME": str(mw_home)})
    assert settings.tracking_uri is None and not settings.remote
    client = mw.connect()
    assert type(client) is Client
    client.close()


def test_an_http_uri_means_remote_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELWARD_TRACKING_URI", "HTTPS://models.example:8443/")
    monkeypatch.setenv("MODELWARD_TOKEN", "mw_secret")
    settings = load_settings()
    assert settings.remote and settings.tracking_uri == "https://models.example:8443"
    assert settings.token == "mw_secret" and "mw_secret" not in repr(settings)
    client = mw.connect()
    assert isinstance(client, RemoteClient) and isinstance(client, Client)
    assert client.settings.tracking_uri == "https://models.example:8443"
    assert type(mw.Client()) is Client  # the embedded client stays what it was


def test_a_database_uri_is_the_database(mw_home: Path) -> None:
    url = f"sqlite:///{mw_home / 'other.db'}"
    settings = load_settings({"MODELWARD_HOME": str(mw_home), "MODELWARD_TRACKING_URI": url})
    assert not settings.remote and settings.database_url == url
    client = mw.connect(url)
    assert type(client) is Client and client.settings.database_url == url


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"MODELWARD_TRACKING_URI": "localhost:8000"}, "neither an http(s) URL"),
        ({"MODELWARD_TRACKING_URI": "ftp://host"}, "neither an http(s) URL"),
        ({"MODELWARD_TRACKING_URI": "http://"}, "names no host"),
        (
            {
                "MODELWARD_TRACKING_URI": "sqlite:///a.db",
                "MODELWARD_DATABASE_URL": "sqlite:///b.db",
            },
            "two different databases",
        ),
    ],
)
def test_bad_tracking_uris_are_refused(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigurationError, match="MODELWARD_TRACKING_URI") as refused:
        load_settings(env)
    assert needle in refused.value.message and refused.value.hint


def test_a_remote_client_needs_an_http_uri() -> None:
    with pytest.raises(ConfigurationError, match="http"):
        RemoteClient(load_settings({}))


def test_error_bodies_map_back_to_their_classes() -> None:
    denied = error_from_body(
        403, {"error": "no", "code": "PERMISSION_DENIED", "hint": "ask", "permission": "x:y"}
    )
    assert type(denied).__name__ == "PermissionDeniedError" and denied.permission == "x:y"  # type: ignore[attr-defined]
    assert (denied.message, denied.hint, denied.exit_code) == ("no", "ask", 6)
    problems = error_from_body(
        422, {"error": "bad", "code": "SIGNATURE_VIOLATION", "problems": ["p"]}
    )
    assert problems.problems == ["p"] and problems.http_status == 422  # type: ignore[attr-defined]
    unknown = error_from_body(409, {"error": "newer", "code": "SOMETHING_NEW"})
    assert type(unknown).__name__ == "ConflictError" and unknown.message == "newer"
    internal = error_from_body(500, {"error": "internal error: KeyError", "code": "INTERNAL_ERROR"})
    assert internal.exit_code == 1


def test_a_server_that_never_answers_times_out_clearly() -> None:
    with socket.socket() as listener:  # accepts connections (the kernel does) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(UnavailableError, match=r"did not answer within 0\.3 s") as raised:
            RemoteClient(tracking_uri=url, timeout=0.3).list()
    assert url in raised.value.message and "MODELWARD_TRACKING_URI" in (raised.value.hint or "")


def test_an_answer_that_is_not_modelward_is_named() -> None:
    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(502)
            self.end_headers()
            self.wfile.write(b"<html>Bad Gateway</html>")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        with pytest.raises(UnavailableError, match="HTTP 502 without a modelward body"):
            RemoteClient(tracking_uri=url).get_model("churn")
    finally:
        httpd.shutdown()
        httpd.server_close()
