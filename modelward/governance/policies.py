"""Governance policies per risk tier: built-in defaults, overridden by
``MODELWARD_HOME/policies/<tier>.yaml``.

Parsing is strict: an unknown key, a wrong type or an impossible combination is an
:class:`InvalidPolicyError` naming the key and what is allowed, never a silent default. Keys a
file leaves out keep the tier's built-in value. The format is documented in docs/governance.md.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from modelward.config import load_settings
from modelward.errors import InvalidPolicyError
from modelward.governance.auth import ROLES
from modelward.governance.goals import ChangeThreshold, Goal, parse_change, parse_goal
from modelward.store.base import MetadataStore
from modelward.store.lookup import check_tier

SECTIONS: dict[str, tuple[str, ...]] = {
    "validation": ("required", "checks", "thresholds", "change_thresholds"),
    "approvals": ("count", "roles", "auto_approve", "segregation_of_duties"),
    "production": ("multiple", "previous"),
    "privacy": ("pii",),
}
CHECKS = ("goals", "champion")  # required checks: the model has goals; the champion is compared
PREVIOUS = ("retire", "keep")
PII_MODES = ("hash", "drop", "keep")  # how the inference log keeps columns flagged pii

_BASE: dict[str, Any] = {
    "validation": {"required": True, "checks": [], "thresholds": [], "change_thresholds": []},
    "approvals": {
        "count": 1,
        "roles": ["reviewer"],
        "auto_approve": False,
        "segregation_of_duties": True,
    },
    "production": {"multiple": False, "previous": "keep"},
    "privacy": {"pii": "hash"},
}
BUILT_IN: dict[str, dict[str, Any]] = {
    "low": {
        "validation": {"required": False},
        "approvals": {"count": 0, "auto_approve": True},
    },
    "medium": {},
    "high": {
        "validation": {"checks": ["champion"]},
        "approvals": {"count": 2},
        "production": {"previous": "retire"},
    },
}


@dataclass(frozen=True)
class Policy:
    """The effective policy of one risk tier."""

    tier: str
    validation_required: bool
    checks: tuple[str, ...]
    thresholds: tuple[Goal, ...]
    change_thresholds: tuple[ChangeThreshold, ...]
    approvals: int
    roles: tuple[str, ...]
    auto_approve: bool
    segregation_of_duties: bool
    multiple_production: bool
    previous: str
    pii: str
    source: str  # "built-in" or the file it was read from

    def to_dict(self) -> dict[str, Any]:
        """The policy in its file format (every key spelled out)."""
        return {
            "validation": {
                "required": self.validation_required,
                "checks": list(self.checks),
                "thresholds": [t.to_dict() for t in self.thresholds],
                "change_thresholds": [t.to_dict() for t in self.change_thresholds],
            },
            "approvals": {
                "count": self.approvals,
                "roles": list(self.roles),
                "auto_approve": self.auto_approve,
                "segregation_of_duties": self.segregation_of_duties,
            },
            "production": {"multiple": self.multiple_production, "previous": self.previous},
            "privacy": {"pii": self.pii},
        }

    @property
    def digest(self) -> str:
        """sha256 of the policy's canonical JSON: recorded with each decision it made."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """Tier, source and digest: what a report or an audit event records of the policy."""
        return {"tier": self.tier, "source": self.source, "sha256": self.digest}

    def approvers(self) -> str:
        """``1 approval by a reviewer`` / ``2 approvals by a reviewer or admin``."""
        noun = "approval" if self.approvals == 1 else "approvals"
        return f"{self.approvals} {noun} by a {' or '.join(self.roles)}"


def policy_path(tier: str, home: Path | None = None) -> Path:
    """Where the policy file of ``tier`` lives."""
    return (home or load_settings().home) / "policies" / f"{check_tier(tier)}.yaml"


def load_policy(tier: str, home: Path | None = None) -> Policy:
    """The effective policy of ``tier``: its file under ``home`` (default MODELWARD_HOME) or
    the built-in default."""
    path = policy_path(tier, home)
    if not path.exists():
        return parse_policy(tier, {}, source="built-in")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidPolicyError(f"cannot read policy file {path}: {exc}") from exc
    return parse_policy(tier, {} if data is None else data, source=str(path))


