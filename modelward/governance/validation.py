"""Validation: score a version and the champion on the same labelled data, check the model's
accuracy goals and the policy's thresholds, store the report, and move a passing draft to
``validated``.

Checks in a report: ``goal`` (the model's accuracy goals), ``threshold`` (the policy's value
thresholds), ``champion`` (whether the champion was compared) and ``change`` (the policy's change
thresholds against the champion). With no champion the change thresholds are *skipped*, and the
report says so; only *failed* checks fail a validation.
"""

from __future__ import annotations

import tempfile
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from modelward.batch.files import read_table
from modelward.errors import InvalidDataError, InvalidInputError, ModelwardError
from modelward.governance import metrics as mx
from modelward.governance.goals import check_record, parse_goals
from modelward.governance.lifecycle import CHAMPION, validation_moves
from modelward.governance.policies import Policy, load_policy
from modelward.governance.reports import FORMAT, store_documents
from modelward.refs import ModelRef
from modelward.registry.lineage import dataset_record
from modelward.registry.service import Registry
from modelward.store.entities import ModelVersion
from modelward.store.governance_entities import GovernanceState, NewValidationReport, StageMove
from modelward.store.governance_entities import ValidationReport as Report

DEFAULT_LABEL = "label"


def validate(
    registry: Registry,
    ref: str | ModelRef,
    data: str | Path | pd.DataFrame,
    *,
    actor: str,
    label_column: str = DEFAULT_LABEL,
    task: str | None = None,
) -> Report:
    """Validate the version ``ref`` points at on ``data`` (a file or a frame) and record it."""
    if task is not None and task not in mx.TASKS:
        raise InvalidInputError(f"unknown task {task!r}", hint=f"use one of: {', '.join(mx.TASKS)}")
    version = registry.resolve(ref)
    model = registry.store.get_model(version.name)
    policy = load_policy(model.risk_tier, registry.settings.home)
    frame, record = _read(data)
    labels, features = _split(frame, label_column, record["location"])
    found, task, averaging = _score(registry, version, features, labels, task)
    champion = _champion(registry, model.aliases.get(CHAMPION), version, features, labels, task)
    checks = run_checks(policy, model.goals, found, champion)
    passed = all(c["status"] != "failed" for c in checks)
    record.update(rows=len(frame), label_column=label_column, task=task)
    document = {
        "format": FORMAT,
        "ref": version.ref,
        "model": version.name,
        "version": version.version,
        "digest": version.digest,
        "policy": {**policy.describe(), "rules": policy.to_dict()},
        "actor": actor,
        "created_at": datetime.now(UTC).isoformat(),
        "data": record,
        "task": task,
        "averaging": averaging,
        "metrics": found,
        "champion": champion,
        "checks": checks,
        "passed": passed,
        "failed_checks": [c["name"] for c in checks if c["status"] == "failed"],
    }
    registry.settings.ensure_home()
    with tempfile.TemporaryDirectory(dir=registry.settings.cache_dir, prefix="report-") as tmp:
        report_digest, created = store_documents(registry.artifacts, document, Path(tmp))
    new = NewValidationReport(
        digest=version.digest,
        passed=passed,
        checks=checks,
        metrics=found,
        champion_version=champion["version"] if champion else None,
        data=record,
        report_digest=report_digest,
    )

    def plan(state: GovernanceState) -> list[StageMove]:
        return validation_moves(state, policy, passed)

    try:
        return registry.store.record_validation(
            version.name, version.version, new, actor=actor, plan=plan
        )
    except BaseException:
        for digest in created:  # a report that was not recorded leaves no documents behind
            registry.artifacts.delete(digest)
        raise


