"""Model cards as Markdown or self-contained HTML (inline CSS, no external assets, no scripts).

Both formats render the same blocks, built once from the card; every value is escaped for the
format it lands in (HTML entities; in Markdown also table pipes), so narrative text cannot
inject markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modelward.governance.cards import NARRATIVE, NOT_DOCUMENTED, SECTIONS

FORMATS = ("md", "html", "json")


@dataclass(frozen=True)
class Block:
    """Narrative ``text``, a ``missing`` note, or a ``table`` with a header row."""

    kind: str
    text: str = ""
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def render_card(card: dict[str, Any], fmt: str = "md") -> str:
    """The card as ``md``, ``html`` or ``json`` text."""
    if fmt == "json":
        return json.dumps(card, indent=2, default=str) + "\n"
    sections = [(SECTIONS[key], _blocks(key, card)) for key in SECTIONS]
    if card["additional_information"]:
        pairs = sorted(card["additional_information"].items())
        sections.append(("Additional information", [_pairs(pairs, ("field", "text"))]))
    return _html(card, sections) if fmt == "html" else _markdown(card, sections)


def _blocks(key: str, card: dict[str, Any]) -> list[Block]:
    if key in NARRATIVE:
        text = card[key]
        return [Block("text", text)] if text else [Block("missing", NOT_DOCUMENTED)]
    blocks = _facts(key, card[key])
    if key in card["notes"]:
        blocks.insert(0, Block("text", card["notes"][key]))
    return blocks


def _facts(key: str, value: Any) -> list[Block]:
    builders: dict[str, Callable[[Any], list[Block]]] = {
        "model_details": lambda v: [_pairs((k.replace("_", " "), x) for k, x in v.items())],
        "metrics": _metrics,
        "evaluation_data": _evaluation,
        "training_data": _training,
        "quantitative_analyses": _analyses,
    }
    return builders[key](value)


def _metrics(value: dict[str, Any]) -> list[Block]:
    registered = value["registered"]
    goals = tuple(
        (g["metric"], g["target"], _cell(g["value"]), _verdict(g)) for g in value["goals"]
    )
    return [
        _pairs(registered.items(), ("metric", "value"))
        if registered
        else Block("missing", "no metrics registered"),
        Block("table", header=("goal", "target", "latest validation", "met"), rows=goals)
        if goals
        else Block("missing", "no accuracy goals set"),
    ]


def _evaluation(reports: list[dict[str, Any]]) -> list[Block]:
    if not reports:
        return [Block("missing", "no validation report yet")]
    rows = tuple(
        (
            r["at"],
            r["actor"],
            "passed" if r["passed"] else "failed",
            _dataset(r["data"]),
            _cell(r["metrics"]),
        )
        for r in reports
    )
    return [Block("table", header=("validated", "by", "result", "data", "metrics"), rows=rows)]


def _training(datasets: list[dict[str, Any]]) -> list[Block]:
    if not datasets:
        return [Block("missing", "no training data recorded")]
    rows = tuple(
        (_cell(d.get("role")), _cell(d.get("location")), _cell(d.get("fingerprint")), _size(d))
        for d in datasets
    )
    return [Block("table", header=("role", "location", "fingerprint", "size"), rows=rows)]


def _analyses(value: dict[str, Any]) -> list[Block]:
    if value.get("segments") is None:
        return [
            Block(
                "missing",
                "no per-segment analysis: pass --segments COLUMN --data FILE --label-column y",
            )
        ]
    names = value["metrics"]
    intro = f"{value['task']} metrics on {value['data']} by {value['column']!r} (label {value['label_column']!r})"
    rows = [
        (str(s["segment"]), str(s["rows"]), *(_cell(s[m]) for m in names))
        for s in value["segments"]
    ]
    return [
        Block("text", intro),
        Block("table", header=("segment", "rows", *names), rows=tuple(rows)),
    ]


def _pairs(items: Any, header: tuple[str, str] = ("field", "value")) -> Block:
    return Block("table", header=header, rows=tuple((str(k), _cell(v)) for k, v in items))


def _dataset(data: dict[str, Any]) -> str:
    facts = [str(data[k]) for k in ("fingerprint",) if data.get(k)]
    facts += [f"{data['rows']} rows"] if data.get("rows") is not None else []
    where = str(data.get("location") or "-")
    return f"{where} ({', '.join(facts)})" if facts else where


def _size(dataset: dict[str, Any]) -> str:
    if "rows" in dataset:
        return f"{dataset['rows']} rows"
    return f"{dataset['bytes']} bytes" if "bytes" in dataset else "-"


def _verdict(goal: dict[str, Any]) -> str:
    if goal["met"] is None:
        return "not validated yet" if goal["validated_at"] is None else "unknown"
    return "yes" if goal["met"] else "no"


def _cell(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


# --- Markdown ---------------------------------------------------------------------------------
def _md(text: str) -> str:
    """Text that Markdown viewers show as written, never as HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _md_cell(text: str) -> str:
    return _md(text).replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _markdown(card: dict[str, Any], sections: list[tuple[str, list[Block]]]) -> str:
    lines = [
        f"# {_md(card['title'])}",
        "",
        f"_Generated {_md(card['generated_at'])} by modelward._",
        "",
    ]
    for title, blocks in sections:
        lines += [f"## {title}", ""]
        for block in blocks:
            if block.kind == "text":
                lines += [_md(block.text), ""]
            elif block.kind == "missing":
                lines += [f"_{_md(block.text)}_", ""]
            else:
                lines.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
                lines.append("|" + "---|" * len(block.header))
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
                lines.append("")
    return "\n".join(lines)


# --- HTML -------------------------------------------------------------------------------------
_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;margin:0;background:#f6f7f9}
main{max-width:60rem;margin:2rem auto;padding:0 1.5rem 2rem;background:#fff;border:1px solid #e1e4ea}
h1{font-size:1.6rem;margin:1.5rem 0 .25rem}h2{font-size:1.15rem;border-bottom:1px solid #e1e4ea;padding-bottom:.25rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #e1e4ea;padding:.35rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f0f2f5}.meta,.missing{color:#6b7280}.missing{font-style:italic}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _html(card: dict[str, Any], sections: list[tuple[str, list[Block]]]) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(card['title'])}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_h(card['title'])}</h1>",
        f'<p class="meta">Generated {_h(card["generated_at"])} by modelward.</p>',
    ]
    for title, blocks in sections:
        parts.append(f"<section><h2>{_h(title)}</h2>")
        parts += [_html_block(b) for b in blocks]
        parts.append("</section>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _html_block(block: Block) -> str:
    if block.kind == "missing":
        return f'<p class="missing">{_h(block.text)}</p>'
    if block.kind == "text":
        paragraphs = [p for p in block.text.replace("\r", "").split("\n\n") if p.strip()]
        return "".join(f"<p>{_h(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    head = "".join(f"<th>{_h(h)}</th>" for h in block.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_h(c)}</td>" for c in row) + "</tr>" for row in block.rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
