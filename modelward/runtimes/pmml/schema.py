"""What the scorer needs from a PMML document: its fields, target and estimator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelward.signatures import ColumnSpec, Signature

#: PMML dataType -> signature type; the other PMML types (dateDaysSince1970…) are counts: long.
_TYPES = {
    "double": "double",
    "float": "float",
    "integer": "integer",
    "string": "string",
    "boolean": "boolean",
    "date": "datetime",
    "time": "datetime",
    "dateTime": "datetime",
}
_NOT_NUMERIC = frozenset({"string", "boolean", "date", "time", "dateTime"})


@dataclass(frozen=True)
class PmmlField:
    """One input column as the PMML declares it."""

    name: str
    data_type: str
    optype: str
    categories: tuple[Any, ...] | None
    active: bool
    replacement: Any = None

    @property
    def numeric(self) -> bool:
        """Whether values are numbers (PMML's integer, float, double and day/second counts)."""
        return self.data_type not in _NOT_NUMERIC


@dataclass(frozen=True)
class PmmlSchema:
    """What the scorer needs from a PMML document."""

    model_type: str
    function: str
    estimator: str
    fields: tuple[PmmlField, ...]  # every DataField but the target, in DataDictionary order
    target: PmmlField

    def signature(self) -> Signature:
        """Active fields as inputs; the target as the ``prediction`` output."""
        inputs = tuple(
            ColumnSpec(
                name=f.name,
                type=_TYPES.get(f.data_type, "long"),
                nullable=f.replacement is not None,
                categories=f.categories if f.optype != "continuous" else None,
            )
            for f in self.fields
            if f.active
        )
        target = self.target
        output = ColumnSpec(
            name="prediction",
            type=_TYPES.get(target.data_type, "long"),
            categories=target.categories if self.function == "classification" else None,
            description=f"PMML target field {target.name!r}",
        )
        return Signature(inputs, (output,))
