"""The inference log rolled up into hourly profiles: incremental, exact, all-or-nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.client import Client
from modelward.monitoring.inference_log import inference_root
from modelward.monitoring.rollup import LATE, rollup, versions_in_window, window_profile
from modelward.store.tables import ProfileRow, RollupStateRow
from tests.monitoring.windowed import HOUR0, population, register, traffic

LATER = HOUR0 + timedelta(days=30)


def run(client: Client, **kw: object) -> list:  # type: ignore[type-arg]
    store = client.registry.store
    return rollup(store, client.registry.artifacts, client.settings.home, now=LATER, **kw)  # type: ignore[arg-type]


def test_hourly_profiles_count_every_row_once(client: Client, tmp_path: Path) -> None:
    register(client, tmp_path)
    home = client.settings.home
    traffic(home, population(400), hour=HOUR0)
    traffic(home, population(300, seed=2), hour=HOUR0 + timedelta(hours=1))
    (first,) = run(client)
    assert (first.files, first.rows, first.windows, first.skipped_files) == (2, 700, 2, [])
    store = client.registry.store
    whole = window_profile(store, "loans", 1, HOUR0, HOUR0 + timedelta(hours=2))
    assert whole is not None and whole.rows == 700
    assert whole.columns["age"].bins is not None  # counted over the reference's bins
    assert sum(whole.columns["age"].bins.counts) == 700
    only_first = window_profile(store, "loans", 1, HOUR0, HOUR0 + timedelta(hours=1))
    assert only_first is not None and only_first.rows == 400
    outputs = window_profile(store, "loans", 1, HOUR0, HOUR0 + timedelta(hours=2), kind="output")
    assert outputs is not None and set(outputs.columns) == {"prediction"}
    assert versions_in_window(store, "loans", HOUR0, HOUR0 + timedelta(hours=2)) == [1]
    (again,) = run(client)
    assert (again.files, again.rows) == (0, 0)  # nothing new: nothing read
    traffic(home, population(100, seed=3), hour=HOUR0, prefix="late")
    (third,) = run(client)
    assert (third.files, third.rows) == (1, 100)
    merged = window_profile(store, "loans", 1, HOUR0, HOUR0 + timedelta(hours=1))
    assert merged is not None and merged.rows == 500
    with Session(store.engine) as session:  # type: ignore[attr-defined]
        assert len(session.execute(select(ProfileRow)).all()) == 4  # 2 hours x input/output


def test_a_damaged_file_is_skipped_and_reported(client: Client, tmp_path: Path) -> None:
    register(client, tmp_path)
    home = client.settings.home
    traffic(home, population(100), hour=HOUR0)
    traffic(home, population(100, seed=4), hour=HOUR0, prefix="second")
    files = sorted(inference_root(home).glob("model=loans/date=*/*.parquet"))
    files[0].write_bytes(b"PAR1 not really parquet")
    (result,) = run(client)
    assert result.skipped_files == [str(files[0])]
    assert (result.files, result.rows) == (1, 100)
    (again,) = run(client)
    assert again.skipped_files == [] and again.files == 0  # reported once, not re-read forever


def test_errors_are_not_profiled_and_an_empty_window_is_none(
    client: Client, tmp_path: Path
) -> None:
    register(client, tmp_path)
    traffic(client.settings.home, population(60), hour=HOUR0, status=422)
    (result,) = run(client)
    assert (result.files, result.rows) == (1, 0)
    store = client.registry.store
    assert window_profile(store, "loans", 1, HOUR0, HOUR0 + timedelta(hours=1)) is None


def test_a_file_that_appears_late_is_still_rolled_up(client: Client, tmp_path: Path) -> None:
    from modelward.store.tables import utcnow

    register(client, tmp_path)
    home = client.settings.home
    traffic(home, population(50), hour=HOUR0, prefix="a")
    (first,) = sorted(inference_root(home).glob("model=loans/date=*/*.parquet"))
    hidden = tmp_path / "being-written.parquet"
    first.rename(hidden)  # named first, but its writer has not renamed it into place yet
    traffic(home, population(70, seed=5), hour=HOUR0, prefix="b")
    store, artifacts = client.registry.store, client.registry.artifacts
    rollup(store, artifacts, home, now=utcnow())  # type: ignore[arg-type]
    hidden.rename(first)  # appears now, with a name older than the file already rolled up
    rollup(store, artifacts, home, now=utcnow())  # type: ignore[arg-type]
    merged = window_profile(store, "loans", 1, HOUR0, HOUR0 + timedelta(hours=1))
    assert merged is not None and merged.rows == 120
    rollup(store, artifacts, home, now=utcnow() + LATE * 2)  # type: ignore[arg-type]
    with Session(store.engine) as session:  # type: ignore[attr-defined]
        state = session.get(RollupStateRow, "loans")
        assert state is not None and state.recent_files == []  # the watermark moved past both
    merged = window_profile(store, "loans", 1, HOUR0, HOUR0 + timedelta(hours=1))
    assert merged is not None and merged.rows == 120


def test_two_rollups_at_once_count_each_file_once(client: Client, tmp_path: Path) -> None:
    import threading

    register(client, tmp_path)
    home = client.settings.home
    for i in range(4):
        traffic(home, population(100, seed=10 + i), hour=HOUR0, prefix=f"p{i}")
    errors: list[BaseException] = []

    def go() -> None:
        try:
            run(client)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = client.registry.store
    merged = window_profile(store, "loans", 1, HOUR0, HOUR0 + timedelta(hours=1))
    assert merged is not None and merged.rows == 400
    with Session(store.engine) as session:  # type: ignore[attr-defined]
        state = session.get(RollupStateRow, "loans")
        assert state is not None and state.last_file is not None


def test_no_log_at_all_rolls_up_nothing(client: Client) -> None:
    assert run(client) == []
