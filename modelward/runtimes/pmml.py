"""PMML documents, scored in pure Python (no Java) by sklearn-pmml-model.

A PMML file is parsed with document type declarations refused: PMML never needs one, and a
DOCTYPE is how entity expansion ("billion laughs") and external entities (XXE) get into XML.
The file is copied unchanged; its ``DataDictionary`` and ``MiningSchema`` give the signature.
"""

from __future__ import annotations

import io
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

import numpy as np
import pandas as pd

from modelward.errors import (
    InvalidInputError,
    InvalidModelError,
    ModelwardError,
    UntrustedContentError,
)
from modelward.runtimes.base import (
    Flavor,
    Runtime,
    SavedModel,
    SaveOptions,
    class_probabilities,
    output_frame,
)
from modelward.signatures import ColumnSpec, Signature

PMML_FILE = "model.pmml"
_SNIFF_BYTES = 1 << 20

#: PMML model element -> (classifier, regressor) estimator of sklearn_pmml_model.
ESTIMATORS: dict[str, tuple[str | None, str | None]] = {
    "TreeModel": ("PMMLTreeClassifier", "PMMLTreeRegressor"),
    "RegressionModel": ("PMMLLogisticRegression", "PMMLLinearRegression"),
    "GeneralRegressionModel": ("PMMLRidgeClassifier", "PMMLRidge"),
    "NaiveBayesModel": ("PMMLGaussianNB", None),
    "SupportVectorMachineModel": ("PMMLSVC", "PMMLSVR"),
    "NeuralNetwork": ("PMMLMLPClassifier", "PMMLMLPRegressor"),
    "NearestNeighborModel": ("PMMLKNeighborsClassifier", "PMMLKNeighborsRegressor"),
    "MiningModel": (None, None),  # chosen by its segmentation, see _ensemble()
}
#: Estimator class -> the sklearn_pmml_model module that defines it.
_MODULES = {
    "PMMLTreeClassifier": "tree",
    "PMMLTreeRegressor": "tree",
    "PMMLLogisticRegression": "linear_model",
    "PMMLLinearRegression": "linear_model",
    "PMMLRidgeClassifier": "linear_model",
    "PMMLRidge": "linear_model",
    "PMMLGaussianNB": "naive_bayes",
    "PMMLSVC": "svm",
    "PMMLSVR": "svm",
    "PMMLMLPClassifier": "neural_network",
    "PMMLMLPRegressor": "neural_network",
    "PMMLKNeighborsClassifier": "neighbors",
    "PMMLKNeighborsRegressor": "neighbors",
    "PMMLForestClassifier": "ensemble",
    "PMMLForestRegressor": "ensemble",
    "PMMLGradientBoostingClassifier": "ensemble",
    "PMMLGradientBoostingRegressor": "ensemble",
}
#: Estimators that read categorical inputs as category codes (their Cython trees split on codes).
_NEEDS_CODES = frozenset({"PMMLTreeClassifier", "PMMLTreeRegressor"})
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
#: What a DerivedField may contain for sklearn-pmml-model to read it correctly: a plain reference.
_PLAIN_DERIVED = frozenset({"FieldRef", "Extension", "Value"})


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


class PmmlFlavor(Flavor):
    name = "pmml"
    extra = "pmml"
    priority = 30
    packages = ("sklearn-pmml-model", "scikit-learn")

    def sniff(self, path: Path) -> bool:
        if not path.is_file():
            return False
        suffix = path.suffix.lower()
        return suffix == ".pmml" or (suffix == ".xml" and root_name(path) == "PMML")

    def import_path(self, path: Path, dest: Path, options: SaveOptions) -> SavedModel:
        if not path.is_file():
            raise InvalidModelError(f"{path.name} is not a file", hint="pass the .pmml file itself")
        data = path.read_bytes()
        root = parse_pmml(data, path.name)
        schema = read_schema(root, path.name)
        (dest / PMML_FILE).write_bytes(data)  # the bytes that were checked, not a second read
        config = {
            "format": "pmml",
            "file": PMML_FILE,
            "model_type": schema.model_type,
            "function": schema.function,
            "estimator": schema.estimator,
            "target": schema.target.name,
            "pmml_version": root.get("version"),
            "application": _application(root),
        }
        runtime = PmmlRuntime(dest, config)
        try:  # it must load and score one row of valid values, or it is not registered
            runtime.load()
            runtime.predict(_example_row(schema), {})
        except ModelwardError as exc:
            (dest / PMML_FILE).unlink()
            raise InvalidModelError(
                f"{path.name} is PMML ({schema.model_type}) but cannot be scored: {exc.message}",
                hint=exc.hint or "export the model with another PMML producer or another flavor",
            ) from exc
        return SavedModel(config, schema.signature())

    def runtime(self, path: Path, config: Mapping[str, Any]) -> Runtime:
        return PmmlRuntime(path, config)


