"""The pmml flavor: PMML written from scikit-learn models scores like the models themselves."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.tree import DecisionTreeClassifier

from modelward.errors import InvalidInputError, InvalidModelError, UntrustedContentError
from modelward.runtimes.base import SavedModel, SaveOptions
from modelward.runtimes.pmml import PmmlFlavor, PmmlRuntime

PROBA_TOL = 1e-9
SPECIES = "species"


# --- a tiny PMML writer for the models under test --------------------------------------------
def data_field(name: str, categories: list[str] | None = None, data_type: str = "double") -> str:
    if categories is None:
        return f'<DataField name={quoteattr(name)} optype="continuous" dataType="{data_type}"/>'
    values = "".join(f"<Value value={quoteattr(c)}/>" for c in categories)
    return (
        f'<DataField name={quoteattr(name)} optype="categorical" dataType="{data_type}">'
        f"{values}</DataField>"
    )


def mining_schema(features: list[str], target: str | None) -> str:
    fields = [f"<MiningField name={quoteattr(f)}/>" for f in features]
    if target is not None:
        fields.insert(0, f'<MiningField name={quoteattr(target)} usageType="target"/>')
    return f"<MiningSchema>{''.join(fields)}</MiningSchema>"


def document(fields: list[str], model: str) -> str:
    """A PMML 4.4 document, one element per line as PMML producers write them."""
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">',
            '<Header><Application name="modelward-tests" version="1"/></Header>',
            f'<DataDictionary numberOfFields="{len(fields)}">',
            *fields,
            "</DataDictionary>",
            model,
            "</PMML>",
        ]
    )


def tree_model(tree: Any, features: list[str], classes: list[str], target: str) -> str:
    """A fitted DecisionTreeClassifier as a binary-split TreeModel with class record counts."""
    t = tree.tree_
    lines: list[str] = []

    def node(i: int, predicate: str) -> None:
        if t.children_left[i] == -1:
            counts = t.value[i][0] * t.weighted_n_node_samples[i]
            score = classes[int(np.argmax(t.value[i][0]))]
            total = float(t.weighted_n_node_samples[i])
            lines.append(f'<Node score={quoteattr(score)} recordCount="{total!r}">{predicate}')
            lines.extend(
                f'<ScoreDistribution value={quoteattr(c)} recordCount="{float(k)!r}"/>'
                for c, k in zip(classes, counts, strict=True)
            )
            lines.append("</Node>")
            return
        name, threshold = quoteattr(features[t.feature[i]]), repr(float(t.threshold[i]))
        lines.append(f"<Node>{predicate}")
        node(
            t.children_left[i],
            f'<SimplePredicate field={name} operator="lessOrEqual" value="{threshold}"/>',
        )
        node(
            t.children_right[i],
            f'<SimplePredicate field={name} operator="greaterThan" value="{threshold}"/>',
        )
        lines.append("</Node>")

    node(0, "<True/>")
    return "\n".join(
        [
            '<TreeModel functionName="classification" splitCharacteristic="binarySplit">',
            mining_schema(features, target),
            *lines,
            "</TreeModel>",
        ]
    )


def regression_table(intercept: float, features: list[str], coefs: Any, category: str = "") -> str:
    attr = f" targetCategory={quoteattr(category)}" if category else ""
    predictors = "".join(
        f'<NumericPredictor name={quoteattr(f)} coefficient="{float(c)!r}"/>'
        for f, c in zip(features, coefs, strict=True)
    )
    return f'<RegressionTable intercept="{float(intercept)!r}"{attr}>{predictors}</RegressionTable>'


def iris_fields(features: list[str], classes: list[str]) -> list[str]:
    return [*(data_field(f) for f in features), data_field(SPECIES, classes, "string")]


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, np.ndarray]:
    data = load_iris(as_frame=True)
    x = data.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    return x, data.target_names[data.target]


def write(tmp_path: Path, text: str, name: str = "source.pmml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def register(path: Path, dest: Path) -> tuple[SavedModel, PmmlRuntime]:
    flavor = PmmlFlavor()
    assert flavor.sniff(path)
    dest.mkdir()
    saved = flavor.import_path(path, dest, SaveOptions())
    json.dumps(saved.config, allow_nan=False)  # the registry stores it as strict JSON
    runtime = flavor.runtime(dest, saved.config)
    runtime.load()
    assert isinstance(runtime, PmmlRuntime)
    return saved, runtime


def probabilities(out: pd.DataFrame, classes: Any) -> np.ndarray:
    return out[[f"probability_{c}" for c in classes]].to_numpy(dtype=float)


# --- models scored like scikit-learn scores them ----------------------------------------------
def test_decision_tree_matches_sklearn(iris: Any, tmp_path: Path) -> None:
    x, y = iris
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y)
    classes, features = list(model.classes_), list(x.columns)
    text = document(iris_fields(features, classes), tree_model(model, features, classes, SPECIES))
    saved, runtime = register(write(tmp_path, text), tmp_path / "version")

    out = runtime.predict(x, {"proba": True})

    assert (out["prediction"].to_numpy() == model.predict(x)).all()
    np.testing.assert_allclose(probabilities(out, classes), model.predict_proba(x), atol=PROBA_TOL)
    assert saved.config["model_type"] == "TreeModel"
    assert saved.config["estimator"] == "PMMLTreeClassifier"
    assert sorted(p.name for p in (tmp_path / "version").iterdir()) == ["model.pmml"]


def test_multinomial_logistic_regression_matches_sklearn(iris: Any, tmp_path: Path) -> None:
    x, y = iris
    model = LogisticRegression(max_iter=1000).fit(x, y)
    classes, features = list(model.classes_), list(x.columns)
    tables = "".join(
        regression_table(model.intercept_[k], features, model.coef_[k], c)
        for k, c in enumerate(classes)
    )
    body = (
        '<RegressionModel functionName="classification" normalizationMethod="softmax">'
        f"{mining_schema(features, SPECIES)}{tables}</RegressionModel>"
    )
    saved, runtime = register(
        write(tmp_path, document(iris_fields(features, classes), body)), tmp_path / "version"
    )

    out = runtime.predict(x, {"proba": True})

    assert (out["prediction"].to_numpy() == model.predict(x)).all()
    np.testing.assert_allclose(probabilities(out, classes), model.predict_proba(x), atol=PROBA_TOL)
    assert saved.config["estimator"] == "PMMLLogisticRegression"


def test_linear_regression_matches_sklearn(tmp_path: Path) -> None:
    data = load_diabetes(as_frame=True)
    x, y = data.data, data.target
    model = LinearRegression().fit(x, y)
    features = list(x.columns)
    body = (
        f'<RegressionModel functionName="regression">{mining_schema(features, "target")}'
        f"{regression_table(model.intercept_, features, model.coef_)}</RegressionModel>"
    )
    fields = [*(data_field(f) for f in features), data_field("target")]
    saved, runtime = register(write(tmp_path, document(fields, body)), tmp_path / "version")

    out = runtime.predict(x, {})

    np.testing.assert_allclose(out["prediction"], model.predict(x), rtol=1e-12)
    assert saved.signature is not None
    assert saved.signature.outputs[0].description == "PMML target field 'target'"
    with pytest.raises(InvalidInputError, match="no class probabilities"):
        runtime.predict(x, {"proba": True})


def test_random_forest_probabilities_are_normalised(iris: Any, tmp_path: Path) -> None:
    # sklearn-pmml-model 1.0.8 keeps record counts in forest trees, which scikit-learn >= 1.4
    # averages as if they were fractions; the runtime normalises them.
    x, y = iris
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(x, y)
    classes, features = list(forest.classes_), list(x.columns)
    segments = "".join(
        f'<Segment id="{i}"><True/>{tree_model(tree, features, classes, SPECIES)}</Segment>'
        for i, tree in enumerate(forest.estimators_, start=1)
    )
    body = (
        f'<MiningModel functionName="classification">{mining_schema(features, SPECIES)}'
        f'<Segmentation multipleModelMethod="average">{segments}</Segmentation></MiningModel>'
    )
    saved, runtime = register(
        write(tmp_path, document(iris_fields(features, classes), body)), tmp_path / "version"
    )

    out = runtime.predict(x, {"proba": True})

    np.testing.assert_allclose(probabilities(out, classes), forest.predict_proba(x), atol=PROBA_TOL)
    assert (out["prediction"].to_numpy() == forest.predict(x)).all()
    assert saved.config["estimator"] == "PMMLForestClassifier"


def test_one_vs_rest_logistic_chain_keeps_its_probabilities(iris: Any, tmp_path: Path) -> None:
    # scikit-learn 1.9 ignores LogisticRegression.multi_class="ovr", which sklearn-pmml-model
    # sets for a chain of per-class logistic regressions; the runtime restores the OvR maths.
    x, y = iris
    model = OneVsRestClassifier(LogisticRegression(max_iter=1000)).fit(x, y)
    classes, features = list(model.classes_), list(x.columns)
    segments = "".join(
        f'<Segment id="{k}"><True/><RegressionModel functionName="regression" '
        f'normalizationMethod="logit">{mining_schema(features, None)}'
        f"{regression_table(est.intercept_[0], features, est.coef_[0])}</RegressionModel></Segment>"
        for k, est in enumerate(model.estimators_, start=1)
    )
    body = (
        f'<MiningModel functionName="classification">{mining_schema(features, SPECIES)}'
        f'<Segmentation multipleModelMethod="modelChain">{segments}</Segmentation></MiningModel>'
    )
    _, runtime = register(
        write(tmp_path, document(iris_fields(features, classes), body)), tmp_path / "version"
    )

    out = runtime.predict(x, {"proba": True})

    np.testing.assert_allclose(probabilities(out, classes), model.predict_proba(x), atol=PROBA_TOL)
    assert (out["prediction"].to_numpy() == model.predict(x)).all()


# --- categorical inputs, missing values, signatures -------------------------------------------
CATEGORICAL_TREE = document(
    [
        data_field("colour", ["red", "green", "blue"], "string"),
        data_field("size"),
        data_field("label", ["no", "yes"], "string"),
    ],
    "\n".join(
        [
            '<TreeModel functionName="classification" splitCharacteristic="binarySplit">',
            "<MiningSchema>",
            '<MiningField name="label" usageType="target"/>',
            '<MiningField name="colour"/>',
            '<MiningField name="size" missingValueReplacement="1.0"/>',
            "</MiningSchema>",
            "<Node><True/>",
            '<Node score="yes" recordCount="4">',
            '<SimplePredicate field="colour" operator="equal" value="green"/>',
            '<ScoreDistribution value="no" recordCount="1"/>',
            '<ScoreDistribution value="yes" recordCount="3"/>',
            "</Node>",
            '<Node><SimplePredicate field="colour" operator="notEqual" value="green"/>',
            '<Node score="no"><SimplePredicate field="size" operator="lessOrEqual" value="2"/>',
            "</Node>",
            '<Node score="yes"><SimplePredicate field="size" operator="greaterThan" value="2"/>',
            "</Node>",
            "</Node>",
            "</Node>",
            "</TreeModel>",
        ]
    ),
)


@pytest.fixture
def categorical(tmp_path: Path) -> tuple[SavedModel, PmmlRuntime]:
    return register(write(tmp_path, CATEGORICAL_TREE), tmp_path / "version")


def test_categorical_strings_and_missing_value_replacement(
    categorical: tuple[SavedModel, PmmlRuntime],
) -> None:
    _, runtime = categorical
    frame = pd.DataFrame({"colour": ["green", "red", "blue", "red"], "size": [5.0, 1.0, 3.0, None]})

    out = runtime.predict(frame, {"proba": True})

    assert out["prediction"].tolist() == ["yes", "no", "yes", "no"]  # size None -> 1.0
    assert out.loc[0, "probability_yes"] == pytest.approx(0.75)


def test_signature_comes_from_the_data_dictionary(
    categorical: tuple[SavedModel, PmmlRuntime],
) -> None:
    saved, runtime = categorical
    assert saved.signature is not None

    colour, size = saved.signature.inputs
    assert (colour.name, colour.type, colour.categories, colour.nullable) == (
        "colour",
        "string",
        ("red", "green", "blue"),
        False,
    )
    assert (size.name, size.type, size.nullable) == ("size", "double", True)
    (prediction,) = saved.signature.outputs
    assert (prediction.name, prediction.type, prediction.categories) == (
        "prediction",
        "string",
        ("no", "yes"),
    )
    meta = runtime.metadata()
    assert meta["classes"] == ["no", "yes"] and meta["inputs"] == ["colour", "size"]
    assert meta["application"] == "modelward-tests 1" and meta["pmml_version"] == "4.4"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"colour": ["red"], "size": ["big"]}), "'size': expected numbers"),
        (pd.DataFrame({"colour": [3.5], "size": [1.0]}), "'colour': expected text"),
        (pd.DataFrame({"colour": ["purple"], "size": [1.0]}), "not one of the PMML's categories"),
        (pd.DataFrame({"colour": [None], "size": [1.0]}), "missing value"),
        (pd.DataFrame({"size": [1.0]}), "missing column 'colour'"),
    ],
)
def test_bad_input_gets_a_clear_error(
    frame: pd.DataFrame, message: str, categorical: tuple[SavedModel, PmmlRuntime]
) -> None:
    _, runtime = categorical

    with pytest.raises(InvalidInputError, match=message):
        runtime.predict(frame, {})


def test_empty_input_gives_empty_output(categorical: tuple[SavedModel, PmmlRuntime]) -> None:
    out = categorical[1].predict(pd.DataFrame({"colour": [], "size": []}), {"proba": True})

    assert list(out.columns) == ["prediction", "probability_no", "probability_yes"]
    assert out.empty


def test_unknown_parameter_is_refused(categorical: tuple[SavedModel, PmmlRuntime]) -> None:
    with pytest.raises(InvalidInputError, match="unknown prediction parameter"):
        categorical[1].predict(pd.DataFrame({"colour": ["red"], "size": [1.0]}), {"top": 1})


# --- what is refused --------------------------------------------------------------------------
XXE = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE PMML [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    '<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header description="&secret;"/>'
    "<DataDictionary/></PMML>"
)


def billion_laughs() -> str:
    """Nine levels of ten references each: 10**9 "lol"s if a parser expanded them."""
    entities = ['<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        refs = f"&lol{level - 1};" * 10
        entities.append(f'<!ENTITY lol{level} "{refs}">')
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE PMML [{"".join(entities)}]>\n'
        '<PMML version="4.4"><Header description="&lol9;"/></PMML>'
    )


def test_sniff(tmp_path: Path) -> None:
    flavor = PmmlFlavor()
    other = write(tmp_path, "<html><body/></html>", "page.xml")
    pmml_xml = write(tmp_path, CATEGORICAL_TREE, "model.xml")
    prefixed = write(tmp_path, '<p:PMML xmlns:p="http://www.dmg.org/PMML-4_4"/>', "p.xml")
    declared = write(tmp_path, XXE, "declared.xml")  # sniffed, so that import can say why not

    assert flavor.sniff(pmml_xml) and flavor.sniff(prefixed) and flavor.sniff(declared)
    assert not flavor.sniff(other)
    assert not flavor.sniff(write(tmp_path, CATEGORICAL_TREE, "model.txt"))
    assert not flavor.sniff(tmp_path)
    assert not flavor.sniff(write(tmp_path, "not xml at all", "broken.xml"))


def test_xml_that_is_not_pmml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '<?xml version="1.0"?><model><tree/></model>')

    with pytest.raises(InvalidModelError, match="not PMML: its root element is <model>"):
        PmmlFlavor().import_path(path, tmp_path, SaveOptions())


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, CATEGORICAL_TREE[: len(CATEGORICAL_TREE) // 2])
    dest = tmp_path / "version"
    dest.mkdir()

    with pytest.raises(InvalidModelError, match="not well-formed XML"):
        PmmlFlavor().import_path(path, dest, SaveOptions())
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(
    "text", [XXE, billion_laughs(), '<!DOCTYPE PMML SYSTEM "http://example.com/p.dtd"><PMML/>']
)
def test_dtds_and_entities_are_refused(text: str, tmp_path: Path) -> None:
    path = write(tmp_path, text)
    dest = tmp_path / "version"
    dest.mkdir()
    flavor = PmmlFlavor()
    assert flavor.sniff(path)  # recognised as PMML, so that the refusal says why
    started = time.perf_counter()

    with pytest.raises(UntrustedContentError, match="DOCTYPE or ENTITY"):
        flavor.import_path(path, dest, SaveOptions())
    assert time.perf_counter() - started < 1
    assert list(dest.iterdir()) == []


def test_transformations_the_scorer_would_ignore_are_refused(tmp_path: Path) -> None:
    scaled = CATEGORICAL_TREE.replace(
        "<TreeModel",
        '<TransformationDictionary><DerivedField name="half" optype="continuous" '
        'dataType="double"><Apply function="/"><FieldRef field="size"/>'
        '<Constant dataType="double">2</Constant></Apply></DerivedField>'
        "</TransformationDictionary>\n<TreeModel",
    )

    with pytest.raises(InvalidModelError, match="derived field 'half' is computed with Apply"):
        PmmlFlavor().import_path(write(tmp_path, scaled), tmp_path, SaveOptions())


def test_unsupported_models_are_refused(tmp_path: Path) -> None:
    clustering = document(
        [data_field("x")],
        f'<ClusteringModel functionName="clustering">{mining_schema(["x"], None)}'
        "</ClusteringModel>",
    )

    with pytest.raises(InvalidModelError, match="no supported model element"):
        PmmlFlavor().import_path(write(tmp_path, clustering), tmp_path, SaveOptions())


def test_models_the_scorer_misreads_are_refused(tmp_path: Path) -> None:
    # sklearn-pmml-model returns two predictions per row for a two-class network with two
    # softmax outputs; the smoke test at import catches it.
    neurons = "".join(
        f'<Neuron id="{n}" bias="0"><Con from="1" weight="{w}"/></Neuron>'
        for n, w in ((2, 1.0), (3, -1.0))
    )
    outputs = "".join(
        f'<NeuralOutput outputNeuron="{n}"><DerivedField name="o{n}" optype="continuous" '
        f'dataType="double"><NormDiscrete field="y" value="{c}"/></DerivedField></NeuralOutput>'
        for n, c in ((2, "no"), (3, "yes"))
    )
    network = document(
        [data_field("x"), data_field("y", ["no", "yes"], "string")],
        f'<NeuralNetwork functionName="classification" activationFunction="logistic">'
        f"{mining_schema(['x'], 'y')}"
        '<NeuralInputs><NeuralInput id="1"><DerivedField name="dx" optype="continuous" '
        'dataType="double"><FieldRef field="x"/></DerivedField></NeuralInput></NeuralInputs>'
        f'<NeuralLayer activationFunction="identity" normalizationMethod="softmax">{neurons}'
        f"</NeuralLayer><NeuralOutputs>{outputs}</NeuralOutputs></NeuralNetwork>",
    )

    with pytest.raises(InvalidModelError, match="2 predictions for 1 rows"):
        PmmlFlavor().import_path(write(tmp_path, network), tmp_path, SaveOptions())


def test_in_memory_objects_are_not_claimed(iris: Any) -> None:
    flavor = PmmlFlavor()
    model = DecisionTreeClassifier().fit(*iris)

    assert not flavor.detect(model)
    with pytest.raises(InvalidInputError, match="cannot save"):
        flavor.save(model, Path("."), SaveOptions())
