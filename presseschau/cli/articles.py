"""`articles list|show|export|release|retranslate`: stored articles across the stages.

The reads (rows, statuses, export records) come from `presseschau.reporting`, so that they count as
`status`, the admin area and `/metrics` do.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.table import Table

from presseschau import reporting
from presseschau.app import AppContext
from presseschau.cli.output import cells, echo, exit_on, fail, stdout, when
from presseschau.cli.root import app
from presseschau.content import paragraphs_from_json
from presseschau.editorial.articles import release_article, retranslate_article
from presseschau.errors import ArticleNotFound
from presseschau.ingest.errors import IngestError
from presseschau.store.models import Article, Translation
from presseschau.store.rights import article_reuse, licence_text
from presseschau.translate.document import TranslationReport

articles_app = typer.Typer(help="Inspect and export stored articles.", no_args_is_help=True)
app.add_typer(articles_app, name="articles")


@articles_app.command("list")
def articles_list(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="Only articles that failed somewhere.")] = False,
    filtered: Annotated[
        bool, typer.Option("--filtered", help="Only articles held back by source filters (with the rule).")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
) -> None:
    """List stored articles with their fetch, translation and publication status."""
    context: AppContext = ctx.obj
    table = Table("id", "date", "outlet", "title", "status", "reason")
    with context.database.session() as session:
        rows = reporting.article_rows(
            session, context.settings.target_language, failed=failed, filtered=filtered, limit=limit
        )
        for row in rows:
            article = row.article
            table.add_row(
                *cells(
                    str(article.id),
                    when(article.published_at or article.discovered_at)[:10],
                    article.outlet or "–",
                    textwrap.shorten(article.title or article.url, 80, placeholder=" …"),
                    ", ".join(row.statuses),
                    # --failed is for finding out why: the whole reason (the table wraps it).
                    row.reason if failed or filtered else textwrap.shorten(row.reason, 100, placeholder=" …"),
                )
            )
    if not rows:
        echo("No articles" + (" failed." if failed else " held back by filters." if filtered else " yet."))
        return
    stdout().print(table)


@articles_app.command("show")
def articles_show(ctx: typer.Context, article_id: Annotated[int, typer.Argument(help="Article id.")]) -> None:
    """Show an article's metadata and paragraphs (and its translation, if there is one)."""
    context: AppContext = ctx.obj
    with context.database.session() as session:
        article = session.get(Article, article_id)
        if article is None:
            raise fail(f"article {article_id}: no such article")
        lines = _article_lines(article)
        decision = article_reuse(context.settings, article)
        lines[8:8] = [
            f"Licence:   {licence_text(article)}",
            f"Reuse:     {decision.mode} – {decision.reason}",
        ]
        translation = reporting.translation_of(session, article.id, context.settings.target_language)
        if translation is not None:
            lines.append("")
            lines.extend(_translation_lines(translation))
    echo("\n".join(lines))


def _article_lines(article: Article) -> list[str]:
    lines = [
        f"Article {article.id} (revision {article.revision}, {article.fetch_status})",
        f"Title:     {article.title or '–'}",
        f"Outlet:    {article.outlet or '–'}",
        f"Authors:   {', '.join(article.authors) or '–'}",
        f"Published: {reporting.published_text(article)}",
        f"Language:  {article.language or '–'}",
        f"URL:       {article.url}",
        f"Canonical: {article.canonical_url}",
    ]
    if article.fetch_error:
        lines.append(f"Error:     {article.fetch_error}")
    lines.append("")
    lines.extend(f"[{p.kind}] {p.text}" for p in paragraphs_from_json(article.paragraphs))
    return lines


def _translation_lines(translation: Translation) -> list[str]:
    lines = [
        f"Translation ({translation.language}, {translation.status}, "
        f"engine {translation.engine or '–'}, model {translation.model or '–'}):"
    ]
    report = translation.report or {}
    if report:
        known = {k: v for k, v in report.items() if k in TranslationReport.__dataclass_fields__}
        lines.append(f"Report: {TranslationReport(**known).summary()}")
    if reuse := report.get("reuse"):
        lines.append(
            f"Translated for mode {reuse.get('mode')}: {reuse.get('words_translated')} of "
            f"{reuse.get('words_total')} words, {reuse.get('paragraphs_translated')} of "
            f"{reuse.get('paragraphs_total')} paragraphs"
        )
    for engine, used in (report.get("usage") or {}).items():
        # What this article cost at a billing engine (DeepL characters, LLM tokens and cost).
        lines.append(f"Usage {engine}: " + ", ".join(f"{key} {value}" for key, value in used.items()))
    lines.extend(quality_lines(translation.quality, translation.quality_risk))
    if translation.title:
        lines.append(f"Title: {translation.title}")
    lines.extend(f"[{p.kind}] {p.text}" for p in paragraphs_from_json(translation.paragraphs))
    return lines


def quality_lines(quality: dict[str, Any] | None, risk: float | None) -> list[str]:
    """The quality estimate: the article's risk, why it is held, and each flagged paragraph's flags."""
    if quality is None or risk is None:
        return []
    lines = [f"Risk: {risk:.2f}" + (f" — held: {quality['held']}" if quality.get("held") else "")]
    for index, paragraph in enumerate(quality.get("paragraphs", []), start=1):
        for flag in paragraph.get("flags", []):
            words = ", ".join(f"„{word}“" for word in flag.get("words", []))
            lines.append(
                f"  paragraph {index}: {flag.get('name')} ({paragraph.get('risk', 0):.2f}) "
                f"{flag.get('explanation', '')}" + (f" {words}" if words else "")
            )
    return lines


@articles_app.command("export")
def articles_export(
    ctx: typer.Context,
    format: Annotated[str, typer.Option("--format", help="Output format (jsonl).")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """Export stored articles, one JSON object per line."""
    context: AppContext = ctx.obj
    if format != "jsonl":
        raise fail(f"unsupported format {format!r}; only jsonl")
    if output is not None:
        with output.open("w", encoding="utf-8") as handle:
            count = _export_jsonl(context, handle)
        echo(f"Exported {count} article(s) to {output}", err=True)
    else:
        _export_jsonl(context, sys.stdout)


def _export_jsonl(context: AppContext, handle: TextIO) -> int:
    count = 0
    with context.database.session() as session:
        for record in reporting.export_records(session, context.settings.target_language):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


@articles_app.command("release")
def articles_release(
    ctx: typer.Context,
    article_id: Annotated[int, typer.Argument(help="Article id.")],
    by: Annotated[str, typer.Option("--by", help="Who releases it (recorded).")] = "cli",
) -> None:
    """Translate an article its source's filters held back (it is never filtered again)."""
    context: AppContext = ctx.obj
    with exit_on(IngestError, ArticleNotFound):
        release_article(context.database, context.settings, article_id, by)
    echo(f"Article {article_id} released and queued for translation.")


@articles_app.command("retranslate")
def articles_retranslate(ctx: typer.Context, article_id: Annotated[int, typer.Argument(help="Article id.")]) -> None:
    """Queue an article for a fresh machine translation (run `translate` or `run` to do it)."""
    context: AppContext = ctx.obj
    with exit_on(IngestError, ArticleNotFound):
        retranslate_article(context.database, context.settings, article_id)
    echo(f"Article {article_id} queued for translation.")
