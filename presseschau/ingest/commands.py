"""CLI commands of this stage (registered on the main Typer app by `presseschau.cli`).

`sources add|list|remove`, `fetch`, `import`, `articles list|show|export`: thin wrappers around
`presseschau.ingest` (polling, importing, sources); errors are printed as one clear line and exit with status 1.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from presseschau.app import AppContext, progress_bar
from presseschau.content import paragraphs_from_json
from presseschau.ingest.errors import IngestError
from presseschau.ingest.importing import ImportReport, import_inputs
from presseschau.ingest.polling import FetchReport, fetch_sources
from presseschau.ingest.source_commands import (
    ExcludeOption,
    IncludeOption,
    MinWordsOption,
    TagOption,
    TargetLanguageOption,
    filters_from_options,
)
from presseschau.ingest.source_commands import register as register_source_commands
from presseschau.ingest.sources import add_source, article_counts, remove_source, sources_to_poll
from presseschau.publish.service import publisher
from presseschau.store.models import CONTENT_STATUSES, Article, Publication, Source, Translation

sources_app = typer.Typer(help="Manage the feeds, sitemaps and pages presseschau polls.", no_args_is_help=True)
articles_app = typer.Typer(help="Inspect and export stored articles.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this stage's commands to `app`."""
    app.add_typer(sources_app, name="sources")
    app.add_typer(articles_app, name="articles")
    app.command("fetch")(fetch_command)
    app.command("import")(import_command)
    register_source_commands(sources_app, articles_app)


@contextmanager
def _errors_exit() -> Iterator[None]:
    """Turn the stage's named errors into one red line and exit status 1 (no traceback)."""
    try:
        yield
    except IngestError as error:
        Console(stderr=True).print(f"[red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=False, width=max(Console().width, 140))


def _cells(*values: str) -> tuple[Text, ...]:
    """Table cells as plain text: names, titles, URLs and reasons come from outside and may look
    like Rich markup ("[/i]"), which would be interpreted or crash the command."""
    return tuple(Text(value) for value in values)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "–"


# sources -----------------------------------------------------------------------------------------


@sources_app.command("add")
def sources_add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Feed (RSS/Atom/JSON Feed), sitemap or article URL.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the host).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the source's articles.")] = "en",
    interval: Annotated[int | None, typer.Option(help="Poll interval in seconds.")] = None,
    policy: Annotated[str | None, typer.Option(help="Publish policy: auto or review.")] = None,
    kind: Annotated[str, typer.Option(help="auto (detect), feed, sitemap or page.")] = "auto",
    engine: Annotated[
        str | None, typer.Option(help="Translation engine for this source (default: the configured one).")
    ] = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    min_words: MinWordsOption = None,
    target_language: TargetLanguageOption = None,
    tag: TagOption = None,
) -> None:
    """Register a source to poll (with filters: what is held back before translation)."""
    from presseschau.translate.engines import engine_names

    context: AppContext = ctx.obj
    if engine is not None and engine not in engine_names():
        typer.echo(f"Error: unknown engine {engine!r}; choose from {', '.join(engine_names())}", err=True)
        raise typer.Exit(2)
    with _errors_exit():
        source = add_source(
            context.database,
            context.settings,
            url,
            name=name,
            language=lang,
            kind=kind,
            poll_interval_s=interval,
            publish_policy=policy,
            engine=engine,
            tags=tag,
            filters=filters_from_options(include, exclude, min_words, target_language),
        )
    typer.echo(f"Added source {source.id}: {source.name} <{source.url}> (every {source.poll_interval_s} s)")


@sources_app.command("list")
def sources_list(ctx: typer.Context) -> None:
    """Show every source with its polling state."""
    context: AppContext = ctx.obj
    with context.database.session() as session:
        sources = list(session.scalars(select(Source).order_by(Source.id)))
        counts = article_counts(session)
    if not sources:
        typer.echo("No sources yet; add one with `presseschau sources add URL`.")
        return
    table = Table("id", "name", "kind", "url", "last poll", "status", "failures / last error", "articles", "next poll")
    for source in sources:
        failure = f"{source.consecutive_failures}: {source.last_error}" if source.consecutive_failures else "0"
        status = source.last_status or "never polled"
        if not source.enabled:
            status += " (disabled)"
        table.add_row(
            *_cells(
                str(source.id),
                source.name,
                source.kind,
                source.url,
                _when(source.last_polled_at),
                status,
                failure,
                str(counts.get(source.id, 0)),
                _when(source.next_poll_at),
            )
        )
    _stdout().print(table)


@sources_app.command("remove")
def sources_remove(ctx: typer.Context, source_id: Annotated[int, typer.Argument(help="Source id.")]) -> None:
    """Delete a source; its articles are kept."""
    context: AppContext = ctx.obj
    with _errors_exit():
        remove_source(context.database, source_id)
    typer.echo(f"Removed source {source_id} (its articles are kept).")


# fetch / import ----------------------------------------------------------------------------------