class PmmlRuntime(Runtime):
    params = {"proba": "also return probability_<class> columns (classifiers only)"}

    def load(self) -> None:
        data = (self.path / self.config["file"]).read_bytes()
        self.schema_ = read_schema(parse_pmml(data, PMML_FILE), PMML_FILE)
        estimator = self.schema_.estimator
        module = PmmlFlavor().require(f"sklearn_pmml_model.{_MODULES[estimator]}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = getattr(module, estimator)(pmml=io.BytesIO(data))
            except Exception as exc:  # sklearn-pmml-model raises bare Exceptions
                raise InvalidModelError(
                    f"sklearn-pmml-model cannot read this {self.schema_.model_type}: {exc}"
                ) from exc
        ignored = [str(w.message) for w in caught if "ignored" in str(w.message)]
        if ignored:  # scoring without those segments would silently change predictions
            raise InvalidModelError(
                f"sklearn-pmml-model would drop part of the model: {ignored[0]}"
            )
        _normalise_forest(model)
        self.model_ = model

    def predict(self, frame: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        self.check_params(params)
        want_proba = bool(params.get("proba"))
        classes = getattr(self.model_, "classes_", None)
        if want_proba and (classes is None or not hasattr(self.model_, "predict_proba")):
            raise InvalidInputError(
                f"this PMML {self.schema_.function} model gives no class probabilities",
                hint="drop the 'proba' parameter",
            )
        x = prepare_inputs(frame, self.schema_)
        if self.schema_.estimator in _NEEDS_CODES:
            x = _category_codes(x, self.model_)
        if not len(x):
            names = (
                [f"probability_{c}" for c in classes] if want_proba and classes is not None else []
            )
            return pd.DataFrame(columns=["prediction", *names])
        try:
            with warnings.catch_warnings():
                # sklearn-pmml-model's estimators were "fitted" without feature names
                warnings.filterwarnings("ignore", message=".*feature names", category=UserWarning)
                prediction = np.asarray(self.model_.predict(x.copy()))
                proba = _probabilities(self.model_, x) if want_proba else None
        except Exception as exc:
            raise InvalidInputError(f"the PMML model could not score the input: {exc}") from exc
        if len(prediction) != len(x):
            raise InvalidModelError(
                f"sklearn-pmml-model returned {len(prediction)} predictions for {len(x)} rows; "
                f"it does not read this {self.schema_.model_type} correctly"
            )
        out = output_frame(prediction)
        if proba is not None:
            out = pd.concat([out, class_probabilities(proba, classes)], axis=1)
        return out

    def unload(self) -> None:
        self.model_ = None

    def metadata(self) -> dict[str, Any]:
        keys = ("model_type", "function", "estimator", "target", "pmml_version", "application")
        meta: dict[str, Any] = {key: self.config.get(key) for key in keys}
        meta["inputs"] = [f.name for f in self.schema_.fields if f.active]
        classes = getattr(self.model_, "classes_", None)
        if classes is not None:
            meta["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
        return meta


# --- safe parsing -----------------------------------------------------------------------------
class _DoctypeFound(Exception):
    pass


class _RootFound(Exception):
    pass


def _refuse_dtd(*_: Any) -> None:
    raise _DoctypeFound


def _refuse_external(*_: Any) -> int:
    raise _DoctypeFound


def parse_pmml(data: bytes, source: str) -> ET.Element:
    """Parse ``data``, refusing any DTD (and so every entity trick), and check it is PMML."""
    guard = expat.ParserCreate()
    guard.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    guard.StartDoctypeDeclHandler = _refuse_dtd
    guard.EntityDeclHandler = _refuse_dtd
    guard.UnparsedEntityDeclHandler = _refuse_dtd
    guard.ExternalEntityRefHandler = _refuse_external
    try:
        guard.Parse(data, True)
        root = ET.fromstring(data)  # no DTD: only the five predefined entities remain
    except _DoctypeFound:
        raise UntrustedContentError(
            f"{source} declares a DOCTYPE or ENTITY; modelward refuses XML with a DTD "
            "(it is how entity-expansion and external-entity attacks work, and PMML needs none)",
            hint="remove the <!DOCTYPE …> declaration from the file",
        ) from None
    except (expat.ExpatError, ET.ParseError) as exc:
        raise InvalidModelError(
            f"{source} is not well-formed XML ({exc})",
            hint="the file may be truncated or not a PMML document",
        ) from None
    if _local(root.tag) != "PMML":
        raise InvalidModelError(
            f"{source} is XML but not PMML: its root element is <{_local(root.tag)}>",
            hint="PMML documents start with <PMML version=…>",
        )
    return root


def root_name(path: Path) -> str | None:
    """The local name of the root element (or of the DOCTYPE) of an XML file, else None."""
    found: list[str] = []

    def stop(name: str, *_: Any) -> None:
        found.append(name.rsplit(":", 1)[-1])
        raise _RootFound

    parser = expat.ParserCreate()
    parser.StartElementHandler = stop
    parser.StartDoctypeDeclHandler = stop  # its name is the root's; nothing of the DTD is read
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(64 * 1024):
                parser.Parse(chunk, False)
                if fh.tell() > _SNIFF_BYTES:
                    return None
    except _RootFound:
        return found[0]
    except (expat.ExpatError, OSError):
        return None
    return None


# --- reading the document ---------------------------------------------------------------------
def read_schema(root: ET.Element, source: str) -> PmmlSchema:
    """Model type, estimator class and fields of a parsed PMML document."""
    dictionary = _child(root, "DataDictionary")
    model = next((el for el in root if _local(el.tag) in ESTIMATORS), None)
    if dictionary is None or model is None:
        found = ", ".join(_local(el.tag) for el in root) or "nothing"
        raise InvalidModelError(
            f"{source} has no DataDictionary or no supported model element (found: {found})",
            hint=f"supported models: {', '.join(ESTIMATORS)}",
        )
    model_type, function = _local(model.tag), model.get("functionName", "")
    if function not in ("classification", "regression"):
        raise InvalidModelError(
            f"{source}: {model_type} with functionName={function!r} is not supported",
            hint="only classification and regression models can be scored",
        )
    _check_transformations(root, source)
    targets_element = _child(model, "Targets")
    if model_type != "MiningModel" and targets_element is not None:
        raise InvalidModelError(
            f"{source}: the {model_type} rescales its target (<Targets>), which "
            "sklearn-pmml-model ignores (its predictions would silently be wrong)",
            hint="export the model without target rescaling",
        )
    schema = _child(model, "MiningSchema")
    mining_fields = (
        [] if schema is None else [el for el in schema if _local(el.tag) == "MiningField"]
    )
    usage = {mf.get("name"): mf for mf in mining_fields}
    targets = [n for n, mf in usage.items() if mf.get("usageType") in ("target", "predicted")]
    data_fields = {df.get("name"): df for df in dictionary if _local(df.tag) == "DataField"}
    if not targets or targets[0] not in data_fields:
        raise InvalidModelError(f"{source}: the MiningSchema names no target DataField")
    fields = tuple(
        _field(df, usage.get(name)) for name, df in data_fields.items() if name != targets[0]
    )
    target = _field(data_fields[targets[0]], usage[targets[0]])
    return PmmlSchema(model_type, function, _estimator(model, function, source), fields, target)


def _estimator(model: ET.Element, function: str, source: str) -> str:
    model_type = _local(model.tag)
    classifier, regressor = ESTIMATORS[model_type]
    if model_type == "MiningModel":
        classifier, regressor = _ensemble(model)
    name = classifier if function == "classification" else regressor
    if name is None:
        raise InvalidModelError(
            f"{source}: sklearn-pmml-model cannot score a {function} {model_type} of this shape",
            hint="supported ensembles: tree forests (majorityVote/average), gradient-boosted "
            "trees (modelChain/sum), logistic regression chains",
        )
    return name


def _ensemble(model: ET.Element) -> tuple[str | None, str | None]:
    segmentation = _child(model, "Segmentation")
    if segmentation is None:
        return None, None
    method = segmentation.get("multipleModelMethod")
    inner = {_local(el.tag) for seg in segmentation for el in seg if _local(el.tag) in ESTIMATORS}
    has_trees = any(_local(el.tag) == "TreeModel" for el in segmentation.iter())
    if has_trees and method in ("majorityVote", "average") and inner == {"TreeModel"}:
        return "PMMLForestClassifier", "PMMLForestRegressor"
    if has_trees and method == "modelChain":
        return "PMMLGradientBoostingClassifier", None
    if has_trees and method == "sum":
        return None, "PMMLGradientBoostingRegressor"
    if inner == {"RegressionModel"} and method == "modelChain":
        return "PMMLLogisticRegression", None
    return None, None


def _field(data_field: ET.Element, mining_field: ET.Element | None) -> PmmlField:
    data_type = data_field.get("dataType", "string")
    values = [
        _typed(v.get("value", ""), data_type)
        for v in data_field
        if _local(v.tag) == "Value" and v.get("property", "valid") == "valid"
    ]
    active = mining_field is not None and mining_field.get("usageType", "active") == "active"
    replacement = mining_field.get("missingValueReplacement") if mining_field is not None else None
    return PmmlField(
        name=str(data_field.get("name")),
        data_type=data_type,
        optype=data_field.get("optype", "continuous"),
        categories=tuple(values) or None,
        active=active,
        replacement=None if replacement is None else _typed(replacement, data_type),
    )


def _check_transformations(root: ET.Element, source: str) -> None:
    """Refuse derived fields computed by expressions: sklearn-pmml-model would ignore them."""
    for parent in root.iter():
        if _local(parent.tag) == "NeuralOutput":
            continue  # how network outputs map to classes, which the estimator does read
        for field in parent:
            if _local(field.tag) != "DerivedField":
                continue
            used = {_local(el.tag) for el in field} - _PLAIN_DERIVED
            if used:
                raise InvalidModelError(
                    f"{source}: derived field {field.get('name')!r} is computed with "
                    f"{', '.join(sorted(used))}, which sklearn-pmml-model does not evaluate "
                    "(its predictions would silently be wrong)",
                    hint="export the model without preprocessing in the PMML, and apply it "
                    "before scoring; or use the onnx flavor",
                )


def _application(root: ET.Element) -> str | None:
    header = _child(root, "Header")
    app = _child(header, "Application") if header is not None else None
    if app is None:
        return None
    return " ".join(v for v in (app.get("name"), app.get("version")) if v) or None


# --- scoring ----------------------------------------------------------------------------------
def prepare_inputs(frame: pd.DataFrame, schema: PmmlSchema) -> pd.DataFrame:
    """Every field the estimator reads, typed as the PMML declares it; all problems at once."""
    columns: dict[str, Any] = {}
    problems: list[str] = []
    for spec in schema.fields:
        if spec.name in frame.columns:
            values, problem = _convert(frame[spec.name], spec)
            if problem:
                problems.append(f"column {spec.name!r}: {problem}")
                continue
        elif spec.active and spec.replacement is None:
            problems.append(f"missing column {spec.name!r}")
            continue
        else:  # unused by the model, or the PMML says what to put in its place
            fill = spec.replacement
            if fill is None:
                fill = spec.categories[0] if spec.categories else 0.0
            values = pd.Series([fill] * len(frame), index=frame.index)
        columns[spec.name] = values
    if problems:
        raise InvalidInputError(
            f"input does not fit the PMML model: {'; '.join(problems)}",
            hint="send the PMML's fields with the types and categories its DataDictionary declares",
        )
    return pd.DataFrame(columns, index=frame.index).reset_index(drop=True)


def _category_codes(x: pd.DataFrame, model: Any) -> pd.DataFrame:
    """Categorical inputs as the codes the estimator's trees split on (its own category order)."""
    x = x.copy()
    for name, (_, kind) in model.field_mapping.items():
        categories = getattr(kind, "categories", None)
        if name in x.columns and categories is not None:
            x[name] = pd.Categorical(x[name], categories=categories).codes.astype(float)
    return x


def _convert(series: pd.Series, spec: PmmlField) -> tuple[pd.Series, str | None]:
    if spec.replacement is not None:
        series = series.astype(object).where(series.notna(), spec.replacement)
    present = series.notna()
    if spec.numeric:
        if series.dtype.kind == "b":
            return series, f"expected numbers (PMML {spec.data_type}), got booleans"
        values = pd.to_numeric(series, errors="coerce")
        bad = values.isna() & present
        if bad.any():
            return series, f"expected numbers (PMML {spec.data_type}), got {_example(series, bad)}"
        if spec.data_type == "integer" and spec.optype != "continuous" and present.all():
            values = values.astype("int64")
        else:
            values = values.astype(float)
    elif spec.data_type == "string":
        values = series.map(lambda v: str(v) if isinstance(v, int | np.integer) else v)
        bad = present & ~values.map(lambda v: isinstance(v, str))
        if bad.any():
            return series, f"expected text, got {_example(series, bad)}"
    else:
        values = series
    if not present.all():
        return series, (
            f"{int((~present).sum())} missing value(s), and the PMML gives no "
            "missingValueReplacement for it"
        )
    if spec.optype != "continuous" and spec.categories:
        unknown = ~values.isin(list(spec.categories))
        if unknown.any():
            return series, (
                f"{_example(values, unknown)} is not one of the PMML's categories "
                f"{list(spec.categories)}"
            )
    return values, None


def _probabilities(model: Any, x: pd.DataFrame) -> np.ndarray:
    proba = np.asarray(model.predict_proba(x.copy()), dtype=float)
    if getattr(model, "multi_class", None) == "ovr" and proba.shape[1] > 2:
        # A one-vs-rest chain of logistic regressions: scikit-learn >= 1.5 ignores multi_class
        # and applies softmax; recompute what the PMML describes (normalised sigmoids).
        scores = model.decision_function(model._prepare_data(x.copy()))
        sigmoid = 1.0 / (1.0 + np.exp(-np.asarray(scores, dtype=float)))
        proba = sigmoid / sigmoid.sum(axis=1, keepdims=True)
    return proba


def _normalise_forest(model: Any) -> None:
    """Make forest trees hold class fractions, as scikit-learn >= 1.4 trees must.

    sklearn-pmml-model builds forest trees from raw record counts, so the forest averaged
    counts instead of probabilities: wrong probabilities, and at times a wrong majority.
    """
    if type(model).__name__ != "PMMLForestClassifier":
        return
    for tree in model.estimators_:
        values = tree.tree_.value  # a writable view of the tree's own buffer
        totals = values.sum(axis=-1, keepdims=True)
        np.divide(values, totals, out=values, where=totals > 0)


def _example_row(schema: PmmlSchema) -> pd.DataFrame:
    def value(f: PmmlField) -> Any:
        if f.categories:
            return f.categories[0]
        return 0.0 if f.numeric else (False if f.data_type == "boolean" else "")

    return pd.DataFrame({f.name: [value(f)] for f in schema.fields if f.active})


# --- small helpers ----------------------------------------------------------------------------
def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((el for el in element if _local(el.tag) == name), None)


def _typed(value: str, data_type: str) -> Any:
    try:
        if data_type == "integer":
            return int(value)
        if data_type in ("double", "float"):
            return float(value)
    except ValueError:
        return value
    if data_type == "boolean":
        return value.strip().lower() in ("true", "1")
    return value


def _example(series: pd.Series, mask: pd.Series) -> str:
    rows = np.flatnonzero(mask.to_numpy())
    value = series.iloc[int(rows[0])]
    return f"{type(value).__name__} {value!r} (row {int(rows[0])})"
