"""Validation report documents: canonical JSON and a self-contained HTML page, stored as blobs.

The HTML blob is stored first; the JSON document records its digest under ``html_digest``, and
the JSON blob's digest is the report row's ``report_digest``: one digest reaches both.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from modelward.artifacts import ArtifactStore

FORMAT = "modelward-validation-report/1"
_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.3rem .6rem;
text-align:left;vertical-align:top}th{background:#f4f4f4}.passed{color:#17702f}.failed{color:#b00020;
font-weight:600}.skipped{color:#777}code{font-size:12px}
"""


def store_documents(
    artifacts: ArtifactStore, document: dict[str, Any], workdir: Path
) -> tuple[str, list[str]]:
    """Store the HTML page and the JSON document; return the JSON blob's digest and the
    digests this call created (to remove if the report is then not recorded)."""
    page = workdir / "report.html"
    page.write_text(render_html(document), encoding="utf-8")
    html_blob = artifacts.put_file(page)
    document = {**document, "html_digest": html_blob.digest}
    data = workdir / "report.json"
    data.write_text(json.dumps(document, indent=2, sort_keys=True, default=str), encoding="utf-8")
    json_blob = artifacts.put_file(data)
    created = [b.digest for b in (html_blob, json_blob) if b.created]
    return json_blob.digest, created


def read_document(artifacts: ArtifactStore, report_digest: str) -> dict[str, Any]:
    """The JSON document of a stored report (verified against its digest)."""
    with artifacts.open_verified(report_digest) as fh:
        out: dict[str, Any] = json.load(fh)
    return out


def read_html(artifacts: ArtifactStore, report_digest: str) -> str:
    """The HTML page of a stored report."""
    digest = read_document(artifacts, report_digest)["html_digest"]
    with artifacts.open_verified(digest) as fh:
        return fh.read().decode("utf-8")


def render_html(doc: dict[str, Any]) -> str:
    """One HTML page, no external resources: verdict, data, metrics, checks, policy."""
    e = html.escape
    verdict = "passed" if doc["passed"] else "failed"
    champion = doc.get("champion") or {}
    champion_metrics = champion.get("metrics") or {}
    metric_rows = "".join(
        f"<tr><td>{e(k)}</td><td>{v:.6g}</td><td>{_num(champion_metrics.get(k))}</td></tr>"
        for k, v in sorted(doc["metrics"].items())
    )
    check_rows = "".join(
        f"<tr><td class='{e(c['status'])}'>{e(c['status'])}</td><td>{e(c['kind'])}</td>"
        f"<td>{e(c['name'])}</td><td>{e(c['detail'])}</td></tr>"
        for c in doc["checks"]
    )
    data = doc["data"]
    facts = [
        ("version", f"{doc['ref']} (sha256:{doc['digest']})"),
        ("risk tier / policy", f"{doc['policy']['tier']} — {doc['policy']['source']}"),
        ("validated by", f"{doc['actor']} at {doc['created_at']}"),
        ("data", f"{data.get('location')} — {data.get('fingerprint', '')}"),
        ("rows / label", f"{data.get('rows')} rows, label column {data.get('label_column')!r}"),
        ("task", f"{doc['task']} (averaging: {doc['averaging']})"),
        ("champion", f"{champion['ref']}" if champion else "none (first version)"),
    ]
    fact_rows = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in facts)
    policy = e(json.dumps(doc["policy"].get("rules", {}), indent=2))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Validation of {e(doc['ref'])}"
        f"</title><style>{_STYLE}</style></head><body>"
        f"<h1>Validation of {e(doc['ref'])}: <span class='{verdict}'>{verdict}</span></h1>"
        f"<table>{fact_rows}</table>"
        f"<h2>Metrics</h2><table><tr><th>metric</th><th>candidate</th><th>champion</th></tr>"
        f"{metric_rows}</table>"
        f"<h2>Checks</h2><table><tr><th>status</th><th>kind</th><th>check</th><th>detail</th>"
        f"</tr>{check_rows}</table>"
        f"<h2>Policy</h2><pre><code>{policy}</code></pre>"
        f"<p><small>{e(FORMAT)}</small></p></body></html>"
    )


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"
