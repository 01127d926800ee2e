"""The end-to-end job: `run`, `status`, `worker` (the demo is `cli/demo.py`)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from presseschau.app import AppContext
from presseschau.cli.output import REFUSED, counts_text, echo, exit_on, fail, when
from presseschau.cli.params import port_option
from presseschau.cli.root import app
from presseschau.pipeline.service import PipelineService, RunOptions
from presseschau.reporting import collect_status
from presseschau.web.server import address_problem


@app.command()
def run(
    ctx: typer.Context,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the website too.")] = True,
    host: Annotated[str | None, typer.Option(help="Address to serve on (default from settings).")] = None,
    port: Annotated[int | None, port_option("Port to serve on (default 8000).")] = None,
    engine: Annotated[str | None, typer.Option(help="Translation engine (default: per source, else settings).")] = None,
    model: Annotated[str | None, typer.Option(help="Model name or path for the engine.")] = None,
    build: Annotated[
        bool | None,
        typer.Option("--build/--no-build", help="Rebuild the static site (default: when static_output_dir is set)."),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="One pass of every stage, then exit (for cron).")] = False,
) -> None:
    """The service: poll sources, translate, publish, build and serve until stopped (SIGTERM/Ctrl-C)."""
    context: AppContext = ctx.obj
    if context.settings.broker_url and not once:
        # Distributed mode: the stages run in `presseschau worker` processes; this serves the site.
        context.console.print(
            f"Broker {escape(context.settings.broker_url)}: stages run in `presseschau worker` processes; "
            "serving the site only."
        )
        options = RunOptions(serve=True, host=host, port=port)
        service = PipelineService(context, options)
        service.install_signal_handlers()
        service.serve_forever()
        return
    if serve and not once:  # a busy port said at once, in one line, not after the workers started
        problem = address_problem(host or context.settings.host, port or context.settings.port)
        if problem:
            raise fail(problem, REFUSED)
    options = RunOptions(
        serve=serve and not once, host=host, port=port, engine=engine, model=model, build=build, once=once
    )
    service = PipelineService(context, options)
    settings = context.settings
    if not once and serve:
        context.console.print(
            escape(
                f"presseschau runs: data {settings.data_dir}, "
                f"site http://{host or settings.host}:{port or settings.port}/"
            )
        )
    service.run()


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Queue sizes, last poll per source, failures with reasons, engine and throughput."""
    context: AppContext = ctx.obj
    report = collect_status(context.database, context.settings)
    if as_json:
        echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    console = context.console.__class__()  # stdout
    # Everything after a bold label comes from outside (paths, names, reasons): escaped as text.
    console.print(f"[bold]Data[/] {escape(str(context.settings.data_dir))}")
    # The configured engine and the one that made the latest translations can differ (a memory
    # demo, a per-source engine, a fallback): show both, so neither is mistaken for the other.
    console.print(
        "[bold]Engine[/] "
        + escape(
            f"configured: {report.engine}"
            + (f" (model {report.model})" if report.model else "")
            + "; latest translations: "
            + (
                f"{report.last_engine_used}" + (f" (model {report.last_model_used})" if report.last_model_used else "")
                if report.last_engine_used
                else "none yet"
            )
        )
    )
    for pause in report.paused:
        # Local time with its offset, as every time the CLI prints (`when`), not bare UTC.
        until = f"until {when(datetime.fromisoformat(pause['until']))}" if pause.get("until") else "until it is fixed"
        console.print("[bold red]Translation paused[/] " + escape(f"({pause['subject']}) {until}: {pause['reason']}"))
    console.print(f"[bold]Articles[/] {counts_text(report.articles_by_fetch_status)}")
    console.print(f"[bold]Translation queue[/] {counts_text(report.translations_by_status)}")
    console.print(f"[bold]Publications[/] {counts_text(report.publications_by_status)}")
    mean = f", {report.mean_engine_seconds:.2f} s engine time per article" if report.mean_engine_seconds else ""
    console.print(
        f"[bold]Throughput[/] {report.translated_last_hour} translated in the last hour, "
        f"{report.translated_last_day} in the last 24 h{mean}"
    )
    if report.sources:
        table = Table(
            "id", "source", "last poll", "next poll", "status", "failures", "articles", "reuse", title="Sources"
        )
        for s in report.sources:
            cells = (
                str(s.id),
                s.name,
                when(s.last_polled_at),
                when(s.next_poll_at),
                (s.last_status or "–") + (f": {s.last_error}" if s.last_error else ""),
                str(s.consecutive_failures),
                str(s.articles),
                s.reuse,
            )
            table.add_row(*(Text(cell) for cell in cells))
        console.print(table)
    for name, values in sorted(report.services.items()):
        if name.startswith("pause:"):  # shown above as "Translation paused"
            continue
        console.print(f"[bold]{escape(name)}[/] " + escape(", ".join(f"{k}={v}" for k, v in values.items())))
    if report.failures:
        # Status and attempts tell "will be retried" from "failed for good".
        table = Table("stage", "article", "status", "attempts", "next attempt", "reason", title="Recent failures")
        for failure in report.failures:
            attempts = failure.get("attempts")
            failure_cells = (
                str(failure["stage"]),
                str(failure["article"]),
                str(failure.get("status") or "failed"),
                f"{attempts}/{failure.get('max_attempts')}" if attempts is not None else "–",
                when(failure.get("next_attempt_at")),
                str(failure.get("reason") or ""),
            )
            table.add_row(*(Text(cell) for cell in failure_cells))
        console.print(table)


@app.command()
def worker(
    ctx: typer.Context,
    queues: Annotated[str, typer.Option(help="Comma-separated queues to take: fetch, translate, publish.")] = (
        "fetch,translate,publish"
    ),
    concurrency: Annotated[int, typer.Option(help="Worker processes (default: 1).")] = 1,
    beat: Annotated[bool, typer.Option("--beat", help="Also run the polling schedule (in one worker only).")] = False,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """A Celery worker for the distributed pipeline (needs PRESSESCHAU_BROKER_URL)."""
    try:
        from presseschau.pipeline import tasks
    except ImportError as error:  # Celery is an optional extra: say how to get it
        raise fail(f"{error.name or 'celery'} is not installed; install presseschau[distributed]", REFUSED) from error

    context: AppContext = ctx.obj
    chosen = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(chosen) - set(tasks.QUEUES))
    if unknown:
        raise fail(f"unknown queue(s) {', '.join(unknown)}; choose from {', '.join(tasks.QUEUES)}", REFUSED)
    with exit_on(RuntimeError, code=REFUSED):
        celery = tasks.configure(context.settings)
    context.database  # noqa: B018 -- migrate once, before the pool forks
    tasks.set_context(context)
    node = f"presseschau-{'-'.join(chosen)}-{os.getpid()}@%h"  # unique per process, also on one host
    argv = ["worker", "-Q", ",".join(chosen), "--concurrency", str(concurrency), "--loglevel", loglevel,
            "-n", node, "--without-gossip", "--without-mingle"]  # fmt: skip
    if beat:
        argv += ["--beat", "--schedule", str(context.settings.data_dir / "celerybeat-schedule")]
    celery.worker_main(argv)
