"""The long-running service: fetch, translate, publish (and build) as independent workers.

Each stage runs in its own thread and talks to the others only through the database: the fetch
worker queues translations, the translate worker leases them, translates and publishes in one
transaction. A slow translation therefore never blocks fetching or serving. State lives in the
database, so a process killed at any point resumes where it stopped (see `recover_orphaned_leases`).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import Any

from sqlalchemy import func, select

from presseschau.app import AppContext
from presseschau.store.faults import describe_fault
from presseschau.store.models import Publication, ServiceState, utcnow
from presseschau.store.queue import recover_orphaned_leases

log = logging.getLogger("presseschau.run")

# Owner ids are "host:pid:...": `recover_orphaned_leases` (store.queue) takes back dead holders' work.
HOSTNAME = socket.gethostname()


def make_owner_id(role: str) -> str:
    """Lease owner ids carry host and pid, so a restarted service can tell its dead predecessors."""
    return f"{HOSTNAME}:{os.getpid()}:{role}:{uuid.uuid4().hex[:8]}"


def record_state(context: AppContext, key: str, **values: Any) -> None:
    """Merge `values` into the service_state row `key` (heartbeats and counters for `status`)."""
    with context.database.session() as session:
        row = session.get(ServiceState, key)
        if row is None:
            session.add(ServiceState(key=key, value=dict(values)))
        else:
            row.value = {**row.value, **values}


@dataclass
class WorkerStats:
    items: int = 0
    errors: int = 0
    last_error: str | None = None
    busy_seconds: float = 0.0
    started_at: datetime = field(default_factory=utcnow)


class StageWorker(threading.Thread):
    """Runs `step()` until stopped. `step` returns how many items it handled (0: sleep a while).

    An exception in a step is logged and counted, never fatal: the next step runs after a pause.
    A stop request lets the current step finish (SIGTERM semantics).
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], int],
        stop: threading.Event,
        idle_seconds: float,
        context: AppContext,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.step = step
        self.stop_event = stop
        self.idle_seconds = idle_seconds
        self.context = context
        self.stats = WorkerStats()

    def run(self) -> None:
        log.info("%s worker started", self.name)
        while not self.stop_event.is_set():
            started = time.perf_counter()
            try:
                handled = self.step()
            except Exception as error:  # a worker must survive anything a step throws
                handled = 0
                self.stats.errors += 1
                self.stats.last_error = f"{type(error).__name__}: {error}"
                fault = describe_fault(error, self.context.settings)
                if fault is not None:  # the disk, not a bug: one line, no traceback
                    log.error("%s worker paused: %s", self.name, fault)
                else:
                    log.exception("%s worker step failed", self.name)
                self.stop_event.wait(min(30.0, self.idle_seconds * 2))
            self.stats.busy_seconds += time.perf_counter() - started
            self.stats.items += handled
            try:
                record_state(
                    self.context,
                    f"worker:{self.name}",
                    heartbeat=utcnow().isoformat(),
                    items=self.stats.items,
                    errors=self.stats.errors,
                    last_error=self.stats.last_error,
                    busy_seconds=round(self.stats.busy_seconds, 3),
                    pid=os.getpid(),
                )
            except Exception as error:
                fault = describe_fault(error, self.context.settings)
                log.warning(
                    "could not record %s heartbeat%s", self.name, f": {fault}" if fault else "", exc_info=not fault
                )
            if handled == 0:
                self.stop_event.wait(self.idle_seconds)
        log.info("%s worker stopped after %d items", self.name, self.stats.items)


@dataclass
class RunOptions:
    serve: bool = True
    host: str | None = None
    port: int | None = None
    engine: str | None = None
    model: str | None = None
    build: bool | None = None  # None: build when settings.static_output_dir is set
    fetch_idle_s: float = 5.0
    translate_idle_s: float = 2.0
    build_idle_s: float = 10.0
    once: bool = False