def run_checks(
    policy: Policy,
    goals: list[dict[str, Any]],
    found: dict[str, float],
    champion: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """Every check of a validation, in report order."""
    checks = []
    if "goals" in policy.checks and not goals:
        detail = f"policy {policy.tier!r} requires accuracy goals; the model has none"
        checks.append(check_record("goal", "accuracy goals set", False, detail))
    checks += [g.check("goal", found) for g in parse_goals(goals, where="accuracy goal")]
    checks += [t.check("threshold", found) for t in policy.thresholds]
    required = "champion" in policy.checks
    if champion is None:
        detail = "no champion yet (first version): change thresholds skipped"
        checks.append(check_record("champion", "champion comparison", None, detail))
        reason = "skipped: no champion to compare with"
        for c in policy.change_thresholds:
            checks.append(check_record("change", f"change {c.metric}", None, reason))
    elif champion.get("is_candidate"):
        detail = f"{champion['ref']} is the champion itself: nothing to compare with"
        checks.append(check_record("champion", "champion comparison", None, detail))
        for c in policy.change_thresholds:
            checks.append(check_record("change", f"change {c.metric}", None, "skipped: " + detail))
    elif "error" in champion:
        detail = f"champion {champion['ref']} could not be scored on this data: {champion['error']}"
        comparable = not (required or policy.change_thresholds)
        checks.append(
            check_record("champion", "champion comparison", None if comparable else False, detail)
        )
        for c in policy.change_thresholds:
            checks.append(check_record("change", f"change {c.metric}", False, detail))
    else:
        detail = f"compared with champion {champion['ref']} on the same data"
        checks.append(check_record("champion", "champion comparison", True, detail))
        checks += [c.check(found, champion["metrics"]) for c in policy.change_thresholds]
    return checks


def _read(data: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise InvalidDataError("the validation data holds no rows")
        return data, dataset_record(data, role="validation")
    return read_table(data), dataset_record(Path(data).expanduser().resolve(), role="validation")


def _split(frame: pd.DataFrame, label: str, location: str) -> tuple[pd.Series, pd.DataFrame]:
    if label not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:20]))
        raise InvalidDataError(
            f"the validation data ({location}) has no label column {label!r}",
            hint=f"its columns: {shown}; name the label with --label-column (label_column=)",
        )
    labels = frame[label]
    if labels.isna().any():
        raise InvalidDataError(
            f"the label column {label!r} has {int(labels.isna().sum())} missing value(s)",
            hint="validate on rows whose label is known",
        )
    return labels, frame.drop(columns=[label])


def _score(
    registry: Registry,
    version: ModelVersion,
    features: pd.DataFrame,
    labels: pd.Series,
    task: str | None,
) -> tuple[dict[str, float], str, str]:
    """The version's metrics on the data, the task and how class metrics were averaged."""
    with registry.load(version.ref) as model:
        scored = model.predict(features)
        classes = model.runtime.metadata().get("classes")
        predicted = mx.prediction_column(scored) if len(scored) == len(labels) else None
        chosen = task or mx.guess_task(labels, classes, predicted)
        if chosen == "classification" and "proba" in model.runtime.params:
            with suppress(InvalidInputError):  # no probabilities: no roc_auc nor log_loss
                scored = model.predict(features, proba=True)
    if len(scored) != len(labels):
        raise InvalidInputError(
            f"{version.ref} returned {len(scored)} rows for {len(labels)}; validation needs one "
            "prediction per row (forecasting models cannot be validated this way yet)"
        )
    found, averaging = mx.compute(chosen, labels.reset_index(drop=True), scored)
    return found, chosen, averaging


def _champion(
    registry: Registry,
    number: int | None,
    candidate: ModelVersion,
    features: pd.DataFrame,
    labels: pd.Series,
    task: str,
) -> dict[str, Any] | None:
    """The champion's metrics on the same data (``error`` when it cannot be scored)."""
    if number is None:
        return None
    champion = registry.store.get_version(candidate.name, number)
    out: dict[str, Any] = {"version": number, "ref": champion.ref, "digest": champion.digest}
    if number == candidate.version:
        return {**out, "is_candidate": True}
    try:
        out["metrics"] = _score(registry, champion, features, labels, task)[0]
    except ModelwardError as exc:
        out["error"] = exc.message
    except Exception as exc:  # the champion's own failure must not hide the candidate's report
        out["error"] = repr(exc)
    return out
