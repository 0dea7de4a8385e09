"""``modelward models …``: register, list, show, alias, archive and delete models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.table import Table

from modelward.batch.files import existing_file, read_table
from modelward.cli.output import client, console, parse_pairs, parse_values, print_json
from modelward.errors import InvalidInputError, InvalidSignatureError
from modelward.refs import check_name, parse_ref
from modelward.store.entities import Model, ModelVersion

app = typer.Typer(help="Register, list, alias, archive and delete models.", no_args_is_help=True)
SAMPLE_ROWS = 1000

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


@app.command("register")
def register(
    path: Path = typer.Argument(..., help="Model file or folder (skops, pickle, ONNX, PMML, …)."),
    name: str = typer.Option(..., "--name", "-n", help="Model name; created when new."),
    flavor: str | None = typer.Option(
        None, "--flavor", "-f", help="Flavor; detected when left out."
    ),
    sample: Path | None = typer.Option(None, "--sample", help="Input example file (signature)."),
    training_data: Path | None = typer.Option(
        None, "--training-data", help="Training data file (lineage)."
    ),
    signature: Path | None = typer.Option(None, "--signature", help="Signature YAML/JSON file."),
    metric: list[str] = typer.Option([], "--metric", "-m", help="Metric NAME=VALUE (repeatable)."),
    param: list[str] = typer.Option([], "--param", "-p", help="Parameter NAME=VALUE (repeatable)."),
    tag: list[str] = typer.Option([], "--tag", "-t", help="Tag NAME=VALUE (repeatable)."),
    description: str | None = typer.Option(
        None, "--description", "-d", help="Version description."
    ),
    risk_tier: str | None = typer.Option(
        None, "--risk-tier", help="low, medium or high (new models)."
    ),
    trust_pickle: bool = typer.Option(
        False, "--trust-pickle", help="Allow loading a pickle/joblib file (it can run code)."
    ),
    compile_to: str | None = typer.Option(
        None,
        "--compile",
        help="Also compile to this target ('onnx'; scikit-learn models), kept only if it matches.",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Register a model file or folder as the next version of NAME."""
    check_name(name)
    metrics = parse_values(metric, "metric")
    example = read_table(sample, limit=SAMPLE_ROWS) if sample else None
    training = existing_file(training_data) if training_data else None
    version = client().register_model(
        path,
        name,
        flavor=flavor,
        signature=_read_signature(signature) if signature else None,
        input_example=example,
        training_data=training,
        metrics=metrics,
        params=parse_values(param, "param"),
        tags=parse_pairs(tag, "tag"),
        description=description,
        trust_pickle=trust_pickle,
        risk_tier=risk_tier,
        compile=compile_to,
    )
    if json_out:
        print_json(version.to_dict())
        return
    console.print(
        f"registered [bold]{version.ref}[/] ({version.flavor}, sha256:{version.digest[:12]}…)",
        highlight=False,
    )
    compiled = version.flavor_config.get("compiled")
    if compiled:
        verdict = (
            f"compiled to ONNX (max difference {compiled['max_difference']:.2g} ≤ {compiled['tolerance']:g})"
            if compiled["onnx"]
            else f"not compiled: {compiled['reason']}"
        )
        console.print(verdict, highlight=False)