class PipelineService:
    """Wires the stage services into workers; used by `presseschau run` and `presseschau demo`."""

    def __init__(self, context: AppContext, options: RunOptions) -> None:
        if options.serve and not options.once:
            from presseschau.config import settings_for_server

            # Before the workers start: statically built pages link to the address served.
            context = context.with_settings(settings_for_server(context.settings, options.host, options.port))
        self.context = context
        self.options = options
        self.stop = threading.Event()
        self.translate_owner = make_owner_id("translate")
        self._last_build_marker: tuple[int, str] | None = None
        self.workers: list[StageWorker] = []
        self._server: Any = None

    # Stage steps ---------------------------------------------------------------------------

    def fetch_step(self) -> int:
        from presseschau.pipeline.steps import fetch_and_publish

        report = fetch_and_publish(self.context.database, self.context.settings, due_only=True)
        return int(report.sources_polled)

    def translate_step(self) -> int:
        from presseschau.pipeline.steps import translate_and_publish

        report = translate_and_publish(
            self.context.database,
            self.context.settings,
            limit=1,  # one article per step: SIGTERM waits for at most one article
            engine_name=self.options.engine,
            model=self.options.model,
            owner=self.translate_owner,
        )
        if report.aborted:
            # Not the article's fault (an engine that cannot run, a broken glossary): the item is
            # back in the queue and the engine paused, so this worker idles instead of spinning.
            return 0
        return int(report.claimed)

    def build_step(self) -> int:
        from presseschau.publish.static import build_site

        outdir = self.context.settings.static_output_dir
        if outdir is None:
            return 0
        with self.context.database.session() as session:
            count, newest = session.execute(select(func.count(Publication.id), func.max(Publication.updated_at))).one()
        marker = (int(count), str(newest))
        if marker == self._last_build_marker:
            return 0
        build_site(self.context.database, self.context.settings, outdir)
        self._last_build_marker = marker
        record_state(self.context, "static_build", built_at=utcnow().isoformat(), outdir=str(outdir))
        return 1

    def newsletter_step(self) -> int:
        """E-mail each public Presseschau of the last days once (when the newsletter is enabled)."""
        from presseschau.publish.newsletter import send_due
        from presseschau.publish.site import Site

        with self.context.database.session() as session:
            return len(send_due(session, Site(self.context.settings)))

    def summaries_step(self) -> int:
        """Machine summaries for the Presseschau's articles (when an LLM is configured)."""
        from presseschau.stories.intros import introduce_pending
        from presseschau.stories.summaries import summarize_pending

        with self.context.database.session() as session:
            written = summarize_pending(session, self.context.settings, limit=5)
        with self.context.database.session() as session:
            return written + introduce_pending(session, self.context.settings, limit=2)

    # Lifecycle -----------------------------------------------------------------------------

    @property
    def wants_build(self) -> bool:
        if self.options.build is None:
            return self.context.settings.static_output_dir is not None
        return self.options.build and self.context.settings.static_output_dir is not None

    def recover(self) -> int:
        from presseschau.publish.service import publish_orphaned

        with self.context.database.session() as session:
            recovered = recover_orphaned_leases(session, self.context.settings.translation_max_attempts)
        if recovered:
            log.warning("took back %d translations left in progress by a stopped process", recovered)
        with self.context.database.session() as session:
            repaired = publish_orphaned(session, self.context.settings)
        if repaired:
            log.warning("published or held %d finished translations that had no publication", repaired)
        return recovered

    def run_once(self) -> None:
        """One pass of every stage until the queue is empty (for cron jobs, tests and `demo`)."""
        self.recover()
        self.fetch_step()
        while self.translate_step():
            if self.stop.is_set():
                return
        if self.wants_build:
            self.build_step()

    def install_signal_handlers(self) -> None:
        def request_stop(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s: finishing current items, then stopping", signal.Signals(signum).name)
            self.stop.set()
            if self._server is not None:
                self._server.should_exit = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

    def start_workers(self) -> None:
        self.recover()
        stages: list[tuple[str, Callable[[], int], float]] = [
            ("fetch", self.fetch_step, self.options.fetch_idle_s),
            ("translate", self.translate_step, self.options.translate_idle_s),
        ]
        if self.wants_build:
            stages.append(("build", self.build_step, self.options.build_idle_s))
        if self.context.settings.newsletter_enabled:
            if "base_url" in self.context.settings.model_fields_set:
                stages.append(("newsletter", self.newsletter_step, 60.0))
            else:  # said once here, not as an error every minute (see newsletter.send_review)
                log.warning("newsletter not sent: base_url is not set; set it to the site's public address")
        if self.context.settings.press_review_summaries and self.context.settings.llm_base_url:
            stages.append(("summaries", self.summaries_step, 30.0))
        for name, step, idle in stages:
            worker = StageWorker(name, step, self.stop, idle, self.context)
            worker.start()
            self.workers.append(worker)
        record_state(self.context, "service", started_at=utcnow().isoformat(), pid=os.getpid(), host=HOSTNAME)

    def serve_forever(self) -> None:
        """Serve the website in this thread until a stop is requested.

        On the address in the settings: `run` and `demo` apply `settings_for_server` before
        anything is built or published, so pages link to the address served."""
        from presseschau.web.server import serve

        def keep(server: Any) -> None:
            self._server = server  # stopped by our signal handler (`install_signal_handlers`)

        # uvicorn takes over SIGINT/SIGTERM while it runs (main thread) and shuts down gracefully;
        # afterwards it re-raises the signal to our handler, and we stop the workers either way.
        serve(self.context, log_level="warning", on_start=keep)
        self.stop.set()

    def run(self) -> None:
        self.install_signal_handlers()
        if self.options.once:
            self.run_once()
            return
        self.start_workers()
        if self.options.serve:
            self.serve_forever()
        else:
            while not self.stop.is_set():
                self.stop.wait(1.0)
        for worker in self.workers:
            worker.join()
        record_state(self.context, "service", stopped_at=utcnow().isoformat())
