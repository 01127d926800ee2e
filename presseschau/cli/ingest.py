"""`sources add|list|show|edit|remove|refilter|import|export`, `fetch`, `import`.

Thin wrappers around `presseschau.ingest`: every write to a source goes through
`presseschau.ingest.sources` (the same validation as the admin area and the JSON API).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from presseschau import reporting
from presseschau.app import AppContext
from presseschau.cli.output import REFUSED, cells, echo, exit_on, fail, progress_bar, stdout, when
from presseschau.cli.root import app
from presseschau.ingest.errors import IngestError
from presseschau.ingest.filters import FilterError, SourceFilters, build_filters
from presseschau.ingest.importing import ImportReport, import_inputs
from presseschau.ingest.opml import OpmlImportReport, export_opml, import_opml
from presseschau.ingest.polling import FetchReport
from presseschau.ingest.profiles import OUTLET_KINDS
from presseschau.ingest.sources import (
    add_source,
    refilter_source,
    remove_source,
    retranslate_for_reuse,
    source_filters,
    sources_to_poll,
    update_source,
)
from presseschau.pipeline.steps import fetch_and_publish
from presseschau.publish.service import reindex_source
from presseschau.store.models import Source
from presseschau.store.rights import reuse_setting_text
from presseschau.translate.engines import UnknownEngine, check_engine_name
from presseschau.translate.source_checks import SOURCE_CHECKS

sources_app = typer.Typer(help="Manage the feeds, sitemaps and pages presseschau polls.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


CountryOption = Annotated[
    str | None, typer.Option("--country", help="The outlet's country, ISO 3166-1 alpha-2 (GB, US, DE; '' clears).")
]
OutletKindOption = Annotated[
    str | None,
    typer.Option("--outlet-kind", help=f"Kind of outlet: {', '.join(OUTLET_KINDS)} ('' clears)."),
]


@sources_app.command("add")
def sources_add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Feed (RSS/Atom/JSON Feed), sitemap or article URL.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the host).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the source's articles.")] = "en",
    interval: Annotated[int | None, typer.Option(help="Poll interval in seconds.")] = None,
    policy: Annotated[str | None, typer.Option(help="Publish policy: auto, review or auto-unless-risky.")] = None,
    kind: Annotated[str, typer.Option(help="auto (detect), feed, sitemap or page.")] = "auto",
    engine: Annotated[
        str | None, typer.Option(help="Translation engine for this source (default: the configured one).")
    ] = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    min_words: MinWordsOption = None,
    target_language: TargetLanguageOption = None,
    tag: TagOption = None,
    country: CountryOption = None,
    outlet_kind: OutletKindOption = None,
    reuse: ReuseOption = None,
    excerpt_words: ExcerptWordsOption = None,
    permission: PermissionOption = None,
) -> None:
    """Register a source to poll (with filters: what is held back before translation)."""
    context: AppContext = ctx.obj
    with exit_on(UnknownEngine, code=REFUSED):
        check_engine_name(engine)  # a usage error (status 2), before anything is stored
    with exit_on(IngestError):
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
            country=country,
            outlet_kind=outlet_kind,
            reuse=reuse,
            excerpt_words=excerpt_words,
            reuse_permission=permission,
            checks=SOURCE_CHECKS,
        )
    echo(f"Added source {source.id}: {source.name} <{source.url}> (every {source.poll_interval_s} s)")


@sources_app.command("list")
def sources_list(ctx: typer.Context) -> None:
    """Show every source with its polling state."""
    context: AppContext = ctx.obj
    with context.database.session() as session:
        sources = list(session.scalars(select(Source).order_by(Source.id)))
        counts = reporting.articles_per_source(session)
    if not sources:
        echo("No sources yet; add one with `presseschau sources add URL`.")
        return
    table = Table(
        "id", "name", "kind", "url", "last poll", "status", "failures / last error", "articles", "next poll", "reuse"
    )
    for source in sources:
        failure = f"{source.consecutive_failures}: {source.last_error}" if source.consecutive_failures else "0"
        status = source.last_status or "never polled"
        if not source.enabled:
            status += " (disabled)"
        table.add_row(
            *cells(
                str(source.id),
                source.name,
                source.kind,
                source.url,
                when(source.last_polled_at),
                status,
                failure,
                str(counts.get(source.id, 0)),
                when(source.next_poll_at),
                reuse_setting_text(context.settings, source),
            )
        )
    stdout().print(table)


@sources_app.command("remove")
def sources_remove(ctx: typer.Context, source_id: Annotated[int, typer.Argument(help="Source id.")]) -> None:
    """Delete a source; its articles are kept."""
    context: AppContext = ctx.obj
    with exit_on(IngestError):
        remove_source(context.database, source_id)
    echo(f"Removed source {source_id} (its articles are kept).")


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
# Rights (presseschau.store.rights).
ReuseOption = Annotated[
    str | None,
    typer.Option(
        "--reuse",
        help="How much of its articles the site shows: full, excerpt, quote or headline ('' for the site default).",
    ),
]
ExcerptWordsOption = Annotated[
    int | None, typer.Option("--excerpt-words", help="Words of an excerpt (whole sentences; default 150).")
]
PermissionOption = Annotated[
    str | None,
    typer.Option(
        "--permission",
        help="Permission granted to reuse in full (who, when); lifts licence caps ('' to withdraw).",
    ),
]


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
    with exit_on(FilterError, code=REFUSED):
        return build_filters(
            include if include is not None else [rule.text for rule in base.include],
            exclude if exclude is not None else [rule.text for rule in base.exclude],
            min_words if min_words is not None else base.min_words,
            target_language if target_language is not None else base.target_language,
        )


@sources_app.command("edit")
def sources_edit(
    ctx: typer.Context,
    source_id: Annotated[int, typer.Argument(help="Source id.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    interval: Annotated[int | None, typer.Option(help="Poll interval in seconds.")] = None,
    policy: Annotated[str | None, typer.Option(help="Publish policy: auto, review or auto-unless-risky.")] = None,
    engine: Annotated[str | None, typer.Option(help="Translation engine ('' for the configured one).")] = None,
    risk_threshold: Annotated[
        float | None, typer.Option(help="auto-unless-risky holds articles with a risk from this (0 to 1).")
    ] = None,
    enabled: Annotated[bool | None, typer.Option("--resume/--pause", help="Poll the source or pause it.")] = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    min_words: MinWordsOption = None,
    target_language: TargetLanguageOption = None,
    clear_filters: Annotated[bool, typer.Option("--clear-filters", help="Remove every filter rule first.")] = False,
    tag: TagOption = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Language of the source's articles.")] = None,
    country: CountryOption = None,
    outlet_kind: OutletKindOption = None,
) -> None:
    """Change a source's settings and filters. Stored articles are not touched (see `sources refilter`)."""
    context: AppContext = ctx.obj
    changes: dict[str, Any] = {}
    for key, value in (
        ("name", name),
        ("poll_interval_s", interval),
        ("publish_policy", policy),
        ("engine", engine),
        ("risk_threshold", risk_threshold),
        ("enabled", enabled),
        ("tags", tag),
        ("language", lang),
        ("country", country),
        ("outlet_kind", outlet_kind),
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
        raise fail("nothing to change; see `presseschau sources edit --help`", REFUSED)
    with exit_on(IngestError):
        source = update_source(context.database, source_id, checks=SOURCE_CHECKS, **changes)
    echo(f"Source {source.id} saved: {source.name}; filters: {source_filters(source).describe()}")


@sources_app.command("show")
def sources_show(ctx: typer.Context, source_id: Annotated[int, typer.Argument(help="Source id.")]) -> None:
    """Show a source's settings: interval, policy, engine, tags, filters, glossary additions."""
    from presseschau.translate.glossary import format_glossary_additions

    context: AppContext = ctx.obj
    with context.database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise fail(f"source {source_id}: no such source")
        filters = source_filters(source)
        lines = [
            f"Source {source.id}: {source.name} <{source.url}>",
            f"Kind:      {source.kind}, language {source.language}, {'enabled' if source.enabled else 'paused'}",
            f"Outlet:    country {source.country or '–'}, kind {source.outlet_kind or '–'}",
            f"Interval:  {source.poll_interval_s} s, policy {source.publish_policy}"
            + (f" (risk threshold {source.risk_threshold:.2f})" if source.risk_threshold is not None else "")
            + ", "
            f"engine {source.engine or 'default'}",
            f"Tags:      {', '.join(str(tag) for tag in source.tags or ()) or '–'}",
            f"Include:   {', '.join(rule.text for rule in filters.include) or '–'}",
            f"Exclude:   {', '.join(rule.text for rule in filters.exclude) or '–'}",
            f"Min words: {filters.min_words or '–'}",
            "Already in the target language: "
            + ("publish as is (original)" if filters.target_language == "publish" else "skip"),
        ]
        lines.append(f"Reuse:     {reuse_setting_text(context.settings, source)}")
        if source.reuse_permission:
            lines.append(f"Permission: {source.reuse_permission}")
        glossary = format_glossary_additions(source.glossary)
        if glossary:
            lines.append("Glossary:  " + glossary.replace("\n", "; "))
    # Outside data (names, rules) is printed as text, never as console markup.
    echo("\n".join(lines))


@sources_app.command("refilter")
def sources_refilter(ctx: typer.Context, source_id: Annotated[int, typer.Argument(help="Source id.")]) -> None:
    """Apply the source's current filters to its stored articles that are not translated yet."""
    context: AppContext = ctx.obj
    with exit_on(IngestError):
        report = refilter_source(context.database, context.settings, source_id)
    echo(
        f"Source {source_id}: {report.held} held back, {report.released} queued for translation, "
        f"{report.unchanged} unchanged, {report.kept_translated} already translated (kept)."
    )


@sources_app.command("import")
def sources_import(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An OPML file (as feed readers export it).")],
) -> None:
    """Add the feeds of an OPML file as sources (all or none; duplicates are reported, not added)."""
    context: AppContext = ctx.obj
    try:
        data = path.read_bytes()
    except OSError as error:
        raise fail(f"{path}: cannot read ({error.strerror or error})") from None
    with exit_on(IngestError, suffix=" (nothing was added)"):
        report = import_opml(context.database, context.settings, data, str(path), checks=SOURCE_CHECKS)
    print_opml_report(report)


def print_opml_report(report: OpmlImportReport) -> None:
    echo(f"Added {len(report.added)} source(s), {len(report.duplicates)} duplicate(s) not added.")
    for source_id, name, url in report.added:
        echo(f"  + {source_id}: {name} <{url}>")
    for url, why in report.duplicates:
        echo(f"  = {url}: {why}")


@sources_app.command("export")
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
    echo(f"Exported the sources to {output}", err=True)


# fetch / import ----------------------------------------------------------------------------------


@app.command("fetch")
def fetch_command(
    ctx: typer.Context,
    source: Annotated[int | None, typer.Option("--source", help="Poll only this source id.")] = None,
    due: Annotated[bool, typer.Option("--due", help="Poll only sources whose next poll time has come.")] = False,
) -> None:
    """Poll sources now: discover entries, fetch and extract new articles, queue them for translation."""
    context: AppContext = ctx.obj
    with exit_on(IngestError):
        ids = sources_to_poll(context.database, source, due)
        if not ids:
            echo("Nothing to poll: no enabled sources" + (" are due." if due else "."))
            return
        with progress_bar(context.console, "Fetching", total=len(ids)) as advance:
            report = fetch_and_publish(
                context.database, context.settings, source_id=source, due_only=due, progress=advance
            )
    _print_fetch_report(report)
    if report.all_failed:
        raise typer.Exit(1)


def _print_fetch_report(report: FetchReport) -> None:
    echo(
        f"Polled {report.sources_polled} source(s), {report.not_modified} not modified; "
        f"{report.entries_seen} entries seen."
    )
    echo(
        f"Articles: {report.articles_new} new, {report.articles_updated} updated, "
        f"{report.articles_unchanged} unchanged, {report.articles_duplicate} duplicate, "
        f"{report.not_english} not English."
        + (f" {report.filtered} held back by source filters." if report.filtered else "")
    )
    _print_failures(report.failures)


def _print_failures(failures: list[tuple[str, str]]) -> None:
    if failures:
        echo(f"{len(failures)} failure(s):")
        for what, reason in failures:
            echo(f"  {what}: {reason}")


@app.command("import")
def import_command(
    ctx: typer.Context,
    inputs: Annotated[list[str], typer.Argument(help="Article URLs or local .html / .html.gz files.")],
    url: Annotated[str | None, typer.Option("--url", help="Where the (single) file was originally published.")] = None,
) -> None:
    """Import single articles from URLs or saved HTML files."""
    context: AppContext = ctx.obj
    with exit_on(IngestError), progress_bar(context.console, "Importing", total=len(inputs)) as advance:
        report = import_inputs(context.database, context.settings, inputs, original_url=url, progress=advance)
    _print_import_report(report)
    if report.all_failed:
        raise typer.Exit(1)


def _print_import_report(report: ImportReport) -> None:
    echo(
        f"Imported {report.inputs} input(s): {report.articles_new} new, {report.articles_updated} updated, "
        f"{report.articles_unchanged} unchanged, {report.articles_duplicate} duplicate, "
        f"{report.not_english} not English."
    )
    if report.article_ids:
        echo("Article ids: " + ", ".join(str(article_id) for article_id in report.article_ids))
    _print_failures(report.failures)


@sources_app.command("set")
def sources_set(
    ctx: typer.Context,
    source_id: Annotated[int, typer.Argument(help="Source id.")],
    reuse: ReuseOption = None,
    excerpt_words: ExcerptWordsOption = None,
    permission: PermissionOption = None,
    bilingual: Annotated[
        bool | None, typer.Option("--bilingual/--no-bilingual", help="Readers may open the English original.")
    ] = None,
) -> None:
    """Set a source's rights: its reuse mode, excerpt length, permission note, bilingual reading.

    Articles translated narrower than the new setting allows are queued for a fuller translation."""
    context: AppContext = ctx.obj
    changes = {
        key: value
        for key, value in (
            ("reuse", reuse),
            ("excerpt_words", excerpt_words),
            ("reuse_permission", permission),
            ("bilingual", bilingual),
        )
        if value is not None
    }
    if not changes:
        raise fail("nothing to change; see `presseschau sources set --help`", REFUSED)
    with exit_on(IngestError):
        update_source(context.database, source_id, checks=SOURCE_CHECKS, **changes)
        queued = retranslate_for_reuse(context.database, context.settings, source_id)
    with context.database.session() as session:
        reindex_source(session, context.settings, source_id)  # search holds no more than the new mode shows
    with context.database.session() as session:
        source = session.get_one(Source, source_id)
        typer.echo(f"Source {source.id} ({source.name}): reuse {reuse_setting_text(context.settings, source)}")
    if queued:
        typer.echo(f"{queued} article(s) queued for a fuller translation.")
