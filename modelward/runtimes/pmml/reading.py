"""Reading a parsed PMML document: model type, estimator class, fields and header."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from modelward.errors import InvalidModelError
from modelward.runtimes.pmml.parsing import child, local
from modelward.runtimes.pmml.schema import PmmlField, PmmlSchema

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
#: What a DerivedField may contain for sklearn-pmml-model to read it correctly: a plain reference.
_PLAIN_DERIVED = frozenset({"FieldRef", "Extension", "Value"})


def read_schema(root: ET.Element, source: str) -> PmmlSchema:
    """Model type, estimator class and fields of a parsed PMML document."""
    dictionary = child(root, "DataDictionary")
    model = next((el for el in root if local(el.tag) in ESTIMATORS), None)
    if dictionary is None or model is None:
        found = ", ".join(local(el.tag) for el in root) or "nothing"
        raise InvalidModelError(
            f"{source} has no DataDictionary or no supported model element (found: {found})",
            hint=f"supported models: {', '.join(ESTIMATORS)}",
        )
    model_type, function = local(model.tag), model.get("functionName", "")
    if function not in ("classification", "regression"):
        raise InvalidModelError(
            f"{source}: {model_type} with functionName={function!r} is not supported",
            hint="only classification and regression models can be scored",
        )
    _check_transformations(root, source)
    targets_element = child(model, "Targets")
    if model_type != "MiningModel" and targets_element is not None:
        raise InvalidModelError(
            f"{source}: the {model_type} rescales its target (<Targets>), which "
            "sklearn-pmml-model ignores (its predictions would silently be wrong)",
            hint="export the model without target rescaling",
        )
    schema = child(model, "MiningSchema")
    mining_fields = (
        [] if schema is None else [el for el in schema if local(el.tag) == "MiningField"]
    )
    usage = {mf.get("name"): mf for mf in mining_fields}
    targets = [n for n, mf in usage.items() if mf.get("usageType") in ("target", "predicted")]
    data_fields = {df.get("name"): df for df in dictionary if local(df.tag) == "DataField"}
    if not targets or targets[0] not in data_fields:
        raise InvalidModelError(f"{source}: the MiningSchema names no target DataField")
    fields = tuple(
        _field(df, usage.get(name)) for name, df in data_fields.items() if name != targets[0]
    )
    target = _field(data_fields[targets[0]], usage[targets[0]])
    return PmmlSchema(model_type, function, _estimator(model, function, source), fields, target)


def _estimator(model: ET.Element, function: str, source: str) -> str:
    model_type = local(model.tag)
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
    segmentation = child(model, "Segmentation")
    if segmentation is None:
        return None, None
    method = segmentation.get("multipleModelMethod")
    inner = {local(el.tag) for seg in segmentation for el in seg if local(el.tag) in ESTIMATORS}
    has_trees = any(local(el.tag) == "TreeModel" for el in segmentation.iter())
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
        if local(v.tag) == "Value" and v.get("property", "valid") == "valid"
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
        if local(parent.tag) == "NeuralOutput":
            continue  # how network outputs map to classes, which the estimator does read
        for field in parent:
            if local(field.tag) != "DerivedField":
                continue
            used = {local(el.tag) for el in field} - _PLAIN_DERIVED
            if used:
                raise InvalidModelError(
                    f"{source}: derived field {field.get('name')!r} is computed with "
                    f"{', '.join(sorted(used))}, which sklearn-pmml-model does not evaluate "
                    "(its predictions would silently be wrong)",
                    hint="export the model without preprocessing in the PMML, and apply it "
                    "before scoring; or use the onnx flavor",
                )


def application(root: ET.Element) -> str | None:
    """The name and version of the application that wrote the document, if its header says."""
    header = child(root, "Header")
    app = child(header, "Application") if header is not None else None
    if app is None:
        return None
    return " ".join(v for v in (app.get("name"), app.get("version")) if v) or None


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
