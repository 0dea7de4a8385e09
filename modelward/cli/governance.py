"""Governance commands: ``validate``, ``approve``, ``reject``, ``comment``, ``comments``,
``approvals``, ``retire``, ``lifecycle``, ``policy show|set`` and ``models goals``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from modelward.batch.files import existing_file
from modelward.cli import models
from modelward.cli.output import client, console, print_json
from modelward.errors import EXIT_CONFLICT, InvalidPolicyError
from modelward.governance import lifecycle
from modelward.governance.comments import threaded
from modelward.governance.validation import DEFAULT_LABEL
from modelward.store.governance_entities import Approval

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of text.")
REF_ARGUMENT = typer.Argument(..., help="NAME/VERSION, NAME@ALIAS or NAME.")
DIGEST_OPTION = typer.Option(
    None, "--digest", help="The artifact sha256 you reviewed (refused if it is not the version's)."
)
policy_app = typer.Typer(help="Show and set governance policies per risk tier.")


def register(app: typer.Typer) -> None:
    """Add the governance commands (and ``models goals``) to the ``modelward`` app."""
    for name, command in (
        ("validate", validate),
        ("approve", approve),
        ("reject", reject),
        ("comment", comment),
        ("comments", list_comments),
        ("approvals", list_approvals),
        ("retire", retire),
        ("lifecycle", lifecycle_state),
    ):
        app.command(name)(command)
    app.add_typer(policy_app, name="policy")
    models.app.command("goals")(goals)


def validate(
    ref: str = REF_ARGUMENT,
    data: Path = typer.Option(..., "--data", help="Labelled data file (CSV, Parquet, JSON lines)."),
    label_column: str = typer.Option(
        DEFAULT_LABEL, "--label-column", help="Column of true labels."
    ),
    task: str | None = typer.Option(
        None, "--task", help="classification or regression (guessed when left out)."
    ),
    html_out: Path | None = typer.Option(
        None, "--html-out", help="Also write the HTML report here."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Score REF and the champion on DATA, check goals and thresholds, record the report."""
    mw = client()
    report = mw.validate(ref, data, label_column=label_column, task=task)
    if html_out is not None:
        html_out.write_text(mw.report_html(report), encoding="utf-8")
    if json_out:
        print_json({**report.to_dict(), "stage": mw.get(f"{report.name}/{report.version}").stage})
    else:
        table = Table("status", "check", "detail")
        for check in report.checks:
            colour = {"passed": "green", "failed": "bold red"}.get(check["status"], "dim")
            table.add_row(f"[{colour}]{check['status']}[/]", check["name"], check["detail"])
        console.print(table)
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in report.metrics.items())
        stage = mw.get(f"{report.name}/{report.version}").stage
        failed = escape(", ".join(report.failed_checks))
        verdict = "[green]passed[/]" if report.passed else f"[bold red]failed[/] ({failed})"
        console.print(f"{report.name}/{report.version}: {metrics}", highlight=False)
        console.print(f"validation {verdict} (report {report.id}); stage: {stage}", highlight=False)
    if not report.passed:
        raise typer.Exit(EXIT_CONFLICT)


