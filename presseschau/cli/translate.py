"""`engines`, `translate-text`, `translate`, `memory import|export|stats`, `models list|pull|import|remove`,
`glossary`: thin wrappers around `presseschau.translate`."""

from __future__ import annotations

import html
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select

from presseschau.app import AppContext
from presseschau.cli.output import echo, exit_on, fail, progress_bar, quiet_logger, when
from presseschau.cli.output import verbose as is_verbose
from presseschau.cli.root import app
from presseschau.content import Paragraph, sanitize_inline_html
from presseschau.pipeline.steps import translate_and_publish
from presseschau.publish.service import publish_orphaned
from presseschau.store.models import Translation, TranslationStatus
from presseschau.store.queue import recover_orphaned_leases
from presseschau.translate import usage
from presseschau.translate.document import Document
from presseschau.translate.engines import EngineError, engine_specs
from presseschau.translate.glossary import Glossary, GlossaryError, glossary_for
from presseschau.translate.memory import MemoryFormatError, TranslationMemory
from presseschau.translate.models.catalog import CATALOG, ModelInstallError, ModelStore, read_meta
from presseschau.translate.models.download import DownloadError
from presseschau.translate.models.firefox_records import architecture_preference, parse_model_name
from presseschau.translate.pauses import load_pauses
from presseschau.translate.queue import queued_count
from presseschau.translate.translating import translate_with_fallback

EngineOption = Annotated[
    str | None,
    typer.Option("--engine", help="Engine: firefox, ct2, deepl, libretranslate, llm, memory (default: settings)."),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Catalog name, installed model name, or a model directory (Firefox Translations files or CTranslate2).",
    ),
]
FromOption = Annotated[str | None, typer.Option("--from", help="Source language (default: settings).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Target language (default: settings).")]


@app.command("engines")
def engines_command(ctx: typer.Context) -> None:
    """List translation engines and whether each is ready."""
    context: AppContext = ctx.obj
    table = Table("engine", "ready", "details", "description")
    for spec in engine_specs():
        ready, reason = spec.probe(context.settings)
        table.add_row(*(Text(cell) for cell in (spec.name, "yes" if ready else "no", reason, spec.description)))
    context.console.print(table)


@app.command("translate-text")
def translate_text_command(
    ctx: typer.Context,
    engine: EngineOption = None,
    model: ModelOption = None,
    source: FromOption = None,
    target: ToOption = None,
    as_html: Annotated[
        bool,
        typer.Option("--html", help="Paragraphs are inline HTML (links, emphasis): tags kept, HTML printed."),
    ] = False,
) -> None:
    """Translate paragraphs (separated by blank lines) from stdin to stdout."""
    context: AppContext = ctx.obj
    settings = context.settings
    raw = sys.stdin.read()
    # A line with only spaces separates paragraphs as much as an empty one does.
    blocks = [" ".join(block.split()) for block in re.split(r"\n[ \t\f\v]*\n", raw.replace("\r\n", "\n"))]
    paragraphs = [
        Paragraph("p", sanitize_inline_html(block)) if as_html else Paragraph.from_text(block)
        for block in blocks
        if block
    ]
    try:
        with usage.metering() as meter:
            _, result, fallback = translate_with_fallback(
                context.database,
                context.settings,
                Document("", paragraphs),
                engine or settings.engine,
                model,
                source,
                target,
            )
    except EngineError as error:
        raise fail(f"{type(error).__name__}: {error}") from error
    if as_html:
        echo("\n\n".join(p.html for p in result.paragraphs))
    else:
        # Plain text, but keeping the typography (non-breaking spaces) that Paragraph.text collapses.
        echo("\n\n".join(html.unescape(re.sub(r"<[^>]+>", "", p.html)) for p in result.paragraphs))
    context.console.print(f"[dim]{escape(result.report.summary())}[/dim]")
    if fallback:
        context.console.print(
            f"[yellow]fallback engine {escape(str(fallback['fallback_engine']))}[/yellow]: "
            + escape(str(fallback["fallback_reason"]))
        )
    for name, used in meter.to_json().items():
        context.console.print(
            "[dim]" + escape(f"usage {name}: " + ", ".join(f"{k}={v}" for k, v in used.items())) + "[/dim]"
        )
    if not result.complete:
        for failed in result.report.failed_segments:
            context.console.print("[red]failed[/red] " + escape(f"({failed['reason']}): {failed['source'][:100]}"))
        raise typer.Exit(2)


