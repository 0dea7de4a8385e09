"""The demo: train four kinds of model on bundled data, register, alias, load back and score;
govern one through validation and approvals, serve them, trace a request, watch a loan model's
population drift and its accuracy drop get caught by monitors, verify the audit chain.

Everything is offline: scikit-learn's breast-cancer and wine data, statsmodels' CO2 series and
a credit decision table shipped with modelward.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from modelward.client import Client
from modelward.demo.governance import GOVERNED, govern, show_trace, verify_chain
from modelward.demo.monitoring import watch

RULES_FILE = Path(__file__).with_name("credit_rules.yaml")
SEED = 7


@dataclass
class Step:
    """One demo model: what was registered and what scoring it by alias gave."""

    name: str
    version: int
    flavor: str
    digest: str
    metric: str
    scored: str


def _classifiers() -> list[dict[str, Any]]:
    from sklearn.datasets import load_breast_cancer, load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    out = []
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)
    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_tr, y_tr)
    out.append(
        {
            "name": "demo-breast-cancer",
            "model": lr,
            "train": x_tr,
            "holdout": x_te,
            "metrics": {
                "accuracy": accuracy_score(y_te, lr.predict(x_te)),
                "roc_auc": roc_auc_score(y_te, lr.predict_proba(x_te)[:, 1]),
            },
            "description": "Logistic regression on scikit-learn's breast-cancer data",
        }
    )
    x, y = load_wine(return_X_y=True, as_frame=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)
    tree = DecisionTreeClassifier(max_depth=4, random_state=SEED).fit(x_tr, y_tr)
    out.append(
        {
            "name": "demo-wine-tree",
            "model": tree,
            "train": x_tr,
            "holdout": x_te,
            "metrics": {"accuracy": accuracy_score(y_te, tree.predict(x_te))},
            "description": "Decision tree on scikit-learn's wine data",
        }
    )
    return out


def _forecaster() -> dict[str, Any]:
    from statsmodels.datasets import co2
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    weekly = co2.load_pandas().data["co2"]
    monthly = weekly.resample("MS").mean().interpolate().loc["1960":]
    train, test = monthly.iloc[:-24], monthly.iloc[-24:]
    fit = ExponentialSmoothing(train, trend="add", seasonal="add", seasonal_periods=12).fit()
    forecast = np.asarray(fit.forecast(24))
    mape = float(np.mean(np.abs((test.to_numpy() - forecast) / test.to_numpy())) * 100)
    return {
        "name": "demo-co2-forecast",
        "model": fit,
        "train": train.to_frame(),
        "metrics": {"mape_24m": mape},
        "description": "Holt-Winters forecast of Mauna Loa CO2 (statsmodels data)",
    }


APPLICANTS = pd.DataFrame(
    {
        "credit_score": [480, 640, 790, 720],
        "income": [18_000.0, 42_000.0, 95_000.0, 60_000.0],
        "employment": ["unemployed", "employed", "self_employed", "employed"],
        "existing_debt": [12_000.0, 25_000.0, 5_000.0, 8_000.0],
    }
)


def run(
    client: Client | None = None, console: Console | None = None, *, serve: bool = True
) -> list[Step]:
    """Run the scenario against ``client`` (default: the environment's registry)."""
    mw = client or Client()
    out = console or Console()
    started = time.perf_counter()
    out.print(f"[bold]modelward demo[/] — registry at {mw.settings.home}", highlight=False)
    steps: list[Step] = []
    held_out: dict[str, pd.DataFrame] = {}

    for spec in _classifiers():
        version = mw.register_model(
            spec["model"],
            spec["name"],
            input_example=spec["train"].head(50),
            training_data=spec["train"],
            metrics=spec["metrics"],
            description=spec["description"],
            risk_tier="low",  # low risk: the champion alias auto-approves (docs/governance.md)
        )
        _champion(mw, spec["name"], version.version)
        loaded = mw.load_model(f"models:/{spec['name']}@champion")
        predicted = loaded.predict(spec["holdout"].head(5))["prediction"].tolist()
        held_out[spec["name"]] = spec["holdout"]
        steps.append(_step(version, spec["metrics"], " ".join(map(str, predicted))))
        out.print(f"  registered and loaded {version.ref} ({version.flavor})", highlight=False)

    spec = _forecaster()
    version = mw.register_model(
        spec["model"],
        spec["name"],
        training_data=spec["train"],
        metrics=spec["metrics"],
        description=spec["description"],
        risk_tier="low",
    )
    _champion(mw, spec["name"], version.version)
    forecast = mw.load_model(f"{spec['name']}@champion").predict(horizon=12)
    first = forecast.iloc[0]
    steps.append(
        _step(version, spec["metrics"], f"{first['time']:%Y-%m} {first['forecast']:.1f}ppm")
    )
    out.print(f"  registered and loaded {version.ref} ({version.flavor})", highlight=False)

    version = mw.register_model(
        RULES_FILE,
        "demo-credit-rules",
        input_example=APPLICANTS,
        training_data=APPLICANTS,
        description="Credit decision table (DMN-style hit policy)",
        risk_tier="low",
    )
    _champion(mw, "demo-credit-rules", version.version)
    decisions = mw.load_model("demo-credit-rules@champion").predict(APPLICANTS)
    steps.append(_step(version, {}, " ".join(decisions["decision"])))
    out.print(f"  registered and loaded {version.ref} ({version.flavor})", highlight=False)

    table = Table(
        title="each demo model's champion, loaded by alias and scored", title_justify="left"
    )
    table.add_column("model@champion", no_wrap=True)
    table.add_column("v")
    table.add_column("flavor")
    table.add_column("sha256")
    table.add_column("metrics", no_wrap=True)
    table.add_column("scored", overflow="fold")
    for s in steps:
        table.add_row(s.name, str(s.version), s.flavor, s.digest[:8], s.metric, s.scored)
    out.print(table)
    governed = govern(mw, out)
    if serve:
        from modelward.demo.serving import serve_and_call

        samples = {
            GOVERNED: governed.head(3),
            "demo-breast-cancer": held_out["demo-breast-cancer"].head(2),
            "demo-wine-tree": held_out["demo-wine-tree"].head(2),
            "demo-co2-forecast": pd.DataFrame(),
            "demo-credit-rules": APPLICANTS,
        }
        calls = serve_and_call(mw, samples, out)
        show_trace(mw, calls[0][3], out)
    watch(mw, out)
    verify_chain(mw, out)
    out.print(f"done in {time.perf_counter() - started:.1f} s", highlight=False)
    return steps


def _champion(mw: Client, name: str, version: int) -> None:
    """Make ``version`` the champion; the demo's own models are low risk (auto-approved), also
    in a home where an older demo registered them under another tier."""
    if mw.get_model(name).risk_tier != "low":
        mw.update_model(name, risk_tier="low")
    mw.set_alias(name, "champion", version)


def _step(version: Any, metrics: dict[str, float], scored: str) -> Step:
    shown = "\n".join(f"{k}={v:.2f}" for k, v in metrics.items()) or "-"
    return Step(version.name, version.version, version.flavor, version.digest, shown, scored)
