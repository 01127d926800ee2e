"""`presseschau demo`: the whole product in one command, on bundled sample articles.

The samples (`presseschau/demo/samples/`) are English pages written for this project, each with
a German version of identical structure written by a human. Which engine translates them:
1. an explicitly chosen engine (`--engine`), else
2. the local engine (Firefox Translations, else CTranslate2) when its model is installed or can be
   pulled, else
3. the `memory` engine on a translation memory built from the bundled German versions, and the
   console and every page's attribution say so. Output of a test model is never shown.
"""

from __future__ import annotations

import gzip
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from presseschau.app import AppContext, progress_bar

SAMPLES_PACKAGE = "presseschau.demo"


class DemoDataError(RuntimeError):
    """The bundled samples are inconsistent (a packaging bug, named with the sample)."""


@dataclass(frozen=True)
class Sample:
    id: str
    english: Path
    german: Path
    url: str


def samples_dir() -> Path:
    return Path(str(resources.files(SAMPLES_PACKAGE).joinpath("samples")))


def load_samples(directory: Path | None = None) -> list[Sample]:
    directory = directory or samples_dir()
    manifest_path = directory / "manifest.toml"
    try:
        manifest = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise DemoDataError(f"cannot read the sample manifest {manifest_path}: {error}") from error
    samples = [
        Sample(
            id=str(entry["id"]),
            english=directory / entry["file"],
            german=directory / entry["translation"],
            url=str(entry["url"]),
        )
        for entry in manifest.get("sample", [])
    ]
    for sample in samples:
        for path in (sample.english, sample.german):
            if not path.is_file():
                raise DemoDataError(f"sample {sample.id}: file {path} is missing")
    return samples


