"""Fixture data straight through the store models (the ingest and translate stages are not needed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.content import Paragraph, paragraphs_to_json
from presseschau.publish.service import on_translation_done
from presseschau.store.models import Article, Publication, Source, Translation

_numbers = count(1)

GERMAN_BODY = [
    "Russlands Invasion der Ukraine begann mit einem Marsch in Richtung Kiew.",
    "Belarus diente dabei als Aufmarschgebiet, und Lukaschenko ließ die Truppen gewähren.",
    "Ein Streit über den Export von Milchprodukten belastete die Beziehungen zu Washington über Jahre.",
    "Kontrafaktische Überlegungen sind immer riskant, aber Moskau hätte es schwerer gehabt.",
]
ENGLISH_BODY = [
    "Russia's invasion of Ukraine opened with a march toward Kyiv.",
    "Belarus served as the staging ground, and Lukashenko let the troops pass.",
    "A dispute over dairy product exports strained relations with Washington for years.",
    "Counterfactuals are always risky, but Moscow would have had a harder time.",
]


@dataclass
class Published:
    article_id: int
    translation_id: int
    publication_id: int | None
    slug: str | None


def make_source(session: Session, name: str = "Foreign Policy", policy: str = "auto") -> Source:
    n = next(_numbers)
    source = Source(url=f"https://source{n}.example/feed.xml", name=name, publish_policy=policy, kind="feed")
    session.add(source)
    session.flush()
    return source


def make_article(
    session: Session,
    settings: Settings,
    *,
    title_de: str = "Was wäre, wenn die USA Belarus nicht aufgegeben hätten",
    title_en: str = "What if the US hadn't abandoned Belarus?",
    body_de: Sequence[str | Paragraph] = GERMAN_BODY,
    body_en: Sequence[str | Paragraph] = ENGLISH_BODY,
    source: Source | None = None,
    outlet: str | None = "Foreign Policy",
    authors: Sequence[str] = ("Jane Doe", "John Roe"),
    published_at: datetime | None = None,
    engine: str = "ct2",
    model: str | None = "opus-mt-en-de",
    status: str = "done",
    reviewed: bool = False,
    publish: bool = True,
) -> Published:
    """An article with a translation (status `status`), passed to the publish service when `publish`."""
    n = next(_numbers)
    article = Article(
        url=f"https://news.example/{n}",
        canonical_url=f"https://news.example/articles/{n}",
        outlet=outlet,
        title=title_en,
        authors=list(authors),
        published_at=published_at or datetime(2024, 2, 13, 12, 0, tzinfo=UTC) + timedelta(minutes=n),
        paragraphs=paragraphs_to_json(_paragraphs(body_en)),
        source_id=source.id if source else None,
        fetch_status="ok",
        language="en",
    )
    session.add(article)
    session.flush()
    translation = Translation(
        article_id=article.id,
        language=settings.target_language,
        engine=engine,
        model=model,
        title=title_de,
        paragraphs=paragraphs_to_json(_paragraphs(body_de)),
        status=status,
        reviewed=reviewed,
        translated_at=datetime.now(UTC) if status == "done" else None,
    )
    session.add(translation)
    session.flush()
    session.refresh(article)
    publication: Publication | None = on_translation_done(session, translation, settings) if publish else None
    return Published(
        article.id, translation.id, publication.id if publication else None, publication.slug if publication else None
    )


def _paragraphs(items: Sequence[str | Paragraph]) -> list[Paragraph]:
    return [item if isinstance(item, Paragraph) else Paragraph.from_text(item) for item in items]


def make_site(session: Session, settings: Settings, count: int = 5) -> list[Published]:
    """Two sources and `count` published articles, oldest first, with structured bodies."""
    policy_sources = [make_source(session, "Foreign Policy"), make_source(session, "The Guardian")]
    titles = [
        "Was wäre, wenn die USA Belarus nicht aufgegeben hätten",
        "Mitten in der Wahlentrüstung kämpft Senegal darum, nicht dem „Putschgürtel“ zu erliegen",
        "Ukraine-, Israel- und Taiwan-Hilfe geht nun an ein gespaltenes Haus",
        "Warum Belarus für Europa wichtig bleibt",
        "Die Krim und die Grenzen der Diplomatie",
    ]
    made = []
    for i in range(count):
        body: list[str | Paragraph] = [
            *GERMAN_BODY[:2],
            Paragraph("h2", "Ein Streit über <em>Milchprodukte</em>"),
            Paragraph("li", "Erstens: Exporte"),
            Paragraph("li", "Zweitens: Sanktionen"),
            Paragraph("blockquote", "„Wir haben Belarus verloren“, sagte ein Diplomat."),
            Paragraph("p", 'Mehr dazu <a href="https://example.org/x">in der Analyse</a> von Lukaschenkos Politik.'),
            *GERMAN_BODY[2:],
        ]
        made.append(
            make_article(
                session,
                settings,
                title_de=titles[i % len(titles)] + ("" if i < len(titles) else f" ({i})"),
                title_en=f"Original English title {i}",
                body_de=body,
                source=policy_sources[i % 2],
                outlet=policy_sources[i % 2].name,
                published_at=datetime(2024, 2, 10 + i % 15, 9, 0, tzinfo=UTC),
                engine="memory" if i == 1 else "ct2",
                reviewed=i == 2,
            )
        )
    return made
