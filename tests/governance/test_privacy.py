"""PII columns are hashed with a key kept outside the database, or dropped, in the inference log."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from modelward.config import load_settings
from modelward.errors import ConfigurationError
from modelward.governance.privacy import hash_value, key_path, load_key, pii_mode, protect
from modelward.signatures import ColumnSpec, Signature

SIG = Signature(
    (ColumnSpec("email", "string", pii=True), ColumnSpec("x", "double")),
    (ColumnSpec("prediction", "long"),),
)


def columns() -> dict[str, np.ndarray]:
    email = np.empty(3, dtype=object)
    email[:] = ["a@x.org", None, "a@x.org"]
    return {"email": email, "x": np.array([1.0, 2.0, 3.0])}


def test_the_key_is_created_once_outside_the_database_and_private(mw_home: Path) -> None:
    settings = load_settings()
    key = load_key(settings)
    path = key_path(settings)
    assert path == mw_home / "keys" / "pii.key" and len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(settings) == key  # stable across calls


def test_hash_drop_keep(mw_home: Path) -> None:
    key = load_key(load_settings())
    hashed = protect(columns(), SIG, "hash", key)
    values = hashed["email"].tolist()
    assert values[0] == values[2] == hash_value(key, "a@x.org") and values[1] is None
    assert "a@x.org" not in values and len(values[0]) == 64
    np.testing.assert_array_equal(hashed["x"], [1.0, 2.0, 3.0])
    assert list(protect(columns(), SIG, "drop", key)) == ["x"]
    assert protect(columns(), SIG, "keep", None)["email"][0] == "a@x.org"
    assert hash_value(b"another key of 32 bytes........", "a@x.org") != values[0]


def test_bad_settings_are_refused(
    mw_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MODELWARD_PII_MODE", "scramble")
    with pytest.raises(ConfigurationError, match="not a PII mode"):
        pii_mode()
    short = tmp_path / "short.key"
    short.write_bytes(b"tiny")
    monkeypatch.setenv("MODELWARD_PII_KEY_FILE", str(short))
    with pytest.raises(ConfigurationError, match="too short"):
        load_key(load_settings())
    assert os.environ["MODELWARD_PII_KEY_FILE"] == str(short)


def test_the_policy_decides_and_the_environment_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MODELWARD_PII_MODE", raising=False)
    assert (pii_mode(), pii_mode("drop")) == ("hash", "drop")
    monkeypatch.setenv("MODELWARD_PII_MODE", "keep")
    assert pii_mode("drop") == "keep"


def test_a_policy_with_an_unknown_pii_mode_is_refused() -> None:
    from modelward.errors import InvalidPolicyError
    from modelward.governance.policies import parse_policy

    assert parse_policy("high", {}).pii == "hash"
    with pytest.raises(InvalidPolicyError, match=r"privacy.pii 'hsh' is not one of: hash, drop"):
        parse_policy("low", {"privacy": {"pii": "hsh"}})
    with pytest.raises(InvalidPolicyError, match="allowed keys: pii"):
        parse_policy("low", {"privacy": {"mode": "drop"}})


@pytest.mark.parametrize("policy_mode", ["hash", "drop"])
def test_the_scoring_server_logs_pii_per_policy(
    sqlite_client: object, tmp_path: Path, policy_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import httpx
    import uvloop

    from modelward.client import Client
    from modelward.runtimes.python import PythonModel
    from modelward.scoring.config import ServeConfig
    from modelward.scoring.server import build_app

    assert isinstance(sqlite_client, Client)
    monkeypatch.delenv("MODELWARD_PII_MODE", raising=False)
    if policy_mode == "drop":
        sqlite_client.set_policy("medium", {"privacy": {"pii": "drop"}})
    (tmp_path / "m.py").write_text(
        "class M:\n    def predict(self, frame):\n        return frame['x'] * 2\n"
    )
    signature = {
        "inputs": [
            {"name": "email", "type": "string", "pii": True},
            {"name": "x", "type": "double"},
        ]
    }
    sqlite_client.register_model(
        PythonModel("m:M", code=[tmp_path / "m.py"]),
        "pii",
        signature=signature,
        input_example={"email": ["a@x.org"], "x": [1.0]},
    )
    app = build_app(["pii/1"], ServeConfig(), sqlite_client)

    async def go() -> int:
        await app.startup()
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://t"
            ) as http:
                body = {"dataframe_records": [{"email": "secret@x.org", "x": 2.0}]}
                r = await http.post(
                    "/invocations",
                    content=json.dumps(body),
                    headers={"content-type": "application/json"},
                )
                return r.status_code
        finally:
            await app.shutdown()

    assert uvloop.run(go()) == 200
    logged = sqlite_client.query_logs("SELECT * FROM inference")
    assert logged["input__x"][0] == 2.0
    if policy_mode == "drop":
        assert "input__email" not in logged.columns
        return
    email = logged["input__email"][0]
    assert (
        email == hash_value(load_key(load_settings()), "secret@x.org")
        and logged["input__x"][0] == 2.0
    )
