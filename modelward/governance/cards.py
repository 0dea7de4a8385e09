"""Model cards (Mitchell et al., 2019) assembled from what the registry knows.

Facts come from the registry: details, metrics and goals, validation reports (evaluation data),
lineage (training data) and, when data is given, per-segment metrics. Narrative fields come from
the model's ``card`` (editable with :func:`update_card`); a missing one is shown as
"not documented yet" and never invented.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelward.batch.files import read_table
from modelward.errors import InvalidInputError
from modelward.governance.card_segments import segment_metrics
from modelward.governance.goals import parse_goal
from modelward.governance.lineage import upstream, version_summary
from modelward.governance.lineage_db import iso, store_engine, validation_reports
from modelward.refs import ModelRef, parse_ref
from modelward.store.entities import Model, ModelVersion

if TYPE_CHECKING:
    from modelward.client import Client

NOT_DOCUMENTED = "not documented yet"
#: The card's sections in order, with their titles.
SECTIONS = {
    "model_details": "Model details",
    "intended_use": "Intended use",
    "factors": "Factors",
    "metrics": "Metrics",
    "evaluation_data": "Evaluation data",
    "training_data": "Training data",
    "quantitative_analyses": "Quantitative analyses",
    "ethical_considerations": "Ethical considerations",
    "caveats_and_recommendations": "Caveats and recommendations",
}
#: Sections made only of narrative, and the ``card`` field each one shows.
NARRATIVE = {
    "intended_use": "intended_use",
    "factors": "factors",
    "ethical_considerations": "ethical_considerations",
    "caveats_and_recommendations": "caveats",
}
_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Segments:
    """Per-segment analysis: score the model on ``data``, split by ``column``."""

    column: str
    data: Path
    label_column: str


def build_card(
    client: Client, ref: str | ModelRef, *, segments: Segments | None = None
) -> dict[str, Any]:
    """The card of the version ``ref`` points at, as JSON-ready sections."""
    version = client.get(ref)
    model = client.get_model(version.name)
    reports = validation_reports(store_engine(client), version)
    text = {k: str(v) for k, v in model.card.items() if v not in (None, "")}
    card: dict[str, Any] = {
        "title": f"Model card: {version.ref}",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_details": _details(model, version),
        "metrics": {
            "registered": dict(version.metrics),
            "goals": goal_results(model.goals, reports[-1] if reports else None),
        },
        "evaluation_data": [
            {k: r[k] for k in ("at", "actor", "passed", "data", "metrics", "champion_version")}
            for r in reports
        ],
        "training_data": upstream(version)["datasets"],
        "quantitative_analyses": _analyses(client, version, segments),
    }
    for section, field in NARRATIVE.items():
        card[section] = text.pop(field, None)
    # free text about a factual section sits beside its facts; anything else is kept at the end
    card["notes"] = {s: text.pop(s) for s in list(text) if s in SECTIONS}
    card["additional_information"] = text
    return card


def _details(model: Model, version: ModelVersion) -> dict[str, Any]:
    sig = version.signature
    return {
        **version_summary(version),
        "description": version.description or model.description,
        "owner": model.owner,
        "risk_tier": model.risk_tier,
        "aliases": list(version.aliases),
        "model_created_at": iso(model.created_at),
        "model_updated_at": iso(model.updated_at),
        "size_bytes": version.size_bytes,
        "inputs": [f"{c.name}: {c.type}" for c in sig.inputs] if sig else [],
        "outputs": [f"{c.name}: {c.type}" for c in sig.outputs] if sig else [],
        "tags": {**model.tags, **version.tags},
    }


def _analyses(client: Client, version: ModelVersion, segments: Segments | None) -> dict[str, Any]:
    if segments is None:
        return {"segments": None}
    frame = read_table(segments.data)
    with client.load_model(version.ref) as model:
        result = segment_metrics(model, frame, segments.column, segments.label_column)
    return {**result, "data": str(segments.data)}


def goal_results(
    goals: list[dict[str, Any]], report: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Each accuracy goal with the latest validation's value and whether it meets the goal
    (``met`` is ``None`` before any validation)."""
    out = []
    for stored in goals:
        result: dict[str, Any] = {"value": None, "met": None}
        try:
            goal = parse_goal(stored)
        except InvalidInputError:  # stored before goals were checked: shown as it is
            metric, target = str(stored.get("metric", "?")), str(stored)
        else:
            metric, target = goal.metric, str(goal)
            if report is not None:
                check = goal.check("goal", report["metrics"])
                result = {"value": check.get("value"), "met": check["passed"]}
        validated_at = report["at"] if report else None
        out.append({"metric": metric, "target": target, **result, "validated_at": validated_at})
    return out


def update_card(client: Client, ref: str, fields: Mapping[str, str | None]) -> Model:
    """Set (or with ``None`` clear) narrative fields of the card of the model ``ref`` names."""
    if not fields:
        raise InvalidInputError(
            "no card field to change", hint="give FIELD=TEXT, e.g. intended_use=…"
        )
    for key, value in fields.items():
        if not _FIELD.match(key):
            raise InvalidInputError(
                f"invalid card field {key!r}",
                hint=f"use lower-case snake_case, e.g. {', '.join(NARRATIVE.values())}",
            )
        if value is not None and not str(value).strip():
            raise InvalidInputError(
                f"card field {key!r} would be empty", hint="clear a field with None (--unset)"
            )
    name = parse_ref(ref).name
    return client.update_model(name, card={k: v.strip() if v else None for k, v in fields.items()})
