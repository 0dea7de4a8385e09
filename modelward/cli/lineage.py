"""``modelward lineage REF`` and ``modelward trace REQUEST_ID``: where a model or a decision came
from, and what followed."""

from __future__ import annotations

import json
from contextlib import closing
from typing import Any

import typer
from rich.markup import escape
from rich.tree import Tree

from modelward.cli.output import client, console, print_json
from modelward.governance.lineage import NOT_RECORDED_YET

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a tree.")


def register(app: typer.Typer) -> None:
    """Add the ``lineage`` and ``trace`` commands."""
    app.command("lineage")(lineage)
    app.command("trace")(trace)


def lineage(
    ref: str = typer.Argument(..., help="NAME, NAME/VERSION or NAME@ALIAS."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Show what a version came from (data, code, params, environment, parent) and what
    followed (aliases, validation reports, approvals, deployments, alerts)."""
    with closing(client()) as mw:
        found = mw.lineage(ref)
    if json_out:
        print_json(found)
        return
    tree = Tree(_version_line(found))
    up = found["upstream"]
    branch = tree.add("[bold]upstream[/]")
    branch.add(f"source: {_source(up['source'])}")
    _datasets(branch, up["datasets"])
    branch.add(f"code: {_git(up['git'])}")
    branch.add(f"params: {_text(up['params'])}")
    branch.add(f"environment: {_environment(up['environment'])}")
    branch.add(f"parent: {_text(up['parent'])}")
    down = found["downstream"]
    branch = tree.add("[bold]downstream[/]")
    branch.add(f"aliases now: {_text(', '.join(down['aliases']))}")
    moves = branch.add("alias history" + ("" if down["alias_history"] else ": none"))
    for m in down["alias_history"]:
        moves.add(
            escape(
                f"{m['at']} {m['alias']}: {_num(m['from_version'])} → {_num(m['to_version'])} "
                f"by {m['actor']}"
            )
        )
    _reports(branch, down["validation_reports"])
    _approvals(branch, down["approvals"])
    alerts = branch.add("alerts" + ("" if down["alerts"] else ": none"))
    for a in down["alerts"]:
        alerts.add(escape(f"#{a['id']} {a['severity']} {a['status']}: {a['message']}"))
    for section, note in NOT_RECORDED_YET.items():
        branch.add(f"{section}: [dim]{escape(note)}[/]")
    console.print(tree, highlight=False)


def trace(
    request_id: str = typer.Argument(..., help="The request id from the inference log."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Follow one request back: inference record → version → artifact → training data →
    validation → approvals → label."""
    with closing(client()) as mw:
        found = mw.trace(request_id)
    if json_out:
        print_json(found)
        return
    tree = Tree(f"request [bold]{escape(request_id)}[/]")
    for hop in found["records"]:
        inf = hop["inference"]
        node = tree.add(
            escape(
                f"scored by {inf['model']}/{inf['version']} at {inf['time']}: status "
                f"{inf['status']}, {inf['latency_ms']} ms, {len(inf['rows'])} row(s)"
                + (f", error {inf['error']}" if inf["error"] else "")
            )
        )
        for row in inf["rows"]:
            node.add(escape(f"row {row['row']}: {_text(row['inputs'])} → {_text(row['outputs'])}"))
        if hop["model_version"] is None:
            node.add(f"[yellow]{escape(hop['note'])}[/]")
            continue
        node.add(_version_line(hop["model_version"]))
        node.add(f"artifact: sha256:{hop['artifact_digest']}")
        _datasets(node, hop["training_data"], "training data")
        _reports(node, hop["validation_reports"])
        _approvals(node, hop["approvals"])
    if not found["label"]:
        tree.add(f"label: [dim]{escape(found['label_note'])}[/]")
    for label in found["label"] or []:
        tree.add(
            escape(
                f"label ({label['model']}, row {label['row']}): {label['label']} "
                f"(received {label.get('label_received_at')})"
            )
        )
    console.print(tree, highlight=False)


def _version_line(v: dict[str, Any]) -> str:
    return escape(
        f"{v['ref']} ({v['flavor']}, {v['stage']}{', archived' if v['archived'] else ''}) "
        f"sha256:{v['digest'][:12]}… registered {v['created_at']} by {v['created_by']}"
    )


def _datasets(tree: Tree, datasets: list[dict[str, Any]], title: str = "datasets") -> None:
    node = tree.add(title + ("" if datasets else ": none recorded"))
    for d in datasets:
        size = f"{d['rows']} rows" if "rows" in d else f"{d.get('bytes', '?')} bytes"
        node.add(
            escape(f"{d.get('role', '?')}: {d.get('location')} {d.get('fingerprint', '')} ({size})")
        )


def _reports(tree: Tree, reports: list[dict[str, Any]]) -> None:
    node = tree.add("validation reports" + ("" if reports else ": none yet"))
    for r in reports:
        failed = (
            f", failed: {', '.join(map(str, r['failed_checks']))}" if r["failed_checks"] else ""
        )
        node.add(
            escape(
                f"{r['at']} by {r['actor']}: {'passed' if r['passed'] else 'failed'}{failed}; "
                f"data {r['data'].get('location', '?')}; metrics {_text(r['metrics'])}"
            )
        )


def _approvals(tree: Tree, approvals: list[dict[str, Any]]) -> None:
    node = tree.add("approvals" + ("" if approvals else ": none yet"))
    for a in approvals:
        comment = f": {a['comment']}" if a["comment"] else ""
        node.add(escape(f"{a['decision']} by {a['actor']} ({a['role']}) at {a['at']}{comment}"))


def _source(source: dict[str, Any] | None) -> str:
    if not source:
        return "not recorded"
    where = source.get("path") or source.get("type")
    trusted = (
        f" (pickle trusted by {source['pickle_trusted_by']})"
        if source.get("pickle_trusted_by")
        else ""
    )
    return escape(f"{source.get('kind', '?')} {where}{trusted}")


def _git(git: dict[str, Any] | None) -> str:
    if not git:
        return "no git repository recorded"
    dirty = " (dirty: uncommitted changes)" if git.get("dirty") else ""
    return escape(f"git {git.get('commit')}{dirty} in {git.get('repository')}")


def _environment(env: dict[str, Any] | None) -> str:
    if not env:
        return "not recorded"
    packages = ", ".join(f"{k} {v}" for k, v in (env.get("packages") or {}).items())
    return escape(f"Python {env.get('python')} on {env.get('platform')}; {packages}")


def _text(value: Any) -> str:
    if value in (None, "", {}, []):
        return "none"
    return escape(value if isinstance(value, str) else json.dumps(value, default=str))


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)
