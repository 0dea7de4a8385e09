"""``modelward drift``: compare two CSV or Parquet files column by column, streaming both.

The exit code is 0 whether or not drift is found (a finding is not an error); it is non-zero
only when the inputs cannot be compared. Scripts read ``dataset_drifted`` from ``--json``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer
from rich.table import Table

from modelward.batch.files import existing_file
from modelward.cli.output import console, parse_pairs, print_json
from modelward.errors import InvalidDataError, InvalidInputError
from modelward.monitoring.drift import DriftReport, Override, check_test, compare
from modelward.monitoring.profiles import BATCH_ROWS, DatasetProfile, profile_batches

_CONVERSION_ERROR = re.compile(r"In CSV column #(\d+): CSV conversion error")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("drift")(drift)


def drift(
    reference: Path = typer.Option(..., "--reference", "-r", help="Reference CSV or Parquet."),
    current: Path = typer.Option(..., "--current", "-c", help="Current CSV or Parquet."),
    columns: str | None = typer.Option(None, "--columns", help="Only these columns: a,b,c."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    report: Path | None = typer.Option(None, "--report", help="Also write an HTML report here."),
    share: float = typer.Option(0.5, "--share", help="Drifted share of columns = dataset drift."),
    test: list[str] = typer.Option([], "--test", help="A column's test: COLUMN=NAME."),
    threshold: list[str] = typer.Option([], "--threshold", help="A column's threshold: COLUMN=X."),
) -> None:
    """Test every common column for drift and say whether the dataset drifted (exit 0 either way)."""
    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if report is not None and not report.expanduser().resolve().parent.is_dir():
        raise InvalidInputError(
            f"cannot write the report: folder {report.parent} does not exist",
            hint="create the folder first, or give another --report path",
        )
    overrides = _overrides(parse_pairs(test, "test"), parse_pairs(threshold, "threshold"))
    ref_path, cur_path = _data_file(reference), _data_file(current)
    ref_names, cur_names = _names(ref_path), _names(cur_path)
    common = [c for c in ref_names if c in cur_names]
    if not common:
        raise InvalidInputError(
            f"{ref_path.name} and {cur_path.name} have no column in common",
            hint=f"reference columns: {', '.join(ref_names[:10]) or 'none'}; "
            f"current columns: {', '.join(cur_names[:10]) or 'none'}",
        )
    unknown = [c for c in wanted or [] if c not in common]
    if unknown:
        raise InvalidInputError(
            f"--columns names {', '.join(map(repr, unknown))}, not in both files",
            hint=f"columns in both: {', '.join(common)}",
        )
    ref_profile = profile_batches(_batches(ref_path, wanted))
    cur_profile = profile_batches(_batches(cur_path, wanted), ref_profile)
    result = compare(ref_profile, cur_profile, columns=wanted, overrides=overrides, share=share)
    if report is not None:
        report.write_text(render_html(result, ref_path.name, cur_path.name), encoding="utf-8")
    if as_json:
        print_json(_json(result, ref_profile, cur_profile))
    else:
        _print_table(result, report)


def _overrides(tests: dict[str, str], thresholds: dict[str, str]) -> dict[str, Override]:
    out: dict[str, Override] = {}
    for column in sorted(set(tests) | set(thresholds)):
        name = tests.get(column)
        if name is not None:
            check_test(name)
        value: float | None = None
        if column in thresholds:
            try:
                value = float(thresholds[column])
            except ValueError:
                raise InvalidInputError(
                    f"--threshold {column}={thresholds[column]!r} is not a number",
                    hint="write --threshold column=0.2",
                ) from None
        out[column] = Override(name, value)
    return out


def _data_file(path: Path) -> Path:
    file = existing_file(path)
    if file.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InvalidInputError(
            f"cannot read {file.name}: drift reads CSV and Parquet files",
            hint="give a .csv or .parquet file",
        )
    return file


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _names(path: Path) -> list[str]:
    try:
        if _is_parquet(path):
            return list(pq.ParquetFile(path).schema_arrow.names)
        with path.open("rb") as fh:
            return list(pacsv.open_csv(fh).schema.names)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: BaseException) -> InvalidDataError:
    kind = "Parquet" if _is_parquet(path) else "CSV"
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return InvalidDataError(
        f"cannot read {path.name}: {first}", hint=f"check that the file is valid {kind}"
    )


def _batches(path: Path, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
    """The file's record batches; whole files are never held in memory."""
    try:
        if _is_parquet(path):
            # A small read buffer instead of pre-buffering whole row groups keeps memory flat.
            schema = pq.read_schema(path)
            text = [f.name for f in schema if pa.types.is_string(f.type)]  # counted by codes
            pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20, read_dictionary=text)
            batches = pf.iter_batches(batch_size=BATCH_ROWS, columns=columns)
            schema = pf.schema_arrow
        else:
            batches, schema = _csv_batches(path, columns), pacsv.open_csv(path).schema
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:  # no rows: still name the columns, so that they report "insufficient data"
            names = columns or schema.names
            yield pa.RecordBatch.from_pylist([], schema=pa.schema([schema.field(n) for n in names]))
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise _unreadable(path, exc) from exc


