"""The demo's monitoring part: a loan-default model meets a gradually shifting population.

Eight hours of traffic are scored by the registered champion and written to the inference log
(with the times they would have had), labels arrive late (the last hour has none yet), and the
monitors catch the drift and the accuracy drop, raising alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import yaml
from rich.console import Console
from rich.table import Table

from modelward.client import Client
from modelward.errors import ConfigurationError
from modelward.monitoring.alerts import list_alerts
from modelward.monitoring.evaluate import MetricContext, provider_for, run_due_monitors
from modelward.monitoring.inference_log import InferenceLog, inference_root
from modelward.monitoring.labels import add_labels
from modelward.monitoring.monitors import monitors_path, save_monitors
from modelward.monitoring.records import InferenceRecord
from modelward.store.sql import SqlStore
from modelward.store.tables import utcnow

MODEL = "demo-loan-default"
HOURS, ROWS_PER_REQUEST, REQUESTS_PER_HOUR = 8, 20, 20
GOAL = 0.75
SEED = 5
MONITORS = [
    {
        "name": "inputs-drift",
        "metric": "drift.dataset",
        "window": "1h",
        "threshold": ">= 1",
        "severity": "warning",
        "schedule": {"every": "1h"},
    },
    {
        "name": "accuracy-goal",
        "metric": "performance.accuracy",
        "window": "1h",
        "threshold": f"< {GOAL}",
        "severity": "critical",
        "schedule": {"every": "1h"},
    },
    {
        "name": "slow",
        "metric": "resources.latency_p99_ms",
        "window": "1h",
        "threshold": "> 250",
        "severity": "info",
        "schedule": {"every": "15m"},
    },
]


KPIS = [
    {
        "name": "approved_amount",
        "sql": "sum(input__loan_amount) FILTER (WHERE output__prediction = 0)",
        "target": 4_000_000,
        "direction": "higher",
    },
    {
        "name": "predicted_default_rate",
        "sql": "avg(output__prediction)",
        "target": 0.3,
        "direction": "lower",
    },
]


@dataclass
class Hour:
    """One simulated hour: its start, how far the population had moved, what was seen."""

    start: datetime
    shift: float
    rows: int
    drift_share: float | None = None
    accuracy: float | None = None
    labelled: bool = True


def population(rows: int, shift: float, rng: np.random.Generator) -> tuple[pd.DataFrame, Any]:
    """Applicants; ``shift`` 0..1 lowers incomes, raises debt and changes who defaults."""
    frame = pd.DataFrame(
        {
            "age": rng.normal(42 - 8 * shift, 10, rows).clip(18, 90),
            "income": rng.gamma(2.0, 25_000.0 * (1 - 0.5 * shift), rows),
            "debt_ratio": rng.beta(2 + 3 * shift, 5, rows),
            "loan_amount": rng.gamma(2.0, 6_000.0 * (1 + shift), rows),
        }
    )
    risk = -2.0 + 5.0 * frame["debt_ratio"] - frame["income"] / 40_000.0
    risk += shift * 3.0 * (frame["age"] < 35)  # young applicants default more as times change
    chance = 1 / (1 + np.exp(-risk.to_numpy()))
    return frame, (rng.random(rows) < chance).astype(np.int64)


def train_and_register(mw: Client) -> int:
    """Fit on the stable population, register with its training data (the reference profile)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(SEED)
    x, y = population(6000, 0.0, rng)
    model = LogisticRegression(max_iter=2000).fit(x, y)
    version = mw.register_model(
        model,
        MODEL,
        input_example=x.head(20),
        training_data=x,
        description="Loan default, logistic regression on simulated applicants",
        risk_tier="low",
    )
    mw.set_goals(MODEL, [f"accuracy>={GOAL}"])
    if mw.get_model(MODEL).risk_tier != "low":
        mw.update_model(MODEL, risk_tier="low")
    mw.set_alias(MODEL, "champion", version.version)
    return version.version


