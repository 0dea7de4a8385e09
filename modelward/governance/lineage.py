"""Lineage of a version: what it came from (upstream) and what it has led to (downstream).

Upstream is what registration recorded: the source, datasets with fingerprints and locations,
the git state, parameters, environment and parent version. Downstream is everything recorded
about the version since: aliases (now and every move), validation reports, approvals and the
monitoring alerts raised on it (or on its model's traffic as a whole). Deployments are not
recorded yet; their section is present and empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelward.governance.lineage_db import (
    approvals,
    iso,
    store_engine,
    validation_reports,
)
from modelward.refs import ModelRef
from modelward.store.entities import ModelVersion

if TYPE_CHECKING:
    from modelward.client import Client

NONE_YET = "none yet"
#: Downstream sections that later work fills; until then they are empty, with this note.
NOT_RECORDED_YET = {
    "deployments": f"{NONE_YET} (deployments are not recorded by this release)",
}


def version_lineage(client: Client, ref: str | ModelRef) -> dict[str, Any]:
    """Upstream and downstream of the version ``ref`` points at, JSON-ready."""
    version = client.get(ref)
    engine = store_engine(client)
    moves = [
        m.to_dict()
        for m in client.alias_history(version.name)
        if version.version in (m.from_version, m.to_version)
    ]
    return {
        **version_summary(version),
        "upstream": upstream(version),
        "downstream": {
            "aliases": list(version.aliases),
            "alias_history": moves,
            "validation_reports": validation_reports(engine, version),
            "approvals": approvals(engine, version),
            "alerts": _alerts(client, version),
            **{section: [] for section in NOT_RECORDED_YET},
        },
        "notes": dict(NOT_RECORDED_YET),
    }


def _alerts(client: Client, version: ModelVersion) -> list[dict[str, Any]]:
    """Alerts of monitors on this version, or on all of its model's versions, newest first."""
    from modelward.monitoring.alerts import list_alerts
    from modelward.store.sql import SqlStore

    store = client.registry.store
    if not isinstance(store, SqlStore):
        return []
    found = list_alerts(store, model=version.name, limit=1000)
    return [a.to_dict() for a in found if a.version in (None, version.version)]


def version_summary(version: ModelVersion) -> dict[str, Any]:
    """Who the version is: reference, artifact digest, flavor, stage, author, time."""
    return {
        "ref": version.ref,
        "name": version.name,
        "version": version.version,
        "digest": version.digest,
        "flavor": version.flavor,
        "stage": version.stage,
        "archived": version.archived,
        "created_by": version.created_by,
        "created_at": iso(version.created_at),
    }


def upstream(version: ModelVersion) -> dict[str, Any]:
    """What registration recorded the version came from."""
    lineage = version.lineage
    return {
        "source": lineage.get("source"),
        "datasets": list(lineage.get("datasets") or []),
        "git": lineage.get("git"),
        "params": dict(version.params),
        "environment": lineage.get("environment"),
        "parent": lineage.get("parent"),
    }
