"""`publish`, `unpublish`, `slug`, `build`: thin wrappers around `presseschau.publish`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from presseschau.app import AppContext
from presseschau.cli.output import echo, exit_on, fail, progress_bar
from presseschau.cli.root import app
from presseschau.errors import ArticleNotFound
from presseschau.publish import service


@app.command("publish")
def publish_command(
    ctx: typer.Context,
    article_id: Annotated[int | None, typer.Argument(help="Article ID to publish.")] = None,
    all_held: Annotated[
        bool, typer.Option("--all", help="Publish every held article and every finished, unpublished translation.")
    ] = False,
) -> None:
    """Publish an article now (or all held ones); only finished translations can be published."""
    context: AppContext = ctx.obj
    if (article_id is None) == (not all_held):
        raise fail("give an article ID or --all (not both)")
    with exit_on(service.PublishError, ArticleNotFound), context.database.session() as session:
        if all_held:
            count = service.publish_all(session, context.settings)
            echo(f"Published {count} article(s).")
            return
        assert article_id is not None
        publication = service.publish(session, context.settings, article_id)
        url = f"{context.settings.base_url.rstrip('/')}/{publication.slug}/"
    echo(f"Published article {article_id}: {url}")


@app.command("unpublish")
def unpublish_command(
    ctx: typer.Context, article_id: Annotated[int, typer.Argument(help="Article ID to take off the site.")]
) -> None:
    """Take an article off the site (re-translation will not bring it back; `publish` does)."""
    context: AppContext = ctx.obj
    with exit_on(service.PublishError, ArticleNotFound), context.database.session() as session:
        service.unpublish(session, context.settings, article_id)
    echo(f"Unpublished article {article_id}.")


@app.command("slug")
def slug_command(
    ctx: typer.Context,
    article_id: Annotated[int, typer.Argument(help="Article ID.")],
    new_slug: Annotated[str, typer.Argument(help="The new slug (lower-case words joined by hyphens).")],
) -> None:
    """Change an article's slug; the old URL redirects (301) to the new one."""
    context: AppContext = ctx.obj
    with exit_on(service.PublishError, ArticleNotFound), context.database.session() as session:
        publication = service.publication_for_article(session, context.settings, article_id)
        old = publication.slug
        service.change_slug(session, publication, new_slug)
    echo(f"Article {article_id}: /{old}/ now redirects to /{new_slug}/")


@app.command("build")
def build_command(
    ctx: typer.Context,
    outdir: Annotated[
        Path | None, typer.Argument(help="Output directory (default: settings.static_output_dir).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Render every page even if nothing changed since the last build.")
    ] = False,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="Public address of the built site (default: settings.base_url)."),
    ] = None,
) -> None:
    """Write the website as static files; unchanged files are not rewritten."""
    from presseschau.publish.queries import count_published
    from presseschau.publish.static import StaticBuildError, build_site

    context: AppContext = ctx.obj
    target = outdir or context.settings.static_output_dir
    if target is None:
        raise fail("give OUTDIR or set static_output_dir")
    if base_url is not None:
        if not base_url.startswith(("http://", "https://")):
            raise fail(f"--base-url {base_url!r}: give an http(s) address")
        context = context.with_settings(context.settings.model_copy(update={"base_url": base_url.rstrip("/")}))
    elif "base_url" not in context.settings.model_fields_set:
        # Canonical links, feeds and sitemaps are absolute: without the public address they
        # would all point at this machine.
        context.console.print(
            f"[yellow]Warning:[/] base_url is not set; canonical links, feeds and sitemaps point at "
            f"{escape(context.settings.base_url)}. Set base_url in presseschau.toml or pass --base-url."
        )
    with context.database.session() as session:
        total = count_published(session, context.settings.target_language)
    with exit_on(StaticBuildError), progress_bar(context.console, "Building", total) as advance:
        report = build_site(
            context.database, context.settings, target, progress=lambda n, note: advance(n, note), force=force
        )
    if report.skipped:
        echo(
            f"Nothing changed since the last build of {target} ({report.articles} article(s)); "
            f"news sitemap refreshed in {report.seconds:.1f} s. --force renders everything."
        )
        return
    echo(
        f"Built {report.articles} article(s) into {target} in {report.seconds:.1f} s: "
        f"{report.written} file(s) written, {report.unchanged} unchanged, {report.deleted} deleted."
    )