def _csv_batches(path: Path, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
    """CSV batches; a column whose later values do not fit the type guessed from the first
    block is read as text from there on, so the profile counts those values as type
    violations instead of the read failing."""
    text: list[str] = []
    rows = 0
    while True:
        with path.open("rb") as fh:
            try:
                for batch in _csv_from(fh, rows, text, columns):
                    rows += batch.num_rows
                    yield batch
                return
            except pa.ArrowInvalid as exc:
                names = pacsv.open_csv(path).schema.names
                match = _CONVERSION_ERROR.search(str(exc))
                column = names[int(match.group(1))] if match else None
                if column is None or column in text:
                    raise
                text.append(column)


def _csv_from(
    fh: IO[bytes], skip: int, text: list[str], columns: list[str] | None
) -> Iterator[pa.RecordBatch]:
    reader = pacsv.open_csv(
        fh,
        read_options=pacsv.ReadOptions(block_size=1 << 22, skip_rows_after_names=skip),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(text, pa.string()), include_columns=columns
        ),
    )
    yield from reader


def _json(result: DriftReport, ref: DatasetProfile, cur: DatasetProfile) -> dict[str, object]:
    body = result.to_dict()
    rows = [{"column": c["column"], "type": c["kind"]} | c for c in body["columns"]]
    for row in rows:
        del row["kind"]
    return body | {"columns": rows, "reference_rows": ref.rows, "current_rows": cur.rows}


def _print_table(result: DriftReport, report: Path | None) -> None:
    table = Table(title="drift by column")
    for name in ("column", "type", "test", "statistic", "p-value", "threshold", "drift", "note"):
        table.add_column(name, justify="right" if name in ("statistic", "p-value") else "left")
    for c in result.columns:
        table.add_row(
            c.column,
            c.kind,
            c.test,
            "-" if c.statistic is None else f"{c.statistic:.4g}",
            "-" if c.p_value is None else f"{c.p_value:.3g}",
            f"{c.threshold:g}",
            "[bold red]DRIFT[/]" if c.drifted else "no",
            c.note or "",
        )
    console.print(table)
    for label, names in (("only in current", result.added), ("only in reference", result.removed)):
        if names:
            console.print(f"columns {label}: {', '.join(names)}", highlight=False)
    verdict = "[bold red]DRIFT[/]" if result.dataset_drifted else "[green]no drift[/]"
    console.print(
        f"dataset: {verdict} — {len(result.drifted_columns)} of {len(result.tested)} tested "
        f"columns drifted (share {result.drift_share:.2f}, threshold {result.share:g})",
        highlight=False,
    )
    if report is not None:
        console.print(f"report written to {report}", highlight=False, soft_wrap=True)


def render_html(result: DriftReport, reference: str, current: str) -> str:
    """One self-contained page: a verdict, a table, and SVG bars (no script, no network)."""
    esc = html.escape
    rows = []
    for c in result.columns:
        stat = "-" if c.statistic is None else f"{c.statistic:.4g}"
        p = "-" if c.p_value is None else f"{c.p_value:.3g}"
        mark = "DRIFT" if c.drifted else "no"
        rows.append(
            f"<tr class='{'bad' if c.drifted else ''}'><td>{esc(c.column)}</td><td>{c.kind}</td>"
            f"<td>{c.test}</td><td>{stat}</td><td>{p}</td><td>{c.threshold:g}</td><td>{mark}</td>"
            f"<td>{esc(c.note or '')}<br>{_svg(c.bars)}</td></tr>"
        )
    verdict = "Dataset drift detected" if result.dataset_drifted else "No dataset drift"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>modelward drift</title><style>"
        "body{font-family:sans-serif;margin:2em}td,th{border-bottom:1px solid #ddd;padding:4px 8px;"
        "text-align:left;vertical-align:top}tr.bad td{background:#fdecea}</style></head><body>"
        f"<h1>{verdict}</h1><p>reference <b>{esc(reference)}</b>, current <b>{esc(current)}</b>: "
        f"{len(result.drifted_columns)} of {len(result.tested)} tested columns drifted "
        f"(share {result.drift_share:.2f}, threshold {result.share:g}). "
        "Grey bars: reference shares; blue bars: current shares.</p><table><tr><th>column</th>"
        "<th>type</th><th>test</th><th>statistic</th><th>p-value</th><th>threshold</th>"
        f"<th>drift</th><th>distribution</th></tr>{''.join(rows)}</table></body></html>\n"
    )


def _svg(bars: tuple[list[str], list[float], list[float]] | None, width: int = 360) -> str:
    if not bars or not bars[0]:
        return ""
    labels, ref, cur = bars
    top = max(max(ref), max(cur), 1e-12)
    step = width / len(labels)
    shapes = []
    for i, label in enumerate(labels):
        for j, (share, color) in enumerate(((ref[i], "#999"), (cur[i], "#36c"))):
            h = 60 * share / top
            x = i * step + j * step / 2
            shapes.append(
                f"<rect x='{x:.1f}' y='{60 - h:.1f}' width='{step / 2 - 1:.1f}' height='{h:.1f}' "
                f"fill='{color}'><title>{html.escape(label)}: {share:.3f}</title></rect>"
            )
    return f"<svg width='{width}' height='62' role='img'>{''.join(shapes)}</svg>"
