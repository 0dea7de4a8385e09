"""Model cards: Mitchell et al.'s sections from registry data, narrative editing, per-segment
metrics, Markdown and self-contained, escaped HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score, mean_absolute_error

from modelward.client import Client
from modelward.errors import EXIT_INVALID, InvalidInputError
from modelward.governance.card_render import render_card
from modelward.governance.cards import NOT_DOCUMENTED, SECTIONS, Segments, build_card, update_card
from tests.governance.test_lineage import iris, record_review, register_iris
from tests.support.cli import Run

SCRIPT = "<script>alert('x')</script>"


def test_sections_from_registry_data(client: Client, tmp_path: Path) -> None:
    v = register_iris(client, tmp_path)
    client.update_model(
        "iris", goals=[{"metric": "accuracy", "min": 0.9}, {"metric": "f1", "min": 0.99}]
    )
    client.set_alias("iris", "staging", 1)
    before = build_card(client, "iris")
    assert [g["met"] for g in before["metrics"]["goals"]] == [None, None]  # not validated yet
    record_review(client, v, accuracy=0.95)
    card = build_card(client, "iris@staging")
    details = card["model_details"]
    assert (details["ref"], details["digest"], details["flavor"]) == ("iris/1", v.digest, "sklearn")
    assert details["owner"] == "tester" and details["risk_tier"] == "medium"
    assert details["stage"] == v.stage and details["aliases"] == ["staging"]
    assert card["metrics"]["registered"] == {"accuracy": 0.97}
    goals = {g["metric"]: (g["value"], g["met"]) for g in card["metrics"]["goals"]}
    assert goals == {"accuracy": (0.95, True), "f1": (0.94, False)}
    assert card["evaluation_data"][0]["data"]["location"] == "/data/holdout.csv"
    assert card["training_data"][0]["location"].endswith("train.parquet")
    for section in (
        "intended_use",
        "factors",
        "ethical_considerations",
        "caveats_and_recommendations",
    ):
        assert card[section] is None
    md = render_card(card, "md")
    for title in SECTIONS.values():
        assert f"## {title}" in md
    assert md.count(f"_{NOT_DOCUMENTED}_") == 4
    assert (
        "| accuracy | accuracy>=0.9 | 0.95 | yes |" in md and "| f1 | f1>=0.99 | 0.94 | no |" in md
    )
    assert json.loads(render_card(card, "json"))["model_details"]["digest"] == v.digest


def test_narrative_fields_are_edited_and_never_invented(
    sqlite_client: Client, run: Run, tmp_path: Path
) -> None:
    register_iris(sqlite_client, tmp_path)
    result = run(
        "card",
        "iris/1",
        "--set",
        "intended_use=Triage of iris flowers.",
        "--set",
        "factors=Species | region",
    )
    assert result.code == 0 and "intended_use" in result.out
    update_card(
        sqlite_client,
        "iris",
        {"caveats": "Not for roses.\n\nRetrain yearly.", "training_data": "Fisher, 1936."},
    )
    update_card(sqlite_client, "iris", {"sponsor": "Botany team"})
    card = build_card(sqlite_client, "iris")
    assert card["intended_use"] == "Triage of iris flowers."
    assert card["caveats_and_recommendations"].startswith("Not for roses.")
    assert card["notes"] == {"training_data": "Fisher, 1936."}
    assert card["additional_information"] == {"sponsor": "Botany team"}
    assert card["ethical_considerations"] is None
    md = render_card(card, "md")
    assert "Triage of iris flowers." in md and "Fisher, 1936." in md and "Botany team" in md
    assert md.count(f"_{NOT_DOCUMENTED}_") == 1
    cleared = run("card", "iris", "--unset", "intended_use")
    assert cleared.code == 0
    assert build_card(sqlite_client, "iris")["intended_use"] is None
    with pytest.raises(InvalidInputError, match="invalid card field"):
        update_card(sqlite_client, "iris", {"Intended Use": "x"})
    with pytest.raises(InvalidInputError, match="empty"):
        update_card(sqlite_client, "iris", {"factors": "  "})


def test_html_is_self_contained_and_escapes_every_value(
    sqlite_client: Client, run: Run, tmp_path: Path
) -> None:
    register_iris(sqlite_client, tmp_path)
    update_card(
        sqlite_client,
        "iris",
        {"factors": SCRIPT, "intended_use": '"><img src=x onerror=alert(1)>', "notes_x": SCRIPT},
    )
    sqlite_client.update_model("iris", description=SCRIPT)
    out = tmp_path / "card.html"
    result = run("card", "iris", "--format", "html", "--out", str(out))
    assert result.code == 0 and out.exists()
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<script" not in page.lower() and "<img" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert not re.search(r"<[^>]*\s(src|href)=|https?://|@import|url\(", page)
    assert "default-src 'none'" in page
    md = render_card(build_card(sqlite_client, "iris"), "md")
    assert "<script" not in md and "&lt;script>" in md


def test_per_segment_metrics_for_a_classifier(
    sqlite_client: Client, run: Run, tmp_path: Path
) -> None:
    register_iris(sqlite_client, tmp_path)
    x, y = iris()
    region = np.where(np.arange(len(x)) % 3 == 0, "north", "south")
    data = x.assign(region=region, y=y)
    data.loc[5, "region"] = None
    path = tmp_path / "holdout.csv"
    data.to_csv(path, index=False)
    card = build_card(sqlite_client, "iris", segments=Segments("region", path, "y"))
    analysis = card["quantitative_analyses"]
    assert analysis["task"] == "classification" and analysis["metrics"] == [
        "accuracy",
        "f1",
        "roc_auc",
    ]
    rows = {s["segment"]: s for s in analysis["segments"]}
    assert set(rows) == {"(all)", "(missing)", "north", "south"}
    assert rows["(all)"]["rows"] == len(data) and rows["(missing)"]["rows"] == 1
    model = sqlite_client.load_model("iris")
    north = data[data["region"] == "north"]
    expected = accuracy_score(north["y"], model.predict(north[x.columns])["prediction"])
    assert rows["north"]["accuracy"] == pytest.approx(expected)
    assert 0.5 < rows["south"]["roc_auc"] <= 1.0 and rows["(missing)"]["roc_auc"] is None
    result = run("card", "iris", "--segments", "region", "--data", str(path), "--label-column", "y")
    assert result.code == 0 and "| north |" in result.out and "classification metrics" in result.out


def test_per_segment_metrics_for_a_regressor(sqlite_client: Client, tmp_path: Path) -> None:
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    model = LinearRegression().fit(x, y)
    sqlite_client.register_model(model, "diabetes", input_example=x.head(5))
    data = x.assign(group=np.where(x["sex"] > 0, "a", "b"), target=y)
    path = tmp_path / "holdout.parquet"
    data.to_parquet(path)
    analysis = build_card(sqlite_client, "diabetes", segments=Segments("group", path, "target"))[
        "quantitative_analyses"
    ]
    assert analysis["task"] == "regression" and analysis["metrics"] == ["rmse", "mae"]
    rows = {s["segment"]: s for s in analysis["segments"]}
    part = data[data["group"] == "a"]
    assert rows["a"]["mae"] == pytest.approx(
        mean_absolute_error(part["target"], model.predict(part[x.columns]))
    )


def test_bad_segment_requests(sqlite_client: Client, run: Run, tmp_path: Path) -> None:
    register_iris(sqlite_client, tmp_path)
    x, y = iris()
    path = tmp_path / "holdout.csv"
    x.assign(y=y, id=range(len(x))).to_csv(path, index=False)
    alone = run("card", "iris", "--segments", "region")
    assert alone.code == EXIT_INVALID and "--data" in alone.err
    for args, message in (
        (("--segments", "region", "--label-column", "y"), "no column 'region'"),
        (("--segments", "id", "--label-column", "y"), "distinct values"),
        (("--segments", "id", "--label-column", "label"), "no column 'label'"),
    ):
        result = run("card", "iris", "--data", str(path), *args)
        assert result.code == EXIT_INVALID and message in result.err, result.err
    assert run("card", "iris", "--format", "pdf").code == EXIT_INVALID


def test_empty_sections_say_so(sqlite_client: Client) -> None:
    x, y = iris()
    sqlite_client.register_model(LinearRegression().fit(x, y), "bare")
    md = render_card(build_card(sqlite_client, "bare"), "md")
    for note in (
        "no metrics registered",
        "no accuracy goals set",
        "no validation report yet",
        "no training data recorded",
        "no per-segment analysis",
    ):
        assert note in md
    assert isinstance(pd.Timestamp(build_card(sqlite_client, "bare")["generated_at"]), pd.Timestamp)
