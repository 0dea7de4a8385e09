from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from modelward.errors import EXIT_UNAVAILABLE
from modelward.store.migrate import head_revision
from tests.support.cli import Run


def test_init_creates_home_database_and_artifact_root(run: Run, mw_home: Path) -> None:
    result = run("init", "--json")
    assert result.code == 0, result.err
    info = json.loads(result.out)
    assert info["home"] == str(mw_home) and (mw_home / "modelward.db").exists()
    assert Path(info["artifact_root"]).is_dir() and info["revision"] == head_revision()


def test_doctor_passes_on_a_healthy_install(run: Run) -> None:
    result = run("doctor", "--json")
    assert result.code == 0, result.out
    checks = {c["check"]: c for c in json.loads(result.out)["checks"]}
    assert all(c["ok"] for c in checks.values())
    assert "sklearn" in checks["flavors"]["detail"] and "rules" in checks["flavors"]["detail"]


def test_doctor_reports_an_unreachable_database(run: Run, monkeypatch: object) -> None:
    os.environ["MODELWARD_DATABASE_URL"] = "postgresql://u:hunter2@127.0.0.1:1/x"
    try:
        result = run("doctor")
    finally:
        del os.environ["MODELWARD_DATABASE_URL"]
    assert result.code == EXIT_UNAVAILABLE
    assert "FAIL" in result.out and "hunter2" not in result.out


def test_db_commands(run: Run) -> None:
    assert f"is at revision {head_revision()}" in run("db", "upgrade").out
    assert "up to date" in run("db", "current").out


def test_real_console_script_database_unreachable_is_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MODELWARD_HOME": str(tmp_path),
        "MODELWARD_DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/x",
    }
    script = Path(sys.executable).parent / "modelward"
    done = subprocess.run(
        [str(script), "models", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == EXIT_UNAVAILABLE
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith(
        "error: cannot use the metadata database at postgresql://u:***@127.0.0.1:1/x"
    )
    assert len(lines) == 2 and lines[1].startswith("hint:") and "Traceback" not in done.stderr
