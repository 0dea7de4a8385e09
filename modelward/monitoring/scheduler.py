"""The embedded scheduler: one background thread that runs due monitors and delivers events.

Each round runs :func:`run_due_monitors` and then the webhook dispatcher, so an alert raised in
a round is usually delivered in the same round. A round that fails is logged and the next one
runs as usual: the scheduler never dies of a bad monitor file, a provider bug or a database
that is briefly away. ``stop`` wakes the thread and waits for the round in progress to end.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from types import TracebackType

from modelward.config import Settings
from modelward.errors import InvalidInputError
from modelward.governance import webhooks
from modelward.monitoring.evaluate import MonitorOutcome, run_due_monitors
from modelward.store.sql import SqlStore
from modelward.store.tables import utcnow

log = logging.getLogger(__name__)


class MonitorScheduler:
    """Runs monitors and webhook deliveries every ``interval`` seconds in a daemon thread."""

    def __init__(
        self,
        settings: Settings,
        store: SqlStore,
        *,
        interval: float = 30.0,
        send: webhooks.Sender | None = None,
        dispatch: bool = True,
    ) -> None:
        if interval <= 0:
            raise InvalidInputError(
                f"the scheduler interval must be positive, not {interval}", hint="e.g. 30"
            )
        self.settings, self.store, self.interval = settings, store, interval
        self.dispatch = dispatch
        self._send = send
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_outcomes: list[MonitorOutcome] = []
        self.last_round_at: datetime | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (the first round runs at once)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="modelward-monitors", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait up to ``timeout`` seconds for its round to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the monitor scheduler is still finishing a round after %ss", timeout)
            self._thread = None

    def run_once(self, now: datetime | None = None) -> list[MonitorOutcome]:
        """One round: due monitors, then webhook deliveries; errors are logged, not raised."""
        outcomes: list[MonitorOutcome] = []
        try:
            outcomes = run_due_monitors(self.settings, self.store, now=now)
            self.last_outcomes = outcomes
            if self.dispatch:
                send = self._send or webhooks.http_sender()
                webhooks.dispatch(self.store, self.settings, send, now=now)
            self.last_error = None
        except Exception as exc:  # the next round may well work: keep going
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("monitor scheduler round failed")
        self.rounds += 1
        self.last_round_at = now or utcnow()
        return outcomes

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)

    def __enter__(self) -> MonitorScheduler:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
