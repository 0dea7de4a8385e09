"""The monitoring half of the SDK: labels, performance, KPIs, drift of a window, resources,
monitors and alerts. :class:`modelward.client.Client` inherits these methods."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from modelward.config import Settings
from modelward.errors import ConfigurationError, NotFoundError
from modelward.monitoring import alerts as alert_store
from modelward.monitoring.alerts import Alert
from modelward.monitoring.drift import DriftReport, compare
from modelward.monitoring.evaluate import MonitorOutcome, run_due_monitors
from modelward.monitoring.kpis import KpiResult, compute_kpis, parse_kpis
from modelward.monitoring.labels import LabelReceipt, add_labels, list_labels
from modelward.monitoring.monitors import Monitor, load_monitors, save_monitors
from modelward.monitoring.performance import PerformanceResult, check_goals, performance
from modelward.monitoring.providers import model_kpis
from modelward.monitoring.reference import load_reference
from modelward.monitoring.resources import resource_summary
from modelward.monitoring.rollup import RollupResult, rollup, versions_in_window, window_profile
from modelward.monitoring.windows import parse_window
from modelward.registry.service import Registry
from modelward.store.sql import SqlStore


class MonitoringClient:
    """Monitoring methods of :class:`~modelward.client.Client`; windows are ``1h``, ``1d``,
    ``7d``… ending now, or ``START/END`` (ISO 8601, UTC when no zone is given)."""

    settings: Settings

    @property
    def registry(self) -> Registry:  # provided by Client
        raise NotImplementedError

    def _local(self) -> Settings:
        """The settings, once it is clear the store is here (a remote client refuses)."""
        _ = self.registry  # the remote client's refuses: monitoring data lives on the server
        return self.settings

    def _sql(self) -> SqlStore:
        store = self.registry.store
        if not isinstance(store, SqlStore):
            raise ConfigurationError("monitoring needs the SQL metadata store")
        return store

    # --- labels, performance, KPIs ------------------------------------------------------------
    def add_labels(self, model: str, data: pd.DataFrame | str | Path) -> LabelReceipt:
        """Store ground truth (``request_id``, ``label`` [, ``row``, ``time``]) for ``model``."""
        return add_labels(self._local(), model, data)

    def labels(self, model: str, *, limit: int | None = None) -> pd.DataFrame:
        """The labels in force for ``model`` (latest per request id and row), newest first."""
        return list_labels(self._local(), model, limit=limit)

    def performance(
        self, model: str, window: str = "1d", *, version: int | None = None, task: str | None = None
    ) -> tuple[PerformanceResult, builtins.list[dict[str, Any]]]:
        """Metrics on the window's labelled records, and each accuracy goal's check."""
        start, end = parse_window(window)
        found = performance(self._local().home, model, start, end, version=version, task=task)
        return found, check_goals(found, self.registry.store.get_model(model).goals)

    def kpis(
        self, model: str, specs: Sequence[Mapping[str, Any]] | None = None, window: str = "1d"
    ) -> builtins.list[KpiResult]:
        """Business KPIs over the window (``specs``, or those in the model's monitor file)."""
        home = self._local().home
        parsed = parse_kpis(specs) if specs is not None else model_kpis(home, model)
        start, end = parse_window(window)
        return compute_kpis(home, model, parsed, start, end)

    # --- drift and resources ------------------------------------------------------------------
    def rollup(self, model: str | None = None) -> builtins.list[RollupResult]:
        """Roll new inference-log files up into hourly profiles (done by monitors anyway)."""
        return rollup(self._sql(), self.registry.artifacts, self.settings.home, model=model)

    def window_drift(
        self, model: str, window: str = "1d", *, version: int | None = None, share: float = 0.5
    ) -> dict[int, DriftReport]:
        """Drift of each version's traffic in the window against its reference profile."""
        store = self._sql()
        self.rollup(model)
        start, end = parse_window(window)
        versions = (
            [version] if version is not None else versions_in_window(store, model, start, end)
        )
        out: dict[int, DriftReport] = {}
        for number in versions:
            current = window_profile(store, model, number, start, end)
            found = self.registry.store.get_version(model, number)
            reference = load_reference(self.registry.artifacts, found.lineage)
            if current is None:
                continue
            if reference is None:
                raise NotFoundError(
                    f"{model}/{number} has no reference profile",
                    hint="register versions with training_data=… to monitor drift",
                )
            shared = [c for c in reference.inputs.columns if c in current.columns]
            out[number] = compare(reference.inputs, current, columns=shared, share=share)
        return out

    def resources(
        self, model: str, window: str = "1h", *, version: int | None = None
    ) -> dict[str, Any]:
        """Latency, throughput, errors, CPU and memory of ``model`` over the window."""
        start, end = parse_window(window)
        return resource_summary(self._local().home, model, start, end, version)

    def monitor_report(
        self,
        model: str,
        out: str | Path,
        window: str = "7d",
        *,
        version: int | None = None,
        step: str | None = None,
    ) -> dict[str, Any]:
        """Write the self-contained HTML monitoring report of ``model``; returns its data."""
        from modelward.monitoring.report import write_report

        store = self._sql()
        return write_report(
            self.settings,
            store,
            self.registry.artifacts,
            model,
            window,
            Path(out),
            version=version,
            step=step,
        )

    # --- monitors and alerts ------------------------------------------------------------------
    def set_monitors(
        self, model: str, definitions: Sequence[Mapping[str, Any]]
    ) -> builtins.list[Monitor]:
        """Check and save the model's monitors (other sections of its file are kept)."""
        return save_monitors(self._local(), model, definitions)

    def monitors(self, model: str) -> builtins.list[Monitor]:
        """The model's monitors."""
        return load_monitors(self._local().home, model)

    def run_monitors(
        self, model: str | None = None, *, force: bool = False, now: datetime | None = None
    ) -> builtins.list[MonitorOutcome]:
        """Run the due monitors (every one with ``force``); breaches raise alerts."""
        return run_due_monitors(self.settings, self._sql(), now=now, only_model=model, force=force)

    def alerts(
        self, model: str | None = None, *, status: str | None = None, limit: int = 100
    ) -> builtins.list[Alert]:
        """Alerts, newest first."""
        return alert_store.list_alerts(self._sql(), model=model, status=status, limit=limit)

    def acknowledge_alert(self, alert_id: int) -> Alert:
        """``open → acknowledged``, as this client's user."""
        return alert_store.acknowledge(self._sql(), alert_id, actor=self.settings.actor)

    def resolve_alert(self, alert_id: int) -> Alert:
        """``open|acknowledged → resolved``, as this client's user."""
        return alert_store.resolve(self._sql(), alert_id, actor=self.settings.actor)
