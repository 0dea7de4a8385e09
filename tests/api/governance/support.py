"""Helpers of the governance route tests: real models, concurrent requests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pandas as pd

from modelward.client import Client
from tests.api.conftest import Api
from tests.governance.test_validation import logistic, register

AUTHOR = "tester"  # MODELWARD_ACTOR in the tests: the author of what the SDK registers


def register_real(mw: Client, data: tuple[pd.DataFrame, pd.DataFrame], **kw: Any) -> int:
    """A real scikit-learn classifier, registered by :data:`AUTHOR`; its version number."""
    return register(mw, logistic(), data[0], **kw)


def concurrently(api: Api, *calls: tuple[str, str, str, dict[str, Any]]) -> list[httpx.Response]:
    """Send every (method, path, token, json) call at once; the answers in the same order."""

    async def send(method: str, path: str, token: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return await api.http.request(method, path, headers=headers, json=body)

    async def everything() -> list[httpx.Response]:
        return list(await asyncio.gather(*(send(*call) for call in calls)))

    return api.loop.run_until_complete(everything())