def parse_policy(tier: str, data: Any, *, source: str = "given") -> Policy:
    """Check ``data`` strictly and merge it over the built-in policy of ``tier``."""
    where = f"policy {tier!r} ({source})"
    if not isinstance(data, Mapping):
        raise InvalidPolicyError(
            f"{where} must be a mapping of sections, not {type(data).__name__}"
        )
    merged = copy.deepcopy(_BASE)
    for layer in (BUILT_IN[check_tier(tier)], data):
        _check_keys(layer, tuple(SECTIONS), where)
        for section, values in layer.items():
            values = {} if values is None else values
            if not isinstance(values, Mapping):
                raise InvalidPolicyError(f"{where}: {section} must be a mapping")
            _check_keys(values, SECTIONS[section], f"{where}: {section}")
            merged[section].update(values)
    return _build(tier, merged, where, source)


def set_policy(
    store: MetadataStore, tier: str, data: Any, *, actor: str, home: Path | None = None
) -> Policy:
    """Check ``data``, audit the change, and write it (every key spelled out) as the policy
    file of ``tier``; the file is replaced atomically."""
    path = policy_path(tier, home)
    policy = parse_policy(tier, data, source=str(path))
    try:
        before: dict[str, Any] | None = load_policy(tier, home).to_dict()
    except InvalidPolicyError:
        before = None  # a broken file is being replaced
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{tier}-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(policy.to_dict(), fh, sort_keys=False)
        store.record_policy(tier, before, policy.to_dict(), actor=actor)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return policy


def _build(tier: str, merged: dict[str, Any], where: str, source: str) -> Policy:
    val, app, prod = merged["validation"], merged["approvals"], merged["production"]
    checks = _names(val["checks"], CHECKS, f"{where}: validation.checks")
    roles = _names(app["roles"], ROLES, f"{where}: approvals.roles")
    count = app["count"]
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidPolicyError(
            f"{where}: approvals.count must be a whole number ≥ 0, not {count!r}"
        )
    auto = _flag(app, "auto_approve", where)
    if auto and count:
        raise InvalidPolicyError(
            f"{where}: auto_approve needs approvals.count 0 (it is {count})",
            hint="auto-approval is for tiers that need no human approval",
        )
    if not auto and count == 0:
        raise InvalidPolicyError(
            f"{where}: approvals.count is 0 but auto_approve is false, so no version could be approved",
            hint="set approvals.count to 1 or more, or auto_approve: true",
        )
    if not roles:
        raise InvalidPolicyError(
            f"{where}: approvals.roles is empty", hint=f"use some of: {', '.join(ROLES)}"
        )
    if prod["previous"] not in PREVIOUS:
        raise InvalidPolicyError(
            f"{where}: production.previous {prod['previous']!r} is not one of: {', '.join(PREVIOUS)}"
        )
    pii = merged["privacy"]["pii"]
    if pii not in PII_MODES:
        raise InvalidPolicyError(
            f"{where}: privacy.pii {pii!r} is not one of: {', '.join(PII_MODES)}",
            hint="hash keeps a keyed HMAC of each value, drop leaves the column out of the log",
        )
    return Policy(
        tier=tier,
        validation_required=_flag(val, "required", where),
        checks=checks,
        thresholds=tuple(_items(val, "thresholds", where, parse_goal)),
        change_thresholds=tuple(_items(val, "change_thresholds", where, parse_change)),
        approvals=count,
        roles=roles,
        auto_approve=auto,
        segregation_of_duties=_flag(app, "segregation_of_duties", where),
        multiple_production=_flag(prod, "multiple", where),
        previous=prod["previous"],
        pii=pii,
        source=source,
    )


def _check_keys(values: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in values if k not in allowed)
    if unknown:
        raise InvalidPolicyError(
            f"{where}: unknown key(s) {', '.join(repr(k) for k in unknown)}",
            hint=f"allowed keys: {', '.join(allowed)}",
        )


def _flag(section: Mapping[str, Any], key: str, where: str) -> bool:
    value = section[key]
    if not isinstance(value, bool):
        raise InvalidPolicyError(f"{where}: {key} must be true or false, not {value!r}")
    return value


def _names(values: Any, allowed: tuple[str, ...], where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidPolicyError(
            f"{where} must be a list of names, not {values!r}", hint=f"e.g. [{allowed[0]}]"
        )
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise InvalidPolicyError(
            f"{where}: unknown {', '.join(map(repr, unknown))}",
            hint=f"allowed: {', '.join(allowed)}",
        )
    return tuple(dict.fromkeys(values))


def _items(section: Mapping[str, Any], key: str, where: str, parse: Any) -> list[Any]:
    values = section[key]
    if not isinstance(values, list):
        raise InvalidPolicyError(f"{where}: validation.{key} must be a list, not {values!r}")
    return [
        parse(v, where=f"{where}: validation.{key}[{i}]", error=InvalidPolicyError)
        for i, v in enumerate(values)
    ]
