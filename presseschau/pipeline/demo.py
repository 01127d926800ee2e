"""The demo's flow (the command `presseschau.cli.demo` only prints and serves): bundled sample
articles, the engine choice, importing, translating and publishing them.

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

from presseschau.app import AppContext
from presseschau.progress import Progress

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


def load_samples(directory: Path | None = None, table: str = "sample") -> list[Sample]:
    """The bundled samples of the manifest's `table`: "sample" (published as they are) or
    "review_sample" (an injected fault that the quality estimate must catch, see `add_review_samples`)."""
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
        for entry in manifest.get(table, [])
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
    """The demo's engine, why (one line), and what was tried before it."""

    name: str
    model: str | None
    reason: str
    # (engine, why it was not used) for each local engine tried before this one.
    tried: tuple[tuple[str, str], ...] = ()


def short_reason(why: str, limit: int = 70) -> str:
    """The first clause of an engine's explanation ("no Firefox Translations model for en→de"):
    the demo prints that, and the whole explanation with --verbose."""
    head = why.split(" (", 1)[0].split(". ", 1)[0].strip().rstrip(".")
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


def choose_demo_engine(context: AppContext, requested: str | None, model: str | None) -> EngineChoice:
    """The engine the demo uses, with the reason printed to the user (see module docstring): the
    translate stage's rule (`choose_engine`: an explicit choice, else the configured engine), then,
    unless chosen explicitly, the first local engine that is ready, else the translation memory."""
    from presseschau.translate.engines import get_engine
    from presseschau.translate.engines.base import EngineError
    from presseschau.translate.translating import choose_engine

    preferred = choose_engine(context.settings, requested)
    if requested:
        return EngineChoice(preferred, model, f"engine {requested!r} chosen with --engine")
    local = ["firefox", "ct2"]
    if preferred in local:  # the configured local engine first
        local.remove(preferred)
        local.insert(0, preferred)
    reasons: list[tuple[str, str]] = []
    for name in local:
        try:
            # Finds an installed model, else pulls the default one; fails fast without network.
            engine = get_engine(name, context.settings, model=model)
            ready, why = engine.is_ready()
        except EngineError as error:
            ready, why = False, str(error)
        if ready:
            label = "Firefox Translations" if name == "firefox" else "CTranslate2"
            return EngineChoice(name, model, f"local {label} engine ready ({why})", tuple(reasons))
        reasons.append((name, why))
    return EngineChoice(
        "memory",
        None,
        "no translation model reachable: translating from the translation memory",
        tuple(reasons),
    )


# The fictional sample outlets' profiles (country, kind), shown next to them in the Presseschau.
SAMPLE_PROFILES = {
    "northerndispatch.example": ("GB", "newspaper"),
    "www.harbourledger.example": ("GB", "magazine"),
    "www.meridianpost.example": ("US", "newspaper"),
    "www.continentalreview.example": ("BE", "magazine"),
    "www.quaysidegazette.example": ("GB", "newspaper"),
}
# Rights in the demo (presseschau.store.rights): the Meridian Post grants excerpts only, of 350
# words (its Lisbon piece shows as an excerpt); its Gambia commentary declares CC BY-ND 4.0 and is
# capped at a quote. Every other outlet is shown in full, with bilingual reading; Northern
# Dispatch's wind farm report declares CC BY 4.0, named and linked on its page.
DEMO_RIGHTS: dict[str, dict[str, str | int]] = {"www.meridianpost.example": {"reuse": "excerpt", "excerpt_words": 350}}


def add_review_samples(context: AppContext) -> list[str]:
    """Import the samples with an injected fault: their (faulty) German versions go into the translation
    memory, which every engine consults first, and their outlets publish `auto-unless-risky` — so
    whichever engine the demo runs, the quality estimate holds them for review with the reason and
    the editor shows the flag. Returns the samples' URLs."""
    from urllib.parse import urlsplit

    from sqlalchemy import select

    from presseschau.ingest.importing import import_inputs
    from presseschau.store.models import Source
    from presseschau.translate.memory import TranslationMemory

    settings = context.settings
    samples = load_samples(table="review_sample")
    memory = TranslationMemory(context.database, settings.source_language, settings.target_language)
    memory.import_pairs(memory_pairs(samples), origin="import")
    for sample in samples:
        import_inputs(context.database, settings, [str(sample.english)], original_url=sample.url)
    attach_sample_sources(context)
    homes = {f"{urlsplit(sample.url).scheme}://{urlsplit(sample.url).netloc}/" for sample in samples}
    with context.database.session() as session:
        for source in session.scalars(select(Source).where(Source.url.in_(homes))):
            source.publish_policy = "auto-unless-risky"
    return [sample.url for sample in samples]


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
                country, outlet_kind = SAMPLE_PROFILES.get(parts.netloc, (None, None))
                rights = DEMO_RIGHTS.get(parts.netloc, {})
                source = Source(
                    url=home,
                    name=article.outlet or parts.netloc,
                    kind="page",
                    enabled=False,
                    country=country,
                    outlet_kind=outlet_kind,
                    **rights,
                )
                session.add(source)
                session.flush()
                created += 1
            article.source_id = source.id
    return created


def fill_translation_memory(context: AppContext, samples: list[Sample]) -> int:
    """Store the samples' human German versions in the translation memory (for the `memory`
    engine); returns the number of German segments added (0 on a re-run)."""
    from presseschau.translate.memory import TranslationMemory

    settings = context.settings
    memory = TranslationMemory(context.database, settings.source_language, settings.target_language)
    return memory.import_pairs(memory_pairs(samples), origin="import")


def import_samples(context: AppContext, samples: list[Sample], progress: Progress | None = None) -> None:
    """Import every sample page (queued for translation) and give each sample outlet its source;
    `progress(1, file name)` after each page."""
    from presseschau.ingest.importing import import_inputs

    for sample in samples:
        import_inputs(context.database, context.settings, [str(sample.english)], original_url=sample.url)
        if progress is not None:
            progress(1, sample.english.name)
    attach_sample_sources(context)
    # One more sample with an injected fault: held by `auto-unless-risky` for the editor's queue.
    add_review_samples(context)


def translate_samples(
    context: AppContext, choice: EngineChoice, owner: str, progress: Progress | None = None
) -> str | None:
    """Translate and publish the queue one article at a time under `owner`'s lease; returns why
    translation stopped early (an engine that cannot run), None when the queue is done.
    `progress(n)` after each article with the number claimed."""
    from presseschau.pipeline.steps import translate_and_publish

    while True:
        # Ctrl-C in here gives the article's lease back (translate_queued) before it ends the demo.
        report = translate_and_publish(
            context.database, context.settings, limit=1, engine_name=choice.name, model=choice.model, owner=owner
        )
        if progress is not None:
            progress(int(report.claimed), None)
        if report.aborted:
            return report.aborted
        if not report.claimed:
            return None


def publication_counts(context: AppContext) -> tuple[int, int]:
    """How many articles the site shows, and how many wait for an editor (held by the quality
    estimate: the demo's faulty sample); from the one count by status (`reporting.status_counts`)."""
    from presseschau import reporting
    from presseschau.store.models import PublicationStatus

    with context.database.session() as session:
        by_status = reporting.status_counts(session).publications
    return by_status.get(PublicationStatus.PUBLISHED, 0), by_status.get(PublicationStatus.HELD, 0)
