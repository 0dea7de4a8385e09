"""Roll the inference log up into hourly, mergeable profiles per model version.

Only new files are read. Log file names start with the nanosecond they were named at, so they
sort in time — almost: a writer names a file before it writes and renames it, so a file can
appear after a newer-named one. ``rollup_state`` therefore keeps, per model, a low watermark
(``last_file``: every file named up to it is done) and the names of the files done after it
(``recent_files``); the watermark moves only past names older than :data:`LATE`, so a file that
appears up to that long after it was named is still rolled up, exactly once. Each file's answered rows (status 200) are grouped by version and hour,
profiled against the version's reference profile (same bins, so windows merge exactly), and
merged into the ``profiles`` rows of those hours in one transaction with the new watermark — a
run that fails changes nothing, and two runs at once cannot count a file twice.

A damaged file is skipped and reported (and not read again); the others are still rolled up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelward.artifacts import ArtifactStore
from modelward.errors import ModelwardError
from modelward.monitoring.inference_log import inference_root
from modelward.monitoring.partitions import FILE_GLOB
from modelward.monitoring.profiles import DatasetProfile, profile_table
from modelward.monitoring.reference import ReferenceProfile, load_reference
from modelward.monitoring.tables import INPUT_PREFIX, OUTPUT_PREFIX
from modelward.refs import check_name
from modelward.store.engine import WRITE_OPTION
from modelward.store.sql import SqlStore
from modelward.store.tables import ProfileRow, RollupStateRow, utcnow

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)
LATE = timedelta(minutes=10)
KINDS = {"input": INPUT_PREFIX, "output": OUTPUT_PREFIX}


@dataclass
class RollupResult:
    """What one model's rollup read and wrote."""

    model: str
    files: int = 0
    rows: int = 0
    windows: int = 0
    skipped_files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def rollup(
    store: SqlStore,
    artifacts: ArtifactStore,
    home: Path,
    *,
    model: str | None = None,
    now: datetime | None = None,
) -> list[RollupResult]:
    """Roll up the new log files of ``model`` (or of every model in the log)."""
    root = inference_root(home)
    if model is not None:
        models = [check_name(model)]
    else:
        models = sorted(p.name.split("=", 1)[1] for p in root.glob("model=*"))
    return [_rollup_model(store, artifacts, root, name, now or utcnow()) for name in models]


def _rollup_model(
    store: SqlStore, artifacts: ArtifactStore, root: Path, model: str, now: datetime
) -> RollupResult:
    result = RollupResult(model)
    _ensure_state(store, model, now)
    with Session(store.engine) as session:
        state = session.get(RollupStateRow, model)
        seen = (state.last_file, list(state.recent_files)) if state else (None, [])
    pending = _pending(root, model, *seen)
    if not pending and _advance(*seen, [], now) == seen:
        return result  # nothing new, and the watermark stays where it is
    references: dict[int, ReferenceProfile | None] = {}
    profiles: dict[tuple[int, datetime, str], DatasetProfile] = {}
    for path in pending:
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            log.warning("skipping unreadable inference log file %s: %s", path, exc)
            result.skipped_files.append(str(path))
            continue
        result.files += 1
        result.rows += _profile_file(store, artifacts, model, table, references, profiles)
    done = [p.name for p in pending]
    if _write(store, model, seen, done, profiles, now):
        result.windows = len({(v, start) for v, start, _ in profiles})
    else:
        result.files, result.rows = 0, 0
    return result


def _ensure_state(store: SqlStore, model: str, now: datetime) -> None:
    """Create the model's state row once, so that every rollup can lock it."""
    with Session(store.engine) as session:
        if session.get(RollupStateRow, model) is not None:
            return
    try:
        engine = store.engine.execution_options(**{WRITE_OPTION: True})
        with Session(engine) as session, session.begin():
            session.add(RollupStateRow(model=model, recent_files=[], updated_at=now))
    except IntegrityError:
        pass  # another rollup created it first


def _pending(root: Path, model: str, last: str | None, recent: list[str]) -> list[Path]:
    """Log files of ``model`` not rolled up yet, oldest name first."""
    done = set(recent)
    files = sorted(root.glob(f"model={model}/{FILE_GLOB.split('/', 1)[1]}"), key=lambda p: p.name)
    return [p for p in files if (last is None or p.name > last) and p.name not in done]


def _advance(
    last: str | None, recent: list[str], done: list[str], now: datetime
) -> tuple[str | None, list[str]]:
    """The new low watermark (past every done name older than :data:`LATE`) and the names
    done after it."""
    late = int((now - LATE).timestamp() * 1e9)
    names = sorted(set(recent) | set(done))
    settled = [n for n in names if _named_at_name(n) <= late]
    low = max([n for n in (last, *settled) if n is not None], default=None)
    return low, [n for n in names if low is None or n > low]


def _named_at_name(name: str) -> int:
    """The nanosecond a log file was named at (``part-<ns>-<pid>-<seq>.parquet``)."""
    try:
        return int(name.split("-")[1])
    except (IndexError, ValueError):
        return 0  # not a name the log writes: old enough


