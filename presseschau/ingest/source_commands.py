"""CLI commands for sources at scale: `sources edit|refilter|import|export`, `articles release|retranslate`.

Registered on the `sources` and `articles` groups of `presseschau.ingest.commands`; every write goes
through `presseschau.ingest.sources` (the same validation as the admin area and the JSON API).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from presseschau.app import AppContext
from presseschau.ingest.errors import IngestError
from presseschau.ingest.filters import FilterError, SourceFilters, build_filters
from presseschau.ingest.opml import OpmlImportReport, export_opml, import_opml
from presseschau.ingest.sources import (
    refilter_source,
    release_article,
    retranslate_article,
    source_filters,
    update_source,
)
from presseschau.store.models import Source

IncludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--include",
        help="Translate only articles matching one of these rules: words, a phrase, /regex/; "
        "prefix title:, body:, author: or url: (default: title and body). Repeatable.",
    ),
]
ExcludeOption = Annotated[
    list[str] | None, typer.Option("--exclude", help="Hold back articles matching this rule (as --include).")
]
MinWordsOption = Annotated[
    int | None, typer.Option("--min-words", help="Hold back articles with fewer words (0: no minimum).")
]
TargetLanguageOption = Annotated[
    str | None,
    typer.Option(
        "--target-language",
        help="Articles already in the target language: skip (keep, never translate) or publish (as is, labelled).",
    ),
]
TagOption = Annotated[list[str] | None, typer.Option("--tag", help="A tag (category) for the source. Repeatable.")]


def _fail(message: str, status: int = 1) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(status)


def filters_from_options(
    include: list[str] | None,
    exclude: list[str] | None,
    min_words: int | None,
    target_language: str | None,
    base: SourceFilters | None = None,
) -> SourceFilters | None:
    """The filters the options describe, over `base` (options not given keep its values); None: no change."""
    if include is None and exclude is None and min_words is None and target_language is None:
        return None
    base = base or SourceFilters()
    try:
        return build_filters(
            include if include is not None else [rule.text for rule in base.include],
            exclude if exclude is not None else [rule.text for rule in base.exclude],
            min_words if min_words is not None else base.min_words,
            target_language if target_language is not None else base.target_language,
        )
    except FilterError as error:
        raise _fail(str(error), 2) from None


def sources_edit(
    ctx: typer.Context,
    source_id: Annotated[int, typer.Argument(help="Source id.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    interval: Annotated[int | None, typer.Option(help="Poll interval in seconds.")] = None,
    policy: Annotated[str | None, typer.Option(help="Publish policy: auto or review.")] = None,
    engine: Annotated[str | None, typer.Option(help="Translation engine ('' for the configured one).")] = None,
    enabled: Annotated[bool | None, typer.Option("--resume/--pause", help="Poll the source or pause it.")] = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    min_words: MinWordsOption = None,
    target_language: TargetLanguageOption = None,
    clear_filters: Annotated[bool, typer.Option("--clear-filters", help="Remove every filter rule first.")] = False,
    tag: TagOption = None,
) -> None:
    """Change a source's settings and filters. Stored articles are not touched (see `sources refilter`)."""
    context: AppContext = ctx.obj
    changes: dict[str, Any] = {}
    for key, value in (
        ("name", name),
        ("poll_interval_s", interval),
        ("publish_policy", policy),
        ("engine", engine),
        ("enabled", enabled),
        ("tags", tag),
    ):
        if value is not None:
            changes[key] = value
    with context.database.session() as session:
        stored = session.get(Source, source_id)
        base = SourceFilters() if clear_filters or stored is None else source_filters(stored)
    filters = filters_from_options(include, exclude, min_words, target_language, base)
    if filters is not None or clear_filters:
        changes["filters"] = filters if filters is not None else SourceFilters()
    if not changes:
        raise _fail("nothing to change; see `presseschau sources edit --help`", 2)
    try:
        source = update_source(context.database, source_id, **changes)
    except IngestError as error:
        raise _fail(str(error)) from None
    typer.echo(f"Source {source.id} saved: {source.name}; filters: {source_filters(source).describe()}")