def fetch_command(
    ctx: typer.Context,
    source: Annotated[int | None, typer.Option("--source", help="Poll only this source id.")] = None,
    due: Annotated[bool, typer.Option("--due", help="Poll only sources whose next poll time has come.")] = False,
) -> None:
    """Poll sources now: discover entries, fetch and extract new articles, queue them for translation."""
    context: AppContext = ctx.obj
    with _errors_exit():
        ids = sources_to_poll(context.database, source, due)
        if not ids:
            typer.echo("Nothing to poll: no enabled sources" + (" are due." if due else "."))
            return
        with progress_bar(context.console, "Fetching", total=len(ids)) as advance:
            report = fetch_sources(
                context.database,
                context.settings,
                source_id=source,
                due_only=due,
                progress=advance,
                on_done=publisher(context.settings),
            )
    _print_fetch_report(report)
    if report.all_failed:
        raise typer.Exit(1)


def _print_fetch_report(report: FetchReport) -> None:
    typer.echo(
        f"Polled {report.sources_polled} source(s), {report.not_modified} not modified; "
        f"{report.entries_seen} entries seen."
    )
    typer.echo(
        f"Articles: {report.articles_new} new, {report.articles_updated} updated, "
        f"{report.articles_unchanged} unchanged, {report.articles_duplicate} duplicate, "
        f"{report.not_english} not English."
        + (f" {report.filtered} held back by source filters." if report.filtered else "")
    )
    _print_failures(report.failures)


def _print_failures(failures: list[tuple[str, str]]) -> None:
    if failures:
        typer.echo(f"{len(failures)} failure(s):")
        for what, reason in failures:
            typer.echo(f"  {what}: {reason}")


def import_command(
    ctx: typer.Context,
    inputs: Annotated[list[str], typer.Argument(help="Article URLs or local .html / .html.gz files.")],
    url: Annotated[str | None, typer.Option("--url", help="Where the (single) file was originally published.")] = None,
) -> None:
    """Import single articles from URLs or saved HTML files."""
    context: AppContext = ctx.obj
    with _errors_exit(), progress_bar(context.console, "Importing", total=len(inputs)) as advance:
        report = import_inputs(context.database, context.settings, inputs, original_url=url, progress=advance)
    _print_import_report(report)
    if report.all_failed:
        raise typer.Exit(1)


def _print_import_report(report: ImportReport) -> None:
    typer.echo(
        f"Imported {report.inputs} input(s): {report.articles_new} new, {report.articles_updated} updated, "
        f"{report.articles_unchanged} unchanged, {report.articles_duplicate} duplicate, "
        f"{report.not_english} not English."
    )
    if report.article_ids:
        typer.echo("Article ids: " + ", ".join(str(article_id) for article_id in report.article_ids))
    _print_failures(report.failures)


# articles ----------------------------------------------------------------------------------------


def _translation_of(session: Session, article_id: int, language: str) -> Translation | None:
    return session.scalars(
        select(Translation).where(Translation.article_id == article_id, Translation.language == language)
    ).one_or_none()


def _publication_of(session: Session, translation: Translation | None) -> Publication | None:
    if translation is None:
        return None
    return session.scalars(select(Publication).where(Publication.translation_id == translation.id)).one_or_none()


@articles_app.command("list")
def articles_list(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="Only articles that failed somewhere.")] = False,
    filtered: Annotated[
        bool, typer.Option("--filtered", help="Only articles held back by source filters (with the rule).")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
) -> None:
    """List stored articles with their fetch, translation and publication status."""
    context: AppContext = ctx.obj
    language = context.settings.target_language
    table = Table("id", "date", "outlet", "title", "status", "reason")
    with context.database.session() as session:
        query = select(Article).order_by(Article.id.desc()).limit(limit)
        if failed:
            failed_translations = select(Translation.article_id).where(Translation.status == "failed")
            query = query.where(
                or_(
                    Article.fetch_status.in_(("failed", "no_article", "not_english")),
                    Article.id.in_(failed_translations),
                )
            )
        if filtered:
            query = query.where(Article.fetch_status == "filtered")
        for article in session.scalars(query):
            translation = _translation_of(session, article.id, language)
            publication = _publication_of(session, translation)
            status = [article.fetch_status]
            if translation is not None:
                status.append(f"translation {translation.status}")
            if publication is not None:
                status.append(f"publication {publication.status}")
            reason = (
                article.fetch_error
                or (translation.error if translation is not None else None)
                or (article.filter_reason if article.fetch_status == "filtered" else None)
                or ""
            )
            table.add_row(
                *_cells(
                    str(article.id),
                    _when(article.published_at or article.discovered_at)[:10],
                    article.outlet or "–",
                    textwrap.shorten(article.title or article.url, 80, placeholder=" …"),
                    ", ".join(status),
                    # --failed is for finding out why: the whole reason (the table wraps it).
                    reason if failed or filtered else textwrap.shorten(reason, 100, placeholder=" …"),
                )
            )
        count = table.row_count
    if count == 0:
        typer.echo("No articles" + (" failed." if failed else " held back by filters." if filtered else " yet."))
        return
    _stdout().print(table)


