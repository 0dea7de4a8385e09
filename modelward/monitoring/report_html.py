"""The monitoring report as one self-contained HTML page: inline CSS and inline SVG only.

No script, no font, no link leaves the file, and no raw row is embedded: a chart is a polyline
over one value per bucket, so a week of hourly points for 30 columns stays around 100 KB
(Evidently's row-embedding reports reach hundreds of MB). Every text that comes from data or
settings — model, column, KPI and metric names, notes — goes through :func:`html.escape`.
A bucket without data is drawn as a grey band, a chart without any as a note, never as NaN.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from modelward.errors import InvalidInputError

WIDTH, HEIGHT, PAD = 320, 120, 42
COLORS = ("#2563eb", "#ea580c", "#7c3aed", "#059669")
MAX_DOTS = 48  # beyond this, points are a line only (keeps the page small)
CSS = (
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
    "h2{margin-top:1.6em;border-bottom:1px solid #ccc}"
    ".grid{display:flex;flex-wrap:wrap;gap:10px}"
    ".chart{border:1px solid #e5e5e5;padding:4px 6px;width:326px}"
    ".chart h3{font-size:13px;margin:2px 0;overflow-wrap:anywhere}"
    ".note{color:#92400e;background:#fef3c7;padding:2px 6px;display:inline-block}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:3px 8px;"
    "text-align:left}tr.bad td{background:#fdecea}dt{font-weight:bold;float:left;width:9em}"
    "dd{margin-left:10em}svg text{font-size:10px;fill:#555}"
)


Line = tuple[str, float, str]  # label, value, colour


def render(report: dict[str, Any]) -> str:
    """The page for :func:`modelward.monitoring.report.build_report`'s data."""
    labels = [_label(b["start"], report["step"]) for b in report["buckets"]]
    body = [
        _header(report),
        _summary(report["summary"]),
        _drift(report["drift"], labels, "Data drift over time"),
        _drift(report["prediction_drift"], labels, "Prediction drift over time"),
        _performance(report["performance"], labels),
        _kpis(report["kpis"], labels),
        _resources(report["resources"], labels),
    ]
    title = escape(f"modelward monitoring report: {report['model']}")
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )


def check_target(out: Path | str) -> Path:
    """``out`` as a path a page can be written to: its folder exists and it is no folder."""
    path = Path(out).expanduser()
    if not path.resolve().parent.is_dir():
        raise InvalidInputError(
            f"cannot write the report: folder {path.parent} does not exist",
            hint="create the folder first, or give another --out path",
        )
    if path.is_dir():
        raise InvalidInputError(
            f"cannot write the report: {path} is a folder",
            hint="give a file name, e.g. report.html",
        )
    return path


def write_page(path: Path, report: dict[str, Any]) -> int:
    """Render ``report`` and write it to ``path`` atomically; returns the bytes written."""
    return write_atomic(path, render(report))


def write_atomic(path: Path, text: str) -> int:
    """Write ``text`` through a temporary file beside ``path``, so that readers see the old
    file or the whole new one, never half of it; returns the bytes written."""
    data = text.encode("utf-8")
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot write the report to {path}: {exc.strerror or exc}",
            hint="check the path and the free space",
        ) from exc
    finally:
        temp.unlink(missing_ok=True)
    return len(data)


def _header(report: dict[str, Any]) -> str:
    versions = ", ".join(str(v) for v in report["versions"]) or "none in the window"
    rows = report["rows"]
    items = {
        "model": report["model"],
        "version(s)": versions,
        "window": f"{_time(report['window']['start'])} to {_time(report['window']['end'])} UTC"
        f" ({report['window']['text']}, step {report['step']})",
        "generated at": f"{_time(report['generated_at'])} UTC",
        "rows": f"{rows['scored']} scored rows, {rows['requests']} requests, "
        f"{rows['labelled']} labelled rows",
    }
    listed = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in items.items())
    return f"<h1>Monitoring report: {escape(report['model'])}</h1><dl>{listed}</dl>"


def _summary(summary: dict[str, Any]) -> str:
    out = ["<h2>Drift over the whole window</h2>", _note(summary)]
    for version, found in summary.get("versions", {}).items():
        share = found["drift_share"]
        verdict = "dataset drift" if found["dataset_drifted"] else "no dataset drift"
        shown = "" if share is None else f", drift share {share:.2f}"
        out.append(f"<h3>version {escape(version)}: {verdict}{shown}</h3>")
        head = "".join(
            f"<th>{h}</th>"
            for h in ("column", "type", "test", "score", "threshold", "drift", "note")
        )
        rows = [
            f"<tr class='{'bad' if c['drifted'] else ''}'><td>{escape(c['column'])}</td>"
            f"<td>{escape(c['kind'])}</td><td>{escape(c['test'])}</td>"
            f"<td>{_number(c['score'])}</td><td>{_number(c['threshold'])}</td>"
            f"<td>{'DRIFT' if c['drifted'] else 'no'}</td><td>{escape(c['note'] or '')}</td></tr>"
            for c in sorted(found["columns"], key=lambda c: not c["drifted"])
        ]
        out.append(f"<table><tr>{head}</tr>{''.join(rows)}</table>")
    return "".join(out)


