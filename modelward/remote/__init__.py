"""Remote mode: the SDK and CLI on a control-plane server (``MODELWARD_TRACKING_URI``)."""

from __future__ import annotations

from dataclasses import replace

from modelward.client import Client
from modelward.config import REMOTE_SCHEMES, Settings, load_settings
from modelward.remote.client import RemoteClient

__all__ = ["RemoteClient", "connect"]


def connect(
    tracking_uri: str | None = None, *, token: str | None = None, settings: Settings | None = None
) -> Client:
    """A client for the environment: a :class:`RemoteClient` when ``tracking_uri`` (or
    ``MODELWARD_TRACKING_URI``) is an http(s) URL, the embedded :class:`Client` otherwise."""
    base = settings or load_settings()
    if tracking_uri is not None and tracking_uri.lower().startswith(REMOTE_SCHEMES):
        base = replace(base, tracking_uri=tracking_uri)
    elif tracking_uri is not None:  # a database URL, as with MODELWARD_TRACKING_URI
        base = replace(base, tracking_uri=None, database_url=tracking_uri)
    if base.remote:
        return RemoteClient(base, token=token)
    return Client(base)
