"""Fixtures of the governance route tests: an SDK client on the app's database, holdout data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelward.client import Client
from modelward.config import load_settings
from tests.api.conftest import Api
from tests.governance.test_validation import cancer  # noqa: F401  (a fixture)


@pytest.fixture
def mw(api: Api) -> Iterator[Client]:
    """The embedded SDK on the same database and artifact root as the app."""
    client = Client(load_settings())
    yield client
    client.close()
