"""The demo's governance part: a medium-risk model goes draft → validated → approved → production.

An author (``alice``, data scientist) registers and validates it; her own approval is refused
(segregation of duties); a reviewer (``bob``) approves the exact artifact he saw; the operator
running the demo makes it the champion. Later the demo traces one served request back through
all of this and verifies the audit chain.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from modelward.client import Client
from modelward.errors import ModelwardError

GOVERNED = "demo-cancer-governed"
AUTHOR, REVIEWER = "alice", "bob"
SEED = 11


def _data() -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """A gradient-boosted classifier, its training frame and a labelled holdout."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.3, random_state=SEED, stratify=y)
    model = HistGradientBoostingClassifier(max_iter=60, random_state=SEED).fit(x_tr, y_tr)
    return model, x_tr, x_te.assign(label=y_te.to_numpy())


def govern(mw: Client, console: Console) -> pd.DataFrame:
    """Take one model through the lifecycle with two people; returns the holdout features."""
    author = Client(replace(mw.settings, actor=AUTHOR), role="data_scientist")
    reviewer = Client(replace(mw.settings, actor=REVIEWER), role="reviewer")
    steps: list[tuple[str, str, str]] = []
    try:
        model, train, holdout = _data()
        version = author.register_model(
            model,
            GOVERNED,
            input_example=train.head(50),
            training_data=train,
            description="Gradient boosting on breast-cancer data, governed as medium risk",
            risk_tier="medium",  # needs a passing validation and one reviewer's approval
        )
        author.set_goals(GOVERNED, ["roc_auc>=0.95", "accuracy>=0.9"])
        steps.append((AUTHOR, f"register {version.ref}, goals roc_auc>=0.95", "draft"))
        report = author.validate(version.ref, holdout, label_column="label")
        shown = ", ".join(f"{k}={report.metrics[k]:.3f}" for k in ("roc_auc", "accuracy"))
        verdict = "passed" if report.passed else f"failed: {report.failed_checks}"
        steps.append((AUTHOR, f"validate on {len(holdout)} labelled rows ({shown})", verdict))
        try:
            author.approve(version.ref, comment="my own model looks fine")
            steps.append((AUTHOR, "approve own version", "ACCEPTED (unexpected)"))
        except ModelwardError as exc:
            steps.append((AUTHOR, "approve own version", f"refused [{exc.code}]: {exc.message}"))
        reviewer.comment(version.ref, "Read the validation report; goals met on the holdout.")
        reviewer.approve(version.ref, comment="independent review done", digest=version.digest)
        stage = reviewer.get(version.ref).stage
        steps.append((REVIEWER, f"approve sha256 {version.digest[:12]}…", stage))
        mw.set_alias(GOVERNED, "champion", version.version)
        stage = mw.get(version.ref).stage
        steps.append((mw.settings.actor, "make it the champion", stage))
    finally:
        author.close()
        reviewer.close()
    table = Table(title=f"governance of {GOVERNED} (policy: medium)", title_justify="left")
    for column in ("who", "did", "outcome"):
        table.add_column(column, overflow="fold")
    for who, did, outcome in steps:
        table.add_row(who, did, outcome)
    console.print(table)
    return holdout.drop(columns="label")


def show_trace(mw: Client, request_id: str, console: Console) -> dict[str, Any]:
    """Print the track-back of one request: record → version → data → validation → approvals."""
    found = mw.trace(request_id)
    tree = Tree(f"[bold]trace of request {request_id}[/]")
    for hop in found["records"]:
        record = hop["inference"]
        branch = tree.add(
            f"{record['model']}/{record['version']} answered {record['status']} in "
            f"{record['latency_ms']:.1f} ms at {record['time']} ({len(record['rows'])} row(s))"
        )
        branch.add(f"artifact sha256 {hop.get('artifact_digest', '?')}")
        for dataset in hop.get("training_data") or []:
            branch.add(f"training data: {json.dumps(dataset, default=str)[:110]}")
        for report in hop.get("validation_reports") or []:
            branch.add(f"validation #{report.get('id')}: passed={report.get('passed')}")
        for approval in hop.get("approvals") or []:
            branch.add(
                f"{approval.get('decision')} by {approval.get('actor')} "
                f"({approval.get('role')}) at {approval.get('at')}"
            )
    for label in found.get("label") or []:
        tree.add(f"label (row {label['row']}): {label['label']}")
    if not found.get("label"):
        tree.add(f"label: {found.get('label_note')}")
    console.print(tree)
    return found


def verify_chain(mw: Client, console: Console) -> None:
    """Recompute the audit chain and say so."""
    status = mw.verify_audit()
    console.print(
        f"audit chain intact: {status.events} events, head #{status.head_seq} "
        f"{status.head_hash[:16]}… (modelward audit verify)",
        highlight=False,
    )