def _drift(section: dict[str, Any], labels: list[str], title: str) -> str:
    out = [f"<h2>{escape(title)}</h2>", _note(section)]
    if "share" in section:
        line = ("dataset drift share", section["share_threshold"], "#dc2626")
        charts = [_chart("share of drifted columns", [section["share"]], labels, [line])]
        for name, col in section["columns"].items():
            where = f"drift when {col['direction']} the line"
            heading = f"{name}: {col['test']} ({where})"
            threshold = ("threshold", col["threshold"], "#dc2626")
            charts.append(_chart(heading, [col["scores"]], labels, [threshold], col["drifted"]))
        out.append(f"<div class='grid'>{''.join(charts)}</div>")
    return "".join(out)


def _performance(section: dict[str, Any], labels: list[str]) -> str:
    out = ["<h2>Performance vs accuracy goals</h2>", _note(section)]
    metrics: dict[str, list[float | None]] = section.get("metrics", {})
    goals = section.get("goals", [])
    charts = []
    for goal in goals:
        lines = [(f"goal {k}", goal[k], "#dc2626") for k in ("min", "max") if k in goal]
        values = metrics.get(goal["metric"], [None] * len(labels))
        bad = [_outside(v, goal.get("min"), goal.get("max")) for v in values]
        charts.append(_chart(goal["metric"], [values], labels, lines, bad))
    charted = {g["metric"] for g in goals}
    charts += [_chart(n, [v], labels) for n, v in metrics.items() if n not in charted]
    if "n_labelled" in section:
        labelled = [float(n) if n else None for n in section["n_labelled"]]
        charts.append(_chart("labelled rows", [labelled], labels))
    if not goals and "goals" in section:
        out.append("<p>The model has no accuracy goals (modelward models goals NAME).</p>")
    out.append(f"<div class='grid'>{''.join(charts)}</div>")
    return "".join(out)


def _kpis(section: dict[str, Any], labels: list[str]) -> str:
    out = ["<h2>Business KPIs vs target</h2>", _note(section)]
    charts = []
    for name, kpi in section.get("series", {}).items():
        target = kpi["target"]
        lines = [] if target is None else [("target", target, "#dc2626")]
        low, high = (target, None) if kpi["direction"] == "higher" else (None, target)
        bad = [_outside(v, low, high) for v in kpi["values"]]
        heading = f"{name} ({kpi['direction']} is better)"
        charts.append(_chart(heading, [kpi["values"]], labels, lines, bad))
    out.append(f"<div class='grid'>{''.join(charts)}</div>")
    return "".join(out)


def _resources(section: dict[str, Any], labels: list[str]) -> str:
    latency = [section[f"latency_p{p}_ms"] for p in (50, 95, 99)]
    charts = [
        _chart("latency p50 / p95 / p99 (ms)", latency, labels, names=["p50", "p95", "p99"]),
        _chart("throughput (requests/s)", [section["throughput_rps"]], labels),
        _chart("error rate (status >= 500)", [section["error_rate"]], labels),
        _chart("CPU seconds", [section["cpu_seconds"]], labels),
        _chart("peak RSS (MiB)", [section["peak_rss_mb"]], labels),
    ]
    return (
        f"<h2>Latency, throughput, errors and resources</h2>{_note(section)}"
        f"<div class='grid'>{''.join(charts)}</div>"
    )


def _chart(
    title: str,
    series: Sequence[Sequence[float | None]],
    labels: list[str],
    lines: Sequence[Line] = (),
    bad: Sequence[bool | None] | None = None,
    names: Sequence[str] = (),
) -> str:
    """A small line chart: one value per bucket, horizontal lines (thresholds, goals), grey
    bands where a bucket has no value, red dots where ``bad`` marks a breach."""
    finite = [float(v) for s in series for v in s if v is not None and math.isfinite(v)]
    if not finite:
        return (
            f"<div class='chart'><h3>{escape(title)}</h3>"
            "<span class='note'>insufficient data</span></div>"
        )
    marks = [float(v) for _, v, _ in lines]
    low, high = min([0.0, *finite, *marks]), max([*finite, *marks])
    high = high + (high - low) * 0.1 or 1.0
    n = max(len(labels), 1)
    dx = (WIDTH - PAD - 4) / max(n - 1, 1)

    def x(i: int) -> float:
        return PAD + i * dx

    def y(v: float) -> float:
        return HEIGHT - 16 - (v - low) / (high - low) * (HEIGHT - 24)

    parts = [_gaps(series, x, dx)]
    for label, value, colour in lines:
        parts.append(
            f"<line x1='{PAD}' x2='{WIDTH - 4}' y1='{y(value):.1f}' y2='{y(value):.1f}' "
            f"stroke='{colour}' stroke-dasharray='4 3'><title>{escape(label)}: "
            f"{_number(value)}</title></line>"
        )
    for k, values in enumerate(series):
        parts.append(_polyline(values, x, y, COLORS[k % len(COLORS)], bad if k == 0 else None))
    parts.append(_axes(labels, low, high, x))
    legend = " ".join(
        f"<span style='color:{COLORS[k % len(COLORS)]}'>&#9632; {escape(name)}</span>"
        for k, name in enumerate(names)
    )
    svg = f"<svg width='{WIDTH}' height='{HEIGHT}' role='img'>{''.join(parts)}</svg>"
    return f"<div class='chart'><h3>{escape(title)}</h3>{svg}{legend}</div>"


