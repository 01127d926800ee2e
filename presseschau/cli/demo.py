"""`presseschau demo`: the whole product in one command, on bundled sample articles.

Which engine translates them, and why, is decided in `presseschau.pipeline.demo`; output of a test
model is never shown.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy import func, select

from presseschau.app import AppContext
from presseschau.cli.output import REFUSED, fail, progress_bar, quiet_logger
from presseschau.cli.output import verbose as is_verbose
from presseschau.cli.params import port_option
from presseschau.cli.root import app
from presseschau.config import settings_for_server
from presseschau.ingest.importing import import_inputs
from presseschau.pipeline.demo import (
    add_review_samples,
    attach_sample_sources,
    choose_demo_engine,
    load_samples,
    memory_pairs,
    short_reason,
)
from presseschau.pipeline.service import PipelineService, RunOptions
from presseschau.publish.service import publisher
from presseschau.store.models import Publication, PublicationStatus
from presseschau.translate.memory import TranslationMemory
from presseschau.translate.queue import queued_count, translate_queued
from presseschau.web.server import address_problem


@app.command()
def demo(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to serve on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, port_option("Port to serve on (default 8000).")] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the site after building it.")] = True,
    engine: Annotated[str | None, typer.Option(help="Force an engine (ct2, memory, ...).")] = None,
    model: Annotated[str | None, typer.Option(help="Model name or path for the ct2 engine.")] = None,
) -> None:
    """Import the bundled sample articles, translate them to German, publish and serve the site.

    Prints a handful of lines before "Serving": each engine tried with its outcome in a few
    words, the one chosen; `--verbose` adds the whole explanations and the engines' log."""
    context: AppContext = ctx.obj
    # Before anything is published: pages and feeds link to the address the demo serves.
    context = context.with_settings(settings_for_server(context.settings, host, port))
    settings = context.settings
    console = context.console
    if serve:  # checked first: a busy port must not come after minutes of work and "Serving"
        problem = address_problem(settings.host, settings.port)
        if problem:
            raise fail(problem, REFUSED)
    verbose = is_verbose()
    console.print(f"[bold]presseschau demo[/] — data directory {escape(str(settings.data_dir))}", soft_wrap=True)
    samples = load_samples()

    # "pulling it once…", "downloading…": the details, for --verbose.
    with quiet_logger("presseschau.translate", unless=verbose):
        choice = choose_demo_engine(context, engine, model)
    for name, why in choice.tried:
        console.print(f"  {escape(name)}: {escape(why if verbose else short_reason(why))}", soft_wrap=True)
    console.print(f"[bold]Engine {escape(choice.name)}:[/] {escape(choice.reason)}", soft_wrap=True)
    if choice.tried and choice.name == "memory":
        hint = "" if verbose else " (details: --verbose)"
        console.print(f"Get a model: presseschau models pull firefox-en-de{hint}", soft_wrap=True)
    if choice.name == "memory":
        memory = TranslationMemory(context.database, settings.source_language, settings.target_language)
        added = memory.import_pairs(memory_pairs(samples), origin="import")
        if verbose:
            console.print(f"Translation memory: {added} German segments from the bundled human translations")

    with progress_bar(console, "Importing samples", len(samples), transient=True) as advance:
        for sample in samples:
            import_inputs(context.database, context.settings, [str(sample.english)], original_url=sample.url)
            advance(1, sample.english.name)
    attach_sample_sources(context)
    # One more sample with an injected fault: held by `auto-unless-risky` for the editor's queue.
    add_review_samples(context)

    service = PipelineService(context, RunOptions(engine=choice.name, model=choice.model, serve=False))
    # A demo killed earlier (Ctrl-C, kill) may have left an article leased: take it back first.
    service.recover()

    stopped: str | None = None
    queued = queued_count(context.database, context.settings)
    with progress_bar(console, "Translating", queued, transient=True) as advance:
        while True:
            # Ctrl-C in here gives the article's lease back (translate_queued) before it ends the demo.
            report = translate_queued(
                context.database,
                context.settings,
                limit=1,
                engine_name=choice.name,
                model=choice.model,
                owner=service.translate_owner,
                on_done=publisher(context.settings),
            )
            advance(int(report.claimed))
            if report.aborted:
                stopped = report.aborted
                break
            if not report.claimed:
                break
    if stopped:
        console.print(f"[bold red]Translation stopped:[/] {escape(stopped)}")

    with context.database.session() as session:
        published = session.scalar(
            select(func.count()).select_from(Publication).where(Publication.status == PublicationStatus.PUBLISHED)
        )
        held = session.scalar(
            select(func.count()).select_from(Publication).where(Publication.status == PublicationStatus.HELD)
        )
    url = f"http://{settings.host}:{settings.port}/"
    # Held by the quality estimate (the sample with an injected fault): the editor's queue says why.
    review = f", {held} held for review at {escape(url)}admin/warteschlange" if held else ""
    console.print(
        f"[bold green]{published} German articles published[/]{review}; Presseschau: {escape(url)}presseschau/",
        soft_wrap=True,
    )
    if not serve:
        return
    console.print(f"Serving the German site at [bold]{escape(url)}[/] (Ctrl-C stops)", soft_wrap=True)
    service.install_signal_handlers()
    service.serve_forever()
