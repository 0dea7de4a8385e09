"""The governance half of :class:`~modelward.remote.RemoteClient`: validation, approvals,
comments, lifecycle and policies over the control-plane API, acting as the token's user with
the user's role."""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from modelward.batch.files import existing_file
from modelward.client_governance import GovernanceClient
from modelward.governance import policies
from modelward.governance.validation import DEFAULT_LABEL
from modelward.refs import ModelRef
from modelward.registry.service import as_ref
from modelward.remote.transport import Transport, multipart, quote, rebuild
from modelward.store.entities import Model, ModelVersion
from modelward.store.governance_entities import Approval, Comment, GovernanceState
from modelward.store.governance_entities import ValidationReport as Report

#: Validation scores models on the server: give it longer than an ordinary request.
VALIDATE_TIMEOUT = 900.0


class RemoteGovernance(GovernanceClient):
    """Governance methods over HTTP, with the names and answers of the embedded client's."""

    _http: Transport

    @property
    def role(self) -> str:
        """The role of the token's user on the server (what approvals count)."""
        return str(self._http.json("GET", "/me")["role"])

    def _version_path(self, ref: str | ModelRef) -> str:
        """``/models/NAME/versions/N`` of the version ``ref`` points at (resolved by the server
        unless ``ref`` names an exact version)."""
        parsed = as_ref(ref)
        number = parsed.version
        if number is None:
            number = self._resolve(parsed).version
        return f"/models/{quote(parsed.name)}/versions/{number}"

    def _resolve(self, ref: str | ModelRef) -> ModelVersion:
        path = "/versions/" + quote(str(as_ref(ref)))
        return rebuild(ModelVersion.from_dict, self._http.json("GET", path))

    # --- validation ---------------------------------------------------------------------------
    def validate(
        self,
        ref: str | ModelRef,
        data: str | Path | pd.DataFrame,
        *,
        label_column: str = DEFAULT_LABEL,
        task: str | None = None,
    ) -> Report:
        """Upload ``data`` (a file, or a frame sent as JSON rows); the server scores the version
        and the champion on it, checks goals and thresholds and stores the report."""
        path = self._version_path(ref) + "/validate"
        if isinstance(data, pd.DataFrame):
            rows = data.to_json(orient="records", date_format="iso", date_unit="us")
            text = f'{{"rows": {rows}, "label_column": {json.dumps(label_column)}, '
            body, kind = f'{text}"task": {json.dumps(task)}}}'.encode(), "application/json"
        else:
            file = existing_file(data)
            fields = {"label_column": label_column, **({"task": task} if task else {})}
            body, kind = multipart(fields, file.name, file.read_bytes())
        answer = self._http.send(
            "POST", path, data=body, content_type=kind, timeout=VALIDATE_TIMEOUT
        )
        return rebuild(Report.from_dict, answer)

    def validation_reports(self, ref: str | ModelRef) -> builtins.list[Report]:
        """Validation reports of the version ``ref`` points at, oldest first."""
        found = self._http.pages(self._version_path(ref) + "/validation-reports")
        return [rebuild(Report.from_dict, r) for r in found]

    def report_document(self, report: Report | int) -> dict[str, Any]:
        """The stored JSON document of a validation report."""
        found: dict[str, Any] = self._http.json(
            "GET", f"/validation-reports/{_id(report)}/document"
        )
        return found

    def report_html(self, report: Report | int) -> str:
        """The stored, self-contained HTML page of a validation report."""
        return self._http.text(f"/validation-reports/{_id(report)}/html")

    # --- approvals and comments ---------------------------------------------------------------
    def approve(
        self, ref: str | ModelRef, *, comment: str | None = None, digest: str | None = None
    ) -> Approval:
        """Approve a version as the token's user; ``digest`` is the artifact sha256 reviewed."""
        body = {"comment": comment, "digest": digest}
        answer = self._http.json("POST", self._version_path(ref) + "/approve", body=body)
        return rebuild(Approval.from_dict, answer)

    def reject(self, ref: str | ModelRef, *, comment: str, digest: str | None = None) -> Approval:
        """Reject a version, saying why; ``rejected`` is final for that version."""
        body = {"comment": comment, "digest": digest}
        answer = self._http.json("POST", self._version_path(ref) + "/reject", body=body)
        return rebuild(Approval.from_dict, answer)

    def approvals(self, ref: str | ModelRef) -> builtins.list[Approval]:
        """Approvals and rejections of a version, oldest first."""
        found = self._http.pages(self._version_path(ref) + "/approvals")
        return [rebuild(Approval.from_dict, a) for a in found]

    def comment(self, ref: str | ModelRef, text: str, *, reply_to: int | None = None) -> Comment:
        """Comment on a version (``reply_to``: the id of the comment answered)."""
        body = {"text": text, "reply_to": reply_to}
        answer = self._http.json("POST", self._version_path(ref) + "/comments", body=body)
        return rebuild(Comment.from_dict, answer)

    def comments(self, ref: str | ModelRef) -> builtins.list[Comment]:
        """Comments on a version, oldest first."""
        found = self._http.pages(self._version_path(ref) + "/comments")
        return [rebuild(Comment.from_dict, c) for c in found]

    # --- lifecycle and policies ---------------------------------------------------------------
    def retire(self, ref: str | ModelRef) -> ModelVersion:
        """Retire a version for good (refused while it is the champion)."""
        answer = self._http.json("POST", self._version_path(ref) + "/retire")
        return rebuild(ModelVersion.from_dict, answer)

    def governance_state(self, ref: str | ModelRef) -> GovernanceState:
        """Stage, approvals, reports and change history of a version."""
        answer = self._http.json("GET", self._version_path(ref) + "/lifecycle")
        return rebuild(GovernanceState.from_dict, answer["state"])

    def get_policy(self, tier: str) -> policies.Policy:
        """The server's effective policy of a risk tier."""
        return _policy(self._http.json("GET", f"/policies/{quote(tier)}"))

    def set_policy(self, tier: str, policy: Mapping[str, Any]) -> policies.Policy:
        """Install ``policy`` for ``tier`` on the server (checked strictly there; audited)."""
        return _policy(self._http.json("PUT", f"/policies/{quote(tier)}", body=dict(policy)))

    def set_goals(
        self, name: str, goals: Sequence[str | Mapping[str, Any]]
    ) -> builtins.list[dict[str, Any]]:
        """Replace a model's accuracy goals (checked strictly by the server)."""
        body = {"goals": [g if isinstance(g, str) else dict(g) for g in goals]}
        answer = self._http.json("PATCH", f"/models/{quote(name)}", body=body)
        return rebuild(Model.from_dict, answer).goals


def _id(report: Report | int) -> int:
    return report if isinstance(report, int) else report.id


def _policy(answer: Mapping[str, Any]) -> policies.Policy:
    """The policy an answer describes, rebuilt (and checked) as the server built it."""
    return rebuild(
        lambda a: policies.parse_policy(a["tier"], a["policy"], source=a["source"]), answer
    )