@app.command("translate")
def translate_command(
    ctx: typer.Context,
    engine: EngineOption = None,
    model: ModelOption = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Translate at most N articles.")] = None,
) -> None:
    """Translate queued articles; failures are recorded per article and retried later."""
    context: AppContext = ctx.obj
    with context.database.session() as session:
        reclaimed = recover_orphaned_leases(session, context.settings.translation_max_attempts)
        repaired = publish_orphaned(session, context.settings)
    if reclaimed:
        echo(f"Took back {reclaimed} article(s) a translate or run process on this host held when it died.")
    if repaired:
        echo(f"{repaired} finished translations without a publication were published or held by policy")
    queued = queued_count(context.database, context.settings)
    if queued == 0:
        echo("Nothing to translate: the queue is empty.")
        return
    total = queued if limit is None else min(queued, limit)
    # The engine's "cannot run" warning would repeat what the last line says: --verbose shows it.
    with (
        quiet_logger("presseschau.translate", unless=is_verbose()),
        progress_bar(context.console, "Translating", total) as advance,
    ):
        report = translate_and_publish(
            context.database, context.settings, limit=limit, engine_name=engine, model=model, progress=advance
        )
    echo(f"{report.done} done, {report.failed} failed or re-queued, {report.lost_lease} lost leases")
    for outcome in report.outcomes:
        if outcome.error and outcome.error != report.aborted:  # the reason that stopped the run: said once, below
            echo(f"  article {outcome.article_id}: {outcome.error}", err=True)
    if report.aborted:
        raise fail(f"nothing more translated: {report.aborted}")
    if report.done == 0 and total > 0:  # `--limit 0` asks for nothing: not a failure
        raise fail(_why_nothing(context, queued))


def _why_nothing(context: AppContext, queued: int) -> str:
    """Why a run with articles in the queue translated none: a paused engine, or none due yet."""
    now = datetime.now(UTC)
    with context.database.session() as session:
        pauses = [pause for pause in load_pauses(session).values() if pause.active(now)]
        next_due = session.scalar(
            select(func.min(Translation.next_attempt_at)).where(
                Translation.status == TranslationStatus.QUEUED, Translation.language == context.settings.target_language
            )
        )
    articles = f"{queued} article{'s' if queued != 1 else ''}"
    if pauses:
        pause = pauses[0]
        until = f"until {when(pause.until)}" if pause.until else "until it is fixed"
        return f"nothing translated: {articles} wait; {pause.subject} is paused {until}: {pause.reason}"
    if next_due is not None:
        return f"nothing translated: {articles} queued, none due before {when(next_due)} (retries wait)"
    return f"nothing translated: {articles} queued, all being translated by another process"


memory_app = typer.Typer(help="Translation memory: import, export, statistics.", no_args_is_help=True)
app.add_typer(memory_app, name="memory")


def _memory(context: AppContext, source: str | None, target: str | None) -> TranslationMemory:
    settings = context.settings
    return TranslationMemory(context.database, source or settings.source_language, target or settings.target_language)


@memory_app.command("import")
def memory_import(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="TMX (.tmx) or TSV file.")],
    source: FromOption = None,
    target: ToOption = None,
    origin: Annotated[str, typer.Option(help="import | reviewed")] = "import",
) -> None:
    """Import translation pairs (TSV: source<TAB>target per line; or TMX 1.4)."""
    context: AppContext = ctx.obj
    with exit_on(MemoryFormatError, ValueError):
        count = _memory(context, source, target).import_file(path, source, target, origin=origin)
    echo(f"{count} entries imported from {path}")


@memory_app.command("export")
def memory_export(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Argument(help="File to write (default: stdout).")] = None,
    format: Annotated[str, typer.Option("--format", help="tsv | tmx (default: from the file name)")] = "",
    source: FromOption = None,
    target: ToOption = None,
) -> None:
    """Export the memory of a language pair as TSV or TMX."""
    context: AppContext = ctx.obj
    chosen = format or ("tmx" if output is not None and output.suffix.lower() == ".tmx" else "tsv")
    if chosen not in ("tsv", "tmx"):
        raise fail(f"unknown format {chosen!r}; use tsv or tmx")
    memory = _memory(context, source, target)
    count = memory.export(output if output is not None else sys.stdout, "tmx" if chosen == "tmx" else "tsv")
    if output is not None:
        echo(f"{count} entries written to {output}")


@memory_app.command("stats")
def memory_stats(ctx: typer.Context, source: FromOption = None, target: ToOption = None) -> None:
    """Entries and uses per origin."""
    context: AppContext = ctx.obj
    memory = _memory(context, source, target)
    stats = memory.stats()
    echo(f"{memory.source_language}→{memory.target_language}: " + ", ".join(f"{k} {v}" for k, v in stats.items()))