def _polyline(values: Sequence[float | None], x: Any, y: Any, colour: str, bad: Any) -> str:
    """Connected runs of values as one path; dots on lone points and breaches, and — when
    there are few points — on every point, with its value as a tooltip."""
    runs: list[list[int]] = [[]]
    for i, v in enumerate(values):
        if _ok(v):
            runs[-1].append(i)
        elif runs[-1]:
            runs.append([])
    line = "".join(
        "M" + "L".join(f"{x(i):.1f} {y(values[i]):.1f}" for i in run)
        for run in runs
        if len(run) > 1
    )
    out = [f"<path d='{line}' fill='none' stroke='{colour}'/>" if line else ""]
    breach = {i for i in range(len(values)) if bad and i < len(bad) and bad[i]}
    if len(values) <= MAX_DOTS:
        for i in (i for run in runs for i in run):
            fill = "#dc2626" if i in breach else colour
            out.append(
                f"<circle cx='{x(i):.1f}' cy='{y(values[i]):.1f}' r='2.5' fill='{fill}'>"
                f"<title>{_number(values[i])}</title></circle>"
            )
        return "".join(out)
    lone = [i for run in runs if len(run) == 1 for i in run if i not in breach]
    for points, fill in ((lone, colour), (sorted(breach), "#dc2626")):
        if points:
            dots = "".join(f"M{x(i):.1f} {y(values[i]):.1f}h0" for i in points)
            out.append(
                f"<path d='{dots}' stroke='{fill}' stroke-width='5' stroke-linecap='round'/>"
            )
    return "".join(out)


def _gaps(series: Sequence[Sequence[float | None]], x: Any, dx: float) -> str:
    """One grey band per run of buckets where no series has a value."""
    empty = [not any(_ok(s[i]) for s in series) for i in range(len(series[0]))]
    bands, i = [], 0
    while i < len(empty):
        if not empty[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(empty) and empty[j + 1]:
            j += 1
        left, right = max(x(i) - dx / 2, PAD), min(x(j) + dx / 2, WIDTH - 4)
        bands.append(f"M{left:.1f} 8h{max(right - left, 2):.1f}v{HEIGHT - 24}H{left:.1f}z")
        i = j + 1
    if not bands:
        return ""
    return f"<path d='{''.join(bands)}' fill='#eee'><title>insufficient data</title></path>"


def _axes(labels: list[str], low: float, high: float, x: Any) -> str:
    base = HEIGHT - 16
    texts = [
        f"<line x1='{PAD}' x2='{WIDTH - 4}' y1='{base}' y2='{base}' stroke='#999'/>",
        f"<text x='{PAD - 2}' y='{base}' text-anchor='end'>{low:.3g}</text>",
        f"<text x='{PAD - 2}' y='14' text-anchor='end'>{high:.3g}</text>",
    ]
    if labels:
        texts.append(f"<text x='{PAD}' y='{HEIGHT - 3}'>{escape(labels[0])}</text>")
        end = x(len(labels) - 1)
        texts.append(
            f"<text x='{end:.1f}' y='{HEIGHT - 3}' text-anchor='end'>{escape(labels[-1])}</text>"
        )
    return "".join(texts)


def _note(section: dict[str, Any]) -> str:
    note = section.get("note")
    return f"<p class='note'>{escape(str(note))}</p>" if note else ""


def _outside(value: float | None, low: float | None, high: float | None) -> bool | None:
    if not _ok(value):
        return None
    assert value is not None
    return (low is not None and value < low) or (high is not None and value > high)


def _ok(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _number(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.4g}"


def _label(iso: str, step: str) -> str:
    moment = datetime.fromisoformat(iso)
    return f"{moment:%m-%d}" if step.endswith("d") else f"{moment:%m-%d %H:00}"


def _time(iso: str) -> str:
    return f"{datetime.fromisoformat(iso):%Y-%m-%d %H:%M}"