def simulate(mw: Client, version: int, now: datetime) -> list[Hour]:
    """Score eight hours of traffic with the champion and log it; labels for all but the last."""
    rng = np.random.default_rng(SEED + 1)
    champion = mw.load_model(f"{MODEL}/{version}")
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS)
    hours, labels = [], []
    log = InferenceLog(inference_root(mw.settings.home))
    log.start()
    try:
        for h in range(HOURS):
            shift = max(0.0, (h - 3) / 4)  # four quiet hours, then a gradual move
            start = first + timedelta(hours=h)
            hours.append(Hour(start, shift, ROWS_PER_REQUEST * REQUESTS_PER_HOUR))
            for r in range(REQUESTS_PER_HOUR):
                x, y = population(ROWS_PER_REQUEST, shift, rng)
                predicted = champion.predict(x)["prediction"].to_numpy()
                rid = f"demo-{start:%H}-{r}"
                log.record(
                    InferenceRecord(
                        request_id=rid,
                        time=start + timedelta(minutes=r * 2, seconds=int(rng.integers(0, 60))),
                        model=MODEL,
                        version=version,
                        status=200,
                        latency_ms=float(rng.gamma(2.0, 1.5)),
                        inputs={c: x[c].to_numpy() for c in x.columns},
                        outputs={"prediction": predicted.astype(np.int64)},
                    )
                )
                if h < HOURS - 1:  # the last hour's outcomes are not known yet
                    labels.append(
                        pd.DataFrame({"request_id": rid, "row": range(len(y)), "label": y})
                    )
    finally:
        log.close()
    champion.unload()
    hours[-1].labelled = False
    add_labels(mw.settings, MODEL, pd.concat(labels, ignore_index=True), now=now)
    return hours


def watch(mw: Client, console: Console) -> list[Hour]:
    """The whole monitoring part: register, simulate, measure each hour, run the monitors."""
    now = utcnow()
    version = train_and_register(mw)
    hours = simulate(mw, version, now)
    path = monitors_path(mw.settings.home, MODEL)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"kpis": KPIS}, sort_keys=False), encoding="utf-8")
    save_monitors(mw.settings, MODEL, MONITORS)  # keeps the kpis section
    store = mw.registry.store
    if not isinstance(store, SqlStore):
        raise ConfigurationError("monitoring needs the SQL metadata store")
    for hour in hours:
        end = hour.start + timedelta(hours=1)
        ctx = MetricContext(
            mw.settings.home, mw.settings, store, MODEL, version, hour.start, end, now
        )
        hour.drift_share = _value(ctx, "drift.share")
        hour.accuracy = _value(ctx, "performance.accuracy")
    _print_hours(hours, console)
    last_labelled = hours[-2].start + timedelta(hours=1)
    outcomes = run_due_monitors(mw.settings, store, now=last_labelled, only_model=MODEL, force=True)
    table = Table(
        title=f"monitors of {MODEL}, run for the last labelled hour", title_justify="left"
    )
    for column in ("monitor", "metric", "value", "threshold", "outcome"):
        table.add_column(column, overflow="fold")
    for o in outcomes:
        value = "-" if o.value is None else f"{o.value:.3g}"
        table.add_row(o.monitor, o.metric, value, o.threshold, o.status)
    console.print(table)
    for alert in list_alerts(store, model=MODEL, status="open"):
        console.print(f"  [bold]alert #{alert.id}[/] {alert.severity}: {alert.message}")
    out = mw.settings.home / "reports" / f"{MODEL}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = mw.monitor_report(MODEL, out, "12h", step="1h")
    console.print(
        f"  monitoring report: {out} ({report['bytes'] / 1024:.0f} KB, self-contained HTML)",
        highlight=False,
        soft_wrap=True,
    )
    return hours


def _value(ctx: MetricContext, metric: str) -> float | None:
    provider = provider_for(metric)
    return None if provider is None else provider(ctx, metric).value


def _print_hours(hours: list[Hour], console: Console) -> None:
    table = Table(
        title=f"{MODEL}: a shifting population, hour by hour (goal: accuracy ≥ {GOAL})",
        title_justify="left",
    )
    for column in ("hour (UTC)", "shift", "rows", "drifted columns", "accuracy"):
        table.add_column(column)
    for h in hours:
        share = "-" if h.drift_share is None else f"{h.drift_share:.0%}"
        if h.accuracy is None:
            accuracy = "no labels yet" if not h.labelled else "-"
        else:
            accuracy = f"{h.accuracy:.3f}" + (" [red]below goal[/]" if h.accuracy < GOAL else "")
        table.add_row(f"{h.start:%H:%M}", f"{h.shift:.2f}", str(h.rows), share, accuracy)
    console.print(table)