def approve(
    ref: str = REF_ARGUMENT,
    comment: str | None = typer.Option(None, "--comment", "-c", help="Why you approve."),
    digest: str | None = DIGEST_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Approve REF as the current user and role (MODELWARD_ROLE in embedded mode)."""
    _decided(client().approve(ref, comment=comment, digest=digest), json_out)


def reject(
    ref: str = REF_ARGUMENT,
    comment: str = typer.Option(..., "--comment", "-c", help="Why you reject (required)."),
    digest: str | None = DIGEST_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Reject REF; rejected is final for that version."""
    _decided(client().reject(ref, comment=comment, digest=digest), json_out)


def _decided(decision: Approval, json_out: bool) -> None:
    stage = client().get(f"{decision.name}/{decision.version}").stage
    if json_out:
        print_json({**decision.to_dict(), "stage": stage})
        return
    verb = "approved" if decision.decision == "approve" else "rejected"
    console.print(
        f"{decision.actor} ({decision.role}) {verb} {decision.name}/{decision.version} "
        f"(sha256:{decision.digest[:12]}…); stage: {stage}",
        highlight=False,
    )


def comment(
    ref: str = REF_ARGUMENT,
    text: str = typer.Argument(..., help="The comment."),
    reply_to: int | None = typer.Option(None, "--reply-to", help="Id of the comment answered."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Comment on a version (or reply to a comment)."""
    added = client().comment(ref, text, reply_to=reply_to)
    if json_out:
        print_json(added.to_dict())
        return
    console.print(f"comment {added.id} on {added.name}/{added.version}", highlight=False)


def list_comments(ref: str = REF_ARGUMENT, json_out: bool = JSON_OPTION) -> None:
    """Show the comment threads of a version."""
    found = client().comments(ref)
    if json_out:
        print_json([c.to_dict() for c in found])
        return
    for depth, c in threaded(found):
        indent = "    " * depth
        console.print(
            f"{indent}[bold]#{c.id}[/] {c.actor}, {c.at:%Y-%m-%d %H:%M} UTC", highlight=False
        )
        console.print(f"{indent}  {c.text}", highlight=False, markup=False)


def list_approvals(ref: str = REF_ARGUMENT, json_out: bool = JSON_OPTION) -> None:
    """Show who approved or rejected a version, with which role, digest and comment."""
    found = client().approvals(ref)
    if json_out:
        print_json([a.to_dict() for a in found])
        return
    table = Table("when (UTC)", "decision", "by", "role", "sha256", "comment")
    for a in found:
        table.add_row(
            f"{a.at:%Y-%m-%d %H:%M:%S}", a.decision, a.actor, a.role, a.digest[:12], a.comment or ""
        )
    console.print(table)


def retire(ref: str = REF_ARGUMENT) -> None:
    """Retire a version for good (refused while it is the champion)."""
    version = client().retire(ref)
    console.print(f"{version.ref}: retired", highlight=False)


def lifecycle_state(ref: str = REF_ARGUMENT, json_out: bool = JSON_OPTION) -> None:
    """Show a version's stage, its policy and what it still needs for production."""
    mw = client()
    state = mw.governance_state(ref)
    policy = mw.get_policy(state.model.risk_tier)
    out = lifecycle.summary(state, policy)
    gaps, latest = out["production_needs"], state.reports[-1] if state.reports else None
    if json_out:
        print_json(out)
        return
    console.print(
        f"[bold]{out['ref']}[/]: {out['stage']} (risk tier {policy.tier})", highlight=False
    )
    console.print(f"artifact sha256:{state.version.digest}", highlight=False)
    who = ", ".join(out["approvals"]["counted"]) or "none"
    console.print(f"approvals counted: {who} (policy: {policy.approvers()})", highlight=False)
    verdict = (
        "none"
        if latest is None
        else f"report {latest.id} {'passed' if latest.passed else 'failed'}"
    )
    console.print(f"latest validation: {verdict}", highlight=False)
    if gaps:
        console.print(f"production needs: {' and '.join(gaps)}", highlight=False)
    else:
        console.print("may become champion (production)", highlight=False)


@policy_app.command("show")
def policy_show(
    tier: str = typer.Argument(..., help="low, medium or high."), json_out: bool = JSON_OPTION
) -> None:
    """Print the effective policy of a risk tier (its file, or the built-in default)."""
    policy = client().get_policy(tier)
    if json_out:
        print_json({**policy.describe(), "policy": policy.to_dict()})
        return
    console.print(f"# {policy.tier}: {policy.source}", highlight=False, markup=False)
    sys.stdout.write(yaml.safe_dump(policy.to_dict(), sort_keys=False))


@policy_app.command("set")
def policy_set(
    tier: str = typer.Argument(..., help="low, medium or high."),
    file: Path = typer.Argument(
        ..., help="YAML file with the policy (keys left out keep defaults)."
    ),
) -> None:
    """Check a policy file strictly and install it for a risk tier (audited)."""
    source = existing_file(file)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidPolicyError(f"cannot parse {source.name}: {exc}") from exc
    policy = client().set_policy(tier, {} if data is None else data)
    console.print(f"policy {policy.tier} written to {policy.source}", highlight=False)


def goals(
    name: str = typer.Argument(..., help="Model name."),
    goal: list[str] = typer.Option(
        [], "--goal", "-g", help="A goal, e.g. 'roc_auc>=0.9' (repeatable)."
    ),
    clear: bool = typer.Option(False, "--clear", help="Remove every goal."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Show a model's accuracy goals, or replace them with --goal (or --clear)."""
    mw = client()
    current = mw.set_goals(name, goal) if goal or clear else mw.get_model(name).goals
    if json_out:
        print_json(current)
        return
    for g in current:
        bounds = [f">={g['min']:g}" if "min" in g else "", f"<={g['max']:g}" if "max" in g else ""]
        console.print(f"{g['metric']} {' '.join(b for b in bounds if b)}", highlight=False)
    if not current:
        console.print(f"{name} has no accuracy goals", highlight=False)