@articles_app.command("show")
def articles_show(ctx: typer.Context, article_id: Annotated[int, typer.Argument(help="Article id.")]) -> None:
    """Show an article's metadata and paragraphs (and its translation, if there is one)."""
    context: AppContext = ctx.obj
    with context.database.session() as session:
        article = session.get(Article, article_id)
        if article is None:
            Console(stderr=True).print(f"[red]error:[/] article {article_id}: no such article")
            raise typer.Exit(1)
        translation = _translation_of(session, article.id, context.settings.target_language)
        lines = [
            f"Article {article.id} (revision {article.revision}, {article.fetch_status})",
            f"Title:     {article.title or '–'}",
            f"Outlet:    {article.outlet or '–'}",
            f"Authors:   {', '.join(article.authors) or '–'}",
            f"Published: {published_text(article)}",
            f"Language:  {article.language or '–'}",
            f"URL:       {article.url}",
            f"Canonical: {article.canonical_url}",
        ]
        if article.fetch_error:
            lines.append(f"Error:     {article.fetch_error}")
        lines.append("")
        lines.extend(f"[{p.kind}] {p.text}" for p in paragraphs_from_json(article.paragraphs))
        if translation is not None:
            lines.append("")
            lines.append(
                f"Translation ({translation.language}, {translation.status}, "
                f"engine {translation.engine or '–'}, model {translation.model or '–'}):"
            )
            report = translation.report or {}
            if report:
                from presseschau.translate.document import TranslationReport

                known = {k: v for k, v in report.items() if k in TranslationReport.__dataclass_fields__}
                lines.append(f"Report: {TranslationReport(**known).summary()}")
            for engine, used in (report.get("usage") or {}).items():
                # What this article cost at a billing engine (DeepL characters, LLM tokens and cost).
                lines.append(f"Usage {engine}: " + ", ".join(f"{key} {value}" for key, value in used.items()))
            if translation.title:
                lines.append(f"Title: {translation.title}")
            lines.extend(f"[{p.kind}] {p.text}" for p in paragraphs_from_json(translation.paragraphs))
    typer.echo("\n".join(lines))


@articles_app.command("export")
def articles_export(
    ctx: typer.Context,
    format: Annotated[str, typer.Option("--format", help="Output format (jsonl).")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """Export stored articles, one JSON object per line."""
    context: AppContext = ctx.obj
    if format != "jsonl":
        Console(stderr=True).print(f"[red]error:[/] unsupported format {escape(repr(format))}; only jsonl")
        raise typer.Exit(1)
    if output is not None:
        with output.open("w", encoding="utf-8") as handle:
            count = _export_jsonl(context, handle)
        typer.echo(f"Exported {count} article(s) to {output}", err=True)
    else:
        _export_jsonl(context, sys.stdout)


def _export_jsonl(context: AppContext, handle: TextIO) -> int:
    language = context.settings.target_language
    count = 0
    with context.database.session() as session:
        for article in session.scalars(
            select(Article).where(Article.fetch_status.in_(CONTENT_STATUSES)).order_by(Article.id)
        ):
            handle.write(json.dumps(export_record(session, article, language), ensure_ascii=False) + "\n")
            count += 1
    return count


def export_record(session: Session, article: Article, language: str) -> dict[str, Any]:
    paragraphs = paragraphs_from_json(article.paragraphs)
    record: dict[str, Any] = {
        "id": article.id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "outlet": article.outlet,
        "title": article.title,
        "authors": list(article.authors),
        "published_at": published_iso(article),
        "published_date_only": article.published_date_only,
        "published_at_source": article.published_at_source,
        "language": article.language,
        "revision": article.revision,
        "fetch_status": article.fetch_status,
        "paragraphs": [p.text for p in paragraphs],
        "paragraphs_html": [p.to_json() for p in paragraphs],
    }
    translation = _translation_of(session, article.id, language)
    if translation is not None and translation.paragraphs:
        record["translation"] = {
            "language": translation.language,
            "engine": translation.engine,
            "model": translation.model,
            "title": translation.title,
            "paragraphs": [p.text for p in paragraphs_from_json(translation.paragraphs)],
            "status": translation.status,
        }
    publication = _publication_of(session, translation)
    if publication is not None:
        record["slug"] = publication.slug
        record["status"] = publication.status
    return record


def published_iso(article: Article) -> str | None:
    """The original's date in ISO form: `2026-11-05` when the source gave only the day."""
    if article.published_at is None:
        return None
    return article.published_at.date().isoformat() if article.published_date_only else article.published_at.isoformat()


def published_text(article: Article) -> str:
    """`2026-11-05 (date only, from url)`: the date and where it was read."""
    value = published_iso(article)
    if value is None:
        return "–"
    precision = "date only, " if article.published_date_only else ""
    return f"{value} ({precision}from {article.published_at_source or 'unknown source'})"
