"""Domain objects the store returns; immutable, JSON-ready through ``to_dict``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Self, TypeVar

from modelward.signatures import Signature

RISK_TIERS = ("low", "medium", "high")
_T = TypeVar("_T")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class Record:
    """A dataclass that travels as JSON: :meth:`to_dict` (times as ISO 8601) and back."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _jsonable(asdict(self))  # type: ignore[call-overload]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """The record from its :meth:`to_dict` form (an API answer, say)."""
        return from_json(cls, data)


def from_json(cls: type[_T], data: Mapping[str, Any], **given: Any) -> _T:
    """Rebuild the dataclass ``cls`` from its ``to_dict`` form (an API answer, say).

    ISO times become datetimes again; keys the dataclass does not know are ignored, so a newer
    server's answers still load; ``given`` overrides fields that need more than that.
    """
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in given:
            values[f.name] = given[f.name]
        elif f.name in data:
            value = data[f.name]
            if isinstance(value, str) and "datetime" in str(f.type):
                value = datetime.fromisoformat(value)
            values[f.name] = value
    return cls(**values)


@dataclass(frozen=True)
class Model:
    """A registered model name and what is known about it."""

    name: str
    description: str | None
    owner: str
    risk_tier: str
    tags: dict[str, str]
    created_at: datetime
    updated_at: datetime
    latest_version: int | None = None
    aliases: dict[str, int] = field(default_factory=dict)
    goals: list[dict[str, Any]] = field(default_factory=list)
    card: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _jsonable(asdict(self))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Model:
        """The model from its :meth:`to_dict` form."""
        return from_json(cls, data)


@dataclass(frozen=True)
class NewVersion:
    """Everything needed to record a version; the store assigns its number."""

    digest: str
    size_bytes: int
    flavor: str
    flavor_config: dict[str, Any]
    signature: Signature | None
    input_example: list[dict[str, Any]] | None
    metrics: dict[str, float]
    params: dict[str, Any]
    tags: dict[str, str]
    lineage: dict[str, Any]
    description: str | None


@dataclass(frozen=True)
class ModelVersion:
    """An immutable version of a model."""

    name: str
    version: int
    digest: str
    size_bytes: int
    flavor: str
    flavor_config: dict[str, Any]
    signature: Signature | None
    input_example: list[dict[str, Any]] | None
    metrics: dict[str, float]
    params: dict[str, Any]
    tags: dict[str, str]
    lineage: dict[str, Any]
    description: str | None
    stage: str
    archived: bool
    created_by: str
    created_at: datetime
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """``name/version``."""
        return f"{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _jsonable(asdict(self))
        out["signature"] = self.signature.to_dict() if self.signature else None
        out["aliases"] = list(self.aliases)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelVersion:
        """The version from its :meth:`to_dict` form."""
        signature = data.get("signature")
        return from_json(
            cls,
            data,
            signature=Signature.from_dict(signature) if signature else None,
            aliases=tuple(data.get("aliases") or ()),
        )


@dataclass(frozen=True)
class AliasMove(Record):
    """One move of an alias: from which version to which, by whom, when (``None`` = unset)."""

    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class AuditEvent(Record):
    """One link of the audit chain."""

    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: Any
    after: Any
    prev_hash: str
    hash: str