def _read_signature(path: Path) -> dict[str, Any]:
    file = existing_file(path)
    try:
        data = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise InvalidSignatureError(f"cannot parse {file.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidSignatureError(f"{file.name} must hold a mapping with 'inputs' and 'outputs'")
    return data


@app.command("list")
def list_models(
    search: str | None = typer.Option(None, "--search", "-s", help="Text in name or description."),
    tag: list[str] = typer.Option([], "--tag", "-t", help="Only models with tag NAME=VALUE."),
    owner: str | None = typer.Option(None, "--owner", help="Only models of this owner."),
    risk_tier: str | None = typer.Option(None, "--risk-tier", help="Only this risk tier."),
    limit: int = typer.Option(100, "--limit", help="Page size."),
    offset: int = typer.Option(0, "--offset", help="Models to skip."),
    json_out: bool = JSON_OPTION,
) -> None:
    """List registered models."""
    models = client().search(
        search,
        tags=parse_pairs(tag, "tag") or None,
        owner=owner,
        risk_tier=risk_tier,
        limit=limit,
        offset=offset,
    )
    if json_out:
        print_json([m.to_dict() for m in models])
        return
    table = Table("name", "latest", "aliases", "owner", "risk", "description")
    for m in models:
        table.add_row(
            m.name,
            str(m.latest_version or "-"),
            _aliases(m),
            m.owner,
            m.risk_tier,
            m.description or "",
        )
    console.print(table)


def _aliases(model: Model) -> str:
    return ", ".join(f"{a}→{v}" for a, v in model.aliases.items())


@app.command("show")
def show(
    ref: str = typer.Argument(..., help="NAME, NAME/VERSION or NAME@ALIAS."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Show one version: digest, flavor, signature, metrics, lineage."""
    version = client().get(ref)
    if json_out:
        print_json(version.to_dict())
        return
    table = Table(show_header=False, box=None)
    for key, value in _version_fields(version):
        table.add_row(f"[bold]{key}[/]", value)
    console.print(table)


def _version_fields(v: ModelVersion) -> list[tuple[str, str]]:
    sig = v.signature
    inputs = ", ".join(f"{c.name}:{c.type}" for c in sig.inputs) if sig else "(none)"
    outputs = ", ".join(f"{c.name}:{c.type}" for c in sig.outputs) if sig else "(none)"
    lineage = v.lineage
    datasets = "; ".join(
        f"{d.get('location')} {d.get('fingerprint', '')}" for d in lineage.get("datasets", [])
    )
    git = lineage.get("git") or {}
    return [
        ("version", v.ref),
        ("flavor", v.flavor),
        ("digest", f"sha256:{v.digest}"),
        ("size", f"{v.size_bytes} bytes"),
        ("stage", v.stage + (" (archived)" if v.archived else "")),
        ("aliases", ", ".join(v.aliases) or "-"),
        ("created", f"{v.created_at:%Y-%m-%d %H:%M:%S} UTC by {v.created_by}"),
        ("description", v.description or "-"),
        ("inputs", inputs),
        ("outputs", outputs),
        ("metrics", json.dumps(v.metrics) if v.metrics else "-"),
        ("params", json.dumps(v.params) if v.params else "-"),
        ("tags", json.dumps(v.tags) if v.tags else "-"),
        ("data", datasets or "-"),
        ("code", f"{git.get('commit', '-')}{' (dirty)' if git.get('dirty') else ''}"),
        ("python", lineage.get("environment", {}).get("python", "-")),
    ]


@app.command("versions")
def versions(
    name: str = typer.Argument(..., help="Model name."),
    all_versions: bool = typer.Option(False, "--all", "-a", help="Include archived versions."),
    limit: int = typer.Option(100, "--limit", help="Page size."),
    offset: int = typer.Option(0, "--offset", help="Versions to skip."),
    json_out: bool = JSON_OPTION,
) -> None:
    """List the versions of a model, newest first."""
    found = client().versions(name, include_archived=all_versions, limit=limit, offset=offset)
    if json_out:
        print_json([v.to_dict() for v in found])
        return
    table = Table("version", "flavor", "digest", "aliases", "stage", "created", "metrics")
    for v in found:
        table.add_row(
            str(v.version),
            v.flavor,
            v.digest[:12],
            ", ".join(v.aliases),
            v.stage + (" (archived)" if v.archived else ""),
            f"{v.created_at:%Y-%m-%d %H:%M}",
            json.dumps(v.metrics) if v.metrics else "",
        )
    console.print(table)


@app.command("alias")
def alias(
    name: str = typer.Argument(..., help="Model name."),
    version: int = typer.Argument(..., help="Version the alias should point at."),
    alias_name: str = typer.Argument(..., metavar="ALIAS", help="Alias, e.g. champion."),
) -> None:
    """Point ALIAS of model NAME at VERSION (atomic; the move is recorded)."""
    move = client().set_alias(name, alias_name, version)
    old = f"from {move.from_version} " if move.from_version is not None else ""
    console.print(f"{name}@{alias_name}: {old}→ {move.to_version}", highlight=False)


@app.command("unalias")
def unalias(
    name: str = typer.Argument(..., help="Model name."),
    alias_name: str = typer.Argument(..., metavar="ALIAS", help="Alias to remove."),
) -> None:
    """Remove ALIAS from model NAME (the removal is recorded)."""
    move = client().delete_alias(name, alias_name)
    console.print(f"{name}@{alias_name} removed (was {move.from_version})", highlight=False)


@app.command("aliases")
def aliases(
    name: str = typer.Argument(..., help="Model name."),
    history: bool = typer.Option(False, "--history", help="Show every move, oldest first."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Show a model's aliases, or with --history every move: who, when, from, to."""
    mw = client()
    if history:
        moves = mw.alias_history(name)
        if json_out:
            print_json([m.to_dict() for m in moves])
            return
        table = Table("when (UTC)", "alias", "from", "to", "by")
        for m in moves:
            table.add_row(
                f"{m.at:%Y-%m-%d %H:%M:%S}",
                m.alias,
                _num(m.from_version),
                _num(m.to_version),
                m.actor,
            )
        console.print(table)
        return
    current = mw.get_model(name).aliases
    if json_out:
        print_json(current)
        return
    for key, value in current.items():
        console.print(f"{name}@{key} → {value}", highlight=False)


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


@app.command("archive")
def archive(ref: str = typer.Argument(..., help="NAME/VERSION.")) -> None:
    """Hide a version from default listings; it stays loadable by exact version."""
    version = client().archive(ref)
    console.print(f"archived {version.ref}", highlight=False)


@app.command("restore")
def restore(ref: str = typer.Argument(..., help="NAME/VERSION.")) -> None:
    """Undo archive: show the version in listings again."""
    version = client().restore(ref)
    console.print(f"restored {version.ref}", highlight=False)


@app.command("delete")
def delete(
    ref: str = typer.Argument(..., help="NAME/VERSION (one version) or NAME (the whole model)."),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="Do not ask before deleting a whole model."
    ),
) -> None:
    """Delete a version, or a whole model; refused while an alias points at it."""
    mw = client()
    if parse_ref(ref).is_latest and not yes:
        model = mw.get_model(ref)
        if not typer.confirm(f"delete model {model.name} and all its versions?"):
            raise InvalidInputError("not deleted", hint="pass --yes to delete without asking")
    gone = mw.delete(ref)
    console.print(f"deleted {', '.join(v.ref for v in gone) or 'an empty model'}", highlight=False)