def _read_html(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def memory_pairs(samples: list[Sample]) -> list[tuple[str, str]]:
    """English → German pairs (title and each paragraph's inline HTML) from the parallel pages.

    Both versions go through the same extractor as any imported page, so the English side is
    exactly what the translator will look up.
    """
    from presseschau.ingest.encoding import decode_bytes
    from presseschau.ingest.extract import extract_article

    pairs: list[tuple[str, str]] = []
    for sample in samples:
        english = extract_article(
            decode_bytes(_read_html(sample.english), subject=str(sample.english)).text, sample.url
        )
        german = extract_article(decode_bytes(_read_html(sample.german), subject=str(sample.german)).text, sample.url)
        if len(english.paragraphs) != len(german.paragraphs):
            raise DemoDataError(
                f"sample {sample.id}: {len(english.paragraphs)} English paragraphs but "
                f"{len(german.paragraphs)} German ones in {sample.german.name}"
            )
        if english.title and german.title:
            pairs.append((english.title, german.title))
        for source, target in zip(english.paragraphs, german.paragraphs, strict=True):
            if source.kind != target.kind:
                raise DemoDataError(f"sample {sample.id}: paragraph kinds differ ({source.kind} vs {target.kind})")
            pairs.append((source.html, target.html))
    return pairs


@dataclass(frozen=True)
class EngineChoice:
    name: str
    model: str | None
    reason: str


def choose_engine(context: AppContext, requested: str | None, model: str | None) -> EngineChoice:
    """The engine the demo uses, with the reason printed to the user (see module docstring)."""
    from presseschau.translate.engines import get_engine
    from presseschau.translate.engines.base import EngineError

    if requested:
        return EngineChoice(requested, model, f"engine {requested!r} chosen with --engine")
    local = ["firefox", "ct2"]
    if context.settings.engine in local:  # the configured local engine first
        local.remove(context.settings.engine)
        local.insert(0, context.settings.engine)
    reasons = []
    for name in local:
        try:
            # Finds an installed model, else pulls the default one; fails fast without network.
            engine = get_engine(name, context.settings, model=model)
            ready, why = engine.is_ready()
        except EngineError as error:
            ready, why = False, str(error)
        if ready:
            label = "Firefox Translations" if name == "firefox" else "CTranslate2"
            return EngineChoice(name, model, f"local {label} engine ready ({why})")
        reasons.append(f"{name}: {why}")
    return EngineChoice(
        "memory",
        None,
        f"no local translation model available ({'; '.join(reasons)}); using the bundled human translations "
        "through the translation memory (engine 'memory')",
    )


def attach_sample_sources(context: AppContext) -> int:
    """One paused source per sample outlet, so the demo site shows source pages and feeds.

    The outlets are fictional (`.example` hosts): their sources are never polled. Returns the
    number of sources created (0 on a re-run)."""
    from urllib.parse import urlsplit

    from sqlalchemy import select

    from presseschau.store.models import Article, Source

    created = 0
    with context.database.session() as session:
        orphans = session.scalars(
            select(Article).where(
                Article.source_id.is_(None),
                Article.outlet.is_not(None),
                Article.canonical_url.like("https://%.example/%"),
            )
        ).all()
        for article in orphans:
            parts = urlsplit(article.canonical_url)
            home = f"{parts.scheme}://{parts.netloc}/"
            source = session.scalars(select(Source).where(Source.url == home)).one_or_none()
            if source is None:
                source = Source(url=home, name=article.outlet or parts.netloc, kind="page", enabled=False)
                session.add(source)
                session.flush()
                created += 1
            article.source_id = source.id
    return created


def demo(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to serve on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to serve on (default 8000).")] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the site after building it.")] = True,
    engine: Annotated[str | None, typer.Option(help="Force an engine (ct2, memory, ...).")] = None,
    model: Annotated[str | None, typer.Option(help="Model name or path for the ct2 engine.")] = None,
) -> None:
    """Import the bundled sample articles, translate them to German, publish and serve the site."""
    from sqlalchemy import func, select

    from presseschau.config import settings_for_server
    from presseschau.ingest.service import import_inputs
    from presseschau.pipeline.service import PipelineService, RunOptions
    from presseschau.publish.service import publisher
    from presseschau.store.models import Publication
    from presseschau.translate.memory import TranslationMemory
    from presseschau.translate.service import queued_count, translate_queued

    context: AppContext = ctx.obj
    # Before anything is published: pages and feeds link to the address the demo serves.
    settings = context.settings = settings_for_server(context.settings, host, port)
    console = context.console
    console.print(f"[bold]presseschau demo[/] — data directory {escape(str(settings.data_dir))}")
    samples = load_samples()

    choice = choose_engine(context, engine, model)
    console.print(f"[bold]Engine:[/] {escape(f'{choice.name} — {choice.reason}')}")
    if choice.name == "memory":
        memory = TranslationMemory(context.database, settings.source_language, settings.target_language)
        added = memory.import_pairs(memory_pairs(samples), origin="import")
        console.print(f"Translation memory: {added} German segments from the bundled human translations")

    with progress_bar(console, "Importing samples", len(samples)) as advance:
        for sample in samples:
            import_inputs(context, [str(sample.english)], original_url=sample.url)
            advance(1, sample.english.name)
    attach_sample_sources(context)

    service = PipelineService(context, RunOptions(engine=choice.name, model=choice.model, serve=False))
    # A demo killed earlier (Ctrl-C, kill) may have left an article leased: take it back first.
    service.recover()

    stopped: str | None = None
    with progress_bar(console, "Translating", queued_count(context)) as advance:
        while True:
            # Ctrl-C in here gives the article's lease back (translate_queued) before it ends the demo.
            report = translate_queued(
                context,
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
            select(func.count()).select_from(Publication).where(Publication.status == "published")
        )
    url = f"http://{settings.host}:{settings.port}/"
    console.print(f"[bold green]{published} German articles published.[/]")
    console.print(f"Die Presseschau des Tages (stories from several outlets): {escape(url)}presseschau/")
    if not serve:
        return
    console.print(f"Serving the German site at [bold]{escape(url)}[/] (Ctrl-C stops)")
    service.install_signal_handlers()
    service.serve_forever()
