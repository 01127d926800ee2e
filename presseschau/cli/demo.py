"""`presseschau demo`: the whole product in one command, on bundled sample articles.

Which engine translates them, and why, is decided in `presseschau.pipeline.demo`; output of a test
model is never shown.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from presseschau.app import AppContext
from presseschau.cli.output import REFUSED, fail, progress_bar, quiet_logger
from presseschau.cli.output import verbose as is_verbose
from presseschau.cli.params import port_option
from presseschau.cli.root import app
from presseschau.config import settings_for_server
from presseschau.pipeline.demo import (
    choose_demo_engine,
    fill_translation_memory,
    import_samples,
    load_samples,
    publication_counts,
    short_reason,
    translate_samples,
)
from presseschau.pipeline.service import PipelineService, RunOptions
from presseschau.translate.queue import queued_count
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
        added = fill_translation_memory(context, samples)
        if verbose:
            console.print(f"Translation memory: {added} German segments from the bundled human translations")

    with progress_bar(console, "Importing samples", len(samples), transient=True) as advance:
        import_samples(context, samples, progress=advance)

    service = PipelineService(context, RunOptions(engine=choice.name, model=choice.model, serve=False))
    # A demo killed earlier (Ctrl-C, kill) may have left an article leased: take it back first.
    service.recover()
    with progress_bar(console, "Translating", queued_count(context.database, settings), transient=True) as advance:
        stopped = translate_samples(context, choice, service.translate_owner, progress=advance)
    if stopped:
        console.print(f"[bold red]Translation stopped:[/] {escape(stopped)}")

    published, held = publication_counts(context)
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
