"""Audit, lineage, track-back and model cards of :class:`~modelward.remote.RemoteClient`:
the server reads its own database, inference log and artifacts."""

from __future__ import annotations

import builtins
from datetime import datetime
from pathlib import Path
from typing import Any

from modelward.batch.files import AtomicFile
from modelward.errors import InvalidInputError
from modelward.governance.audit import ChainStatus
from modelward.governance.cards import Segments
from modelward.refs import ModelRef
from modelward.registry.service import as_ref
from modelward.remote.governance import RemoteGovernance
from modelward.remote.transport import needs_store, quote, rebuild
from modelward.store.entities import AuditEvent, Model

#: Exporting the whole audit trail can take a while on a long trail.
EXPORT_TIMEOUT = 900.0


class RemoteRecords(RemoteGovernance):
    """Read-mostly governance records over HTTP, with the embedded client's names."""

    def audit_log(
        self,
        *,
        object_ref: str | None = None,
        since: datetime | str | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[AuditEvent]:
        """Audit events matching every filter, oldest first (``limit`` keeps the most recent)."""
        if limit is not None and limit < 1:
            raise InvalidInputError(f"limit must be 1 or more, not {limit}")
        when = since.isoformat() if isinstance(since, datetime) else since
        query = {"object": object_ref, "since": when, "actor": actor, "action": action}
        newest_first = self._paged("/audit/log", query, limit)
        return [rebuild(AuditEvent.from_dict, e) for e in reversed(newest_first)]

    def verify_audit(self) -> ChainStatus:
        """Have the server recompute the chain; ``AuditChainBrokenError`` names the first
        broken event."""
        return rebuild(lambda a: ChainStatus(**a), self._http.json("GET", "/audit/verify"))

    def export_audit(self, out: str | Path) -> int:
        """Write every audit event as JSON lines to ``out``, atomically; returns how many."""
        count = 0
        with (
            self._http.open("GET", "/audit/export", timeout=EXPORT_TIMEOUT) as response,
            AtomicFile(Path(out)) as fh,
        ):
            for line in response:
                fh.write(line)
                count += bool(line.strip())
        return count

    def lineage(self, ref: str | ModelRef) -> dict[str, Any]:
        """Upstream and downstream of a version."""
        found: dict[str, Any] = self._http.json("GET", "/lineage/" + quote(str(as_ref(ref))))
        return found

    def trace(self, request_id: str) -> dict[str, Any]:
        """One request traced back through the server's inference log."""
        if not isinstance(request_id, str) or not request_id.strip():
            raise InvalidInputError("a request id is needed")
        found: dict[str, Any] = self._http.json("GET", f"/trace/{quote(request_id)}")
        return found

    def model_card(
        self, ref: str | ModelRef, *, format: str = "md", segments: Segments | None = None
    ) -> str:
        """The model card of a version as ``md``, ``html`` or ``json`` text."""
        if segments is not None:
            raise needs_store("a model card with per-segment metrics")
        return self._http.text(self._version_path(ref) + "/card", query={"format": format})

    def update_card(self, name: str, **fields: str | None) -> Model:
        """Set narrative fields of a model's card (``None`` clears one)."""
        path = f"/models/{quote(as_ref(name).name)}/card"
        return rebuild(Model.from_dict, self._http.json("PATCH", path, body={"fields": fields}))

    def _paged(self, path: str, query: dict[str, Any], limit: int | None) -> builtins.list[Any]:
        """Up to ``limit`` items of a listing, fetched in pages of at most 500."""
        size = 500 if limit is None else max(1, min(limit, 500))
        return self._http.pages(path, query={**query, "limit": size}, limit=limit)