def _profile_file(
    store: SqlStore,
    artifacts: ArtifactStore,
    model: str,
    table: pa.Table,
    references: dict[int, ReferenceProfile | None],
    profiles: dict[tuple[int, datetime, str], DatasetProfile],
) -> int:
    answered = table.filter(pc.equal(table["status"], 200))
    if answered.num_rows == 0:
        return 0
    hours = pc.floor_temporal(answered["time"], unit="hour")
    keyed = answered.append_column("__hour", hours)
    rows = 0
    for version in pc.unique(keyed["version"]).to_pylist():
        reference = _reference(store, artifacts, model, int(version), references)
        of_version = keyed.filter(pc.equal(keyed["version"], version))
        for hour in pc.unique(of_version["__hour"]).to_pylist():
            part = of_version.filter(pc.equal(of_version["__hour"], hour))
            start = hour.replace(tzinfo=UTC) if hour.tzinfo is None else hour.astimezone(UTC)
            for kind, prefix in KINDS.items():
                columns = _columns(part, prefix)
                if columns.num_columns == 0:
                    continue
                ref = None if reference is None else _side(reference, kind)
                profile = profile_table(columns, ref, pii=_pii(ref))
                key = (int(version), start, kind)
                profiles[key] = profiles[key].merge(profile) if key in profiles else profile
            rows += part.num_rows
    return rows


def _columns(part: pa.Table, prefix: str) -> pa.Table:
    """The ``prefix`` columns of ``part`` under their own names, leaving out columns that are all
    null here (other versions' columns, when a file holds several)."""
    names = [
        n for n in part.column_names if n.startswith(prefix) and part[n].null_count < part.num_rows
    ]
    return part.select(names).rename_columns([n[len(prefix) :] for n in names])


def _side(reference: ReferenceProfile, kind: str) -> DatasetProfile | None:
    return reference.inputs if kind == "input" else reference.outputs


def _pii(reference: DatasetProfile | None) -> list[str]:
    if reference is None:
        return []
    return [name for name, col in reference.columns.items() if col.pii]


def _reference(
    store: SqlStore,
    artifacts: ArtifactStore,
    model: str,
    version: int,
    cache: dict[int, ReferenceProfile | None],
) -> ReferenceProfile | None:
    if version not in cache:
        try:
            found = store.get_version(model, version)
            cache[version] = load_reference(artifacts, found.lineage)
        except ModelwardError as exc:  # a deleted version: profile without a reference
            log.warning("no reference profile for %s/%d: %s", model, version, exc.message)
            cache[version] = None
    return cache[version]


def _write(
    store: SqlStore,
    model: str,
    seen: tuple[str | None, list[str]],
    done: list[str],
    profiles: dict[tuple[int, datetime, str], DatasetProfile],
    now: datetime,
) -> bool:
    """Merge the new profiles into their windows and record the files as done, all or nothing;
    ``False`` when another rollup of the model ran meanwhile (its work stands, ours is dropped)."""
    engine = store.engine.execution_options(**{WRITE_OPTION: True})
    with Session(engine) as session, session.begin():
        state = session.execute(
            select(RollupStateRow).where(RollupStateRow.model == model).with_for_update()
        ).scalar_one_or_none()
        if state is None or (state.last_file, list(state.recent_files)) != seen:
            log.info("another rollup of %s ran meanwhile; leaving its work as it is", model)
            return False  # nothing was changed: the transaction ends empty
        for (version, start, kind), profile in sorted(profiles.items(), key=_order):
            _merge_row(session, model, version, start, kind, profile, now)
        state.last_file, state.recent_files = _advance(*seen, done, now)
        state.updated_at = now
        newest = max((start for _, start, _ in profiles), default=None)
        if newest is not None:
            state.watermark = max(state.watermark or newest, newest)
    return True


def _order(item: tuple[tuple[int, datetime, str], DatasetProfile]) -> tuple[int, datetime, str]:
    return item[0]


def _merge_row(
    session: Session,
    model: str,
    version: int,
    start: datetime,
    kind: str,
    profile: DatasetProfile,
    now: datetime,
) -> None:
    row = session.execute(
        select(ProfileRow)
        .where(
            ProfileRow.model == model,
            ProfileRow.version == version,
            ProfileRow.window_start == start,
            ProfileRow.window_end == start + WINDOW,
            ProfileRow.kind == kind,
        )
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        session.add(
            ProfileRow(
                model=model,
                version=version,
                window_start=start,
                window_end=start + WINDOW,
                kind=kind,
                profile=profile.to_dict(),
                rows=profile.rows,
                created_at=now,
            )
        )
        return
    merged = DatasetProfile.from_dict(row.profile).merge(profile)
    row.profile, row.rows = merged.to_dict(), merged.rows


def window_profile(
    store: SqlStore,
    model: str,
    version: int,
    start: datetime,
    end: datetime,
    *,
    kind: str = "input",
) -> DatasetProfile | None:
    """The merged profile of ``model/version``'s hourly windows overlapping ``[start, end)``
    (``None`` when no rows were rolled up there). Versions have their own reference bins, so
    windows merge per version only."""
    query = select(ProfileRow.profile).where(
        ProfileRow.model == model,
        ProfileRow.version == version,
        ProfileRow.kind == kind,
        ProfileRow.window_end > start,
        ProfileRow.window_start < end,
    )
    with Session(store.engine) as session:
        found = [DatasetProfile.from_dict(p) for p in session.execute(query).scalars()]
    merged: DatasetProfile | None = None
    for profile in found:
        merged = profile if merged is None else merged.merge(profile)
    return merged


def versions_in_window(store: SqlStore, model: str, start: datetime, end: datetime) -> list[int]:
    """The versions of ``model`` with rolled-up rows in ``[start, end)``."""
    query = (
        select(ProfileRow.version)
        .where(ProfileRow.model == model, ProfileRow.window_end > start)
        .where(ProfileRow.window_start < end)
        .distinct()
    )
    with Session(store.engine) as session:
        return sorted(int(v) for v in session.execute(query).scalars())