models_app = typer.Typer(
    help="Translation models: Firefox Translations (engine firefox) and CTranslate2 (engine ct2).",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(ctx: typer.Context) -> None:
    """Installed models and the catalog."""
    context: AppContext = ctx.obj
    store = ModelStore.for_settings(context.settings)
    installed = store.installed()
    table = Table(title="Models")
    table.add_column("model", no_wrap=True)  # names are typed back into `models pull/remove`
    for column in ("engine", "installed", "size", "license", "quality / details"):
        table.add_column(column)
    names = {m.name for m in installed}
    for model in installed:
        meta = model.meta
        kind = " ".join(part for part in (meta.architecture, meta.version) if part)
        details = [
            f"{'/'.join(meta.source_languages)}→{'/'.join(meta.target_languages)}",
            *([kind] if kind else []),
            *([meta.quality] if meta.quality else []),
            f"sha256 {(meta.sha256 or '-')[:16]}",
        ]
        table.add_row(
            Text(model.name),
            meta.format,
            "yes",
            f"{model.size_bytes / 1e6:.0f} MB",
            Text(meta.license or "?"),
            Text("; ".join(details)),
        )
    for entry in CATALOG.values():
        if entry.name not in names:
            default = " (default)" if entry.default else ""
            engine = "firefox" if entry.format == "firefox" else "ct2"
            table.add_row(entry.name + default, engine, "no", entry.download_size, entry.license, entry.quality)
    context.console.print(table)
    echo(f"models directory: {store.models_dir}")
    echo("Firefox Translations: `models pull firefox-SRC-TRG` pulls any pair Mozilla publishes.")


@models_app.command("pull")
def models_pull(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Catalog name, or firefox-SRC-TRG (e.g. firefox-en-de).")],
) -> None:
    """Download (resumable, checksummed), convert and install a model."""
    context: AppContext = ctx.obj
    store = ModelStore.for_settings(context.settings)
    pair = parse_model_name(name)
    entry = CATALOG.get(name)
    if entry is None and pair is None:
        raise fail(f"{name!r} is neither in the catalog ({', '.join(CATALOG)}) nor a name like firefox-en-de")
    if entry is not None:
        echo(f"{entry.name}: {entry.description}; {entry.download_size}; license {entry.license}")
    with progress_bar(context.console, f"Downloading {name}", None) as advance:
        last = [0]

        def progress(done: int, total: int | None) -> None:
            shown = f"{done / 1e6:.0f}/{total / 1e6:.0f} MB" if total else f"{done / 1e6:.0f} MB"
            advance(max(0, done - last[0]), shown)
            last[0] = done

        try:
            if pair is not None:
                preference = architecture_preference(context.settings.firefox_architecture)
                paths = store.pull_firefox(*pair, preference=preference, progress=progress)
            else:
                assert entry is not None
                paths = [store.pull(entry, progress=progress)]
        except (DownloadError, ModelInstallError, EngineError) as error:
            raise fail(f"{type(error).__name__}: {error}") from error
    for path in paths:
        meta = read_meta(path)
        kind = " ".join(part for part in (meta.architecture, meta.version) if part)
        echo(f"installed {path.name} at {path}" + (f" ({kind}, license {meta.license})" if kind else ""))
    if len(paths) > 1:
        echo(f"{name} translates through {paths[0].name.rsplit('-', 1)[-1]} (two models)")


@models_app.command("import")
def models_import(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            exists=True,
            help="A Firefox Translations model's files (directory; plain, .gz or .zst), a CTranslate2 "
            "model directory, or an OPUS-MT release directory or archive.",
        ),
    ],
    name: Annotated[str | None, typer.Option("--name", help="Name to install it as.")] = None,
    source: FromOption = None,
    target: ToOption = None,
) -> None:
    """Install a local model (converting OPUS-MT/Marian releases with CTranslate2's converter)."""
    context: AppContext = ctx.obj
    try:
        store = ModelStore.for_settings(context.settings)
        installed = store.import_path(path, name=name, source_language=source, target_language=target)
    except (EngineError, ModelInstallError, DownloadError) as error:
        raise fail(f"{type(error).__name__}: {error}") from error
    meta = read_meta(installed)
    echo(
        f"installed {installed.name} at {installed} ({meta.format}, "
        f"{'/'.join(meta.source_languages)}→{'/'.join(meta.target_languages)})"
    )


@models_app.command("remove")
def models_remove(ctx: typer.Context, name: str) -> None:
    """Delete an installed model."""
    context: AppContext = ctx.obj
    with exit_on(EngineError):
        ModelStore.for_settings(context.settings).remove(name)
    echo(f"removed {name}")


@app.command("glossary")
def glossary_command(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="Glossary file (default: settings.glossary_path).")] = None,
) -> None:
    """Check a glossary file and list its terms."""
    context: AppContext = ctx.obj
    with exit_on(GlossaryError, OSError):
        glossary = Glossary.load(path) if path else glossary_for(context.settings)
    if glossary is None:
        raise fail("no glossary: give a file or set glossary_path in presseschau.toml")
    for term in glossary.terms:
        echo(f"{term.source}\t→ {term.target}" + ("" if term.source != term.target else "\t(kept)"))
    echo(f"{len(glossary.terms)} terms OK", err=True)