def sources_show(ctx: typer.Context, source_id: Annotated[int, typer.Argument(help="Source id.")]) -> None:
    """Show a source's settings: interval, policy, engine, tags, filters, glossary additions."""
    from presseschau.translate.glossary import format_glossary_additions

    context: AppContext = ctx.obj
    with context.database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise _fail(f"source {source_id}: no such source")
        filters = source_filters(source)
        lines = [
            f"Source {source.id}: {source.name} <{source.url}>",
            f"Kind:      {source.kind}, language {source.language}, {'enabled' if source.enabled else 'paused'}",
            f"Interval:  {source.poll_interval_s} s, policy {source.publish_policy}, "
            f"engine {source.engine or 'default'}",
            f"Tags:      {', '.join(str(tag) for tag in source.tags or ()) or '–'}",
            f"Include:   {', '.join(rule.text for rule in filters.include) or '–'}",
            f"Exclude:   {', '.join(rule.text for rule in filters.exclude) or '–'}",
            f"Min words: {filters.min_words or '–'}",
            "Already in the target language: "
            + ("publish as is (original)" if filters.target_language == "publish" else "skip"),
        ]
        glossary = format_glossary_additions(source.glossary)
        if glossary:
            lines.append("Glossary:  " + glossary.replace("\n", "; "))
    # Outside data (names, rules) is printed as text, never as console markup.
    typer.echo("\n".join(lines))


def sources_refilter(ctx: typer.Context, source_id: Annotated[int, typer.Argument(help="Source id.")]) -> None:
    """Apply the source's current filters to its stored articles that are not translated yet."""
    context: AppContext = ctx.obj
    try:
        report = refilter_source(context.database, context.settings, source_id)
    except IngestError as error:
        raise _fail(str(error)) from None
    typer.echo(
        f"Source {source_id}: {report.held} held back, {report.released} queued for translation, "
        f"{report.unchanged} unchanged, {report.kept_translated} already translated (kept)."
    )


def sources_import(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An OPML file (as feed readers export it).")],
) -> None:
    """Add the feeds of an OPML file as sources (all or none; duplicates are reported, not added)."""
    context: AppContext = ctx.obj
    try:
        data = path.read_bytes()
    except OSError as error:
        raise _fail(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        report = import_opml(context.database, context.settings, data, str(path))
    except IngestError as error:
        raise _fail(f"{error} (nothing was added)") from None
    print_opml_report(report)


def print_opml_report(report: OpmlImportReport) -> None:
    typer.echo(f"Added {len(report.added)} source(s), {len(report.duplicates)} duplicate(s) not added.")
    for source_id, name, url in report.added:
        typer.echo(f"  + {source_id}: {name} <{url}>")
    for url, why in report.duplicates:
        typer.echo(f"  = {url}: {why}")


def sources_export(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """Write every source with its settings as OPML 2.0."""
    context: AppContext = ctx.obj
    document = export_opml(context.database, context.settings)
    if output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
        return
    output.write_bytes(document)
    typer.echo(f"Exported the sources to {output}", err=True)


def articles_release(
    ctx: typer.Context,
    article_id: Annotated[int, typer.Argument(help="Article id.")],
    by: Annotated[str, typer.Option("--by", help="Who releases it (recorded).")] = "cli",
) -> None:
    """Translate an article its source's filters held back (it is never filtered again)."""
    context: AppContext = ctx.obj
    try:
        release_article(context.database, context.settings, article_id, by)
    except IngestError as error:
        raise _fail(str(error)) from None
    typer.echo(f"Article {article_id} released and queued for translation.")


def articles_retranslate(ctx: typer.Context, article_id: Annotated[int, typer.Argument(help="Article id.")]) -> None:
    """Queue an article for a fresh machine translation (run `translate` or `run` to do it)."""
    context: AppContext = ctx.obj
    try:
        retranslate_article(context.database, context.settings, article_id)
    except IngestError as error:
        raise _fail(str(error)) from None
    typer.echo(f"Article {article_id} queued for translation.")


def register(sources_app: typer.Typer, articles_app: typer.Typer) -> None:
    sources_app.command("show")(sources_show)
    sources_app.command("edit")(sources_edit)
    sources_app.command("refilter")(sources_refilter)
    sources_app.command("import")(sources_import)
    sources_app.command("export")(sources_export)
    articles_app.command("release")(articles_release)
    articles_app.command("retranslate")(articles_retranslate)
