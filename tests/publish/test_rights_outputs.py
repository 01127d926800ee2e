"""Every output obeys the reuse mode: page, feeds, API, search (server and static), sitemaps,
static build. An `excerpt` article never leaks text past its excerpt, a CC BY-ND article is
capped at `reuse_if_no_derivatives` (quote) with the reason shown, a CC BY article is shown in
full with its licence named and linked.

The stored translations here are complete: as after a source was narrowed from `full`, the cut
must hold at the outputs, not only at translation time."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from presseschau.app import AppContext
from presseschau.editorial.tokens import create_token
from presseschau.publish import search
from presseschau.publish.static import build_site
from presseschau.store.models import Article, Source
from presseschau.web.app import create_app
from tests.publish.factories import Published, make_article

# Paragraph n carries the marker word of its number, German and English; a marker must appear in
# an output only where the paragraph may be shown.
GERMAN_MARKERS = ["Eichhorn", "Buchfink", "Zaunkönig", "Kleiber", "Rotkehlchen", "Gimpel", "Stieglitz", "Dompfaff"]
ENGLISH_MARKERS = ["Squirrel", "Chaffinch", "Wren", "Nuthatch", "Robin", "Bullfinch", "Goldfinch", "Hawfinch"]


def german(n: int) -> str:
    return f"Der {GERMAN_MARKERS[n]} sitzt heute früh im Garten und singt laut. Danach fliegt er weit fort."


def english(n: int) -> str:
    return f"The {ENGLISH_MARKERS[n]} sits in the garden this morning and sings loudly. Then it flies far away."


@dataclass
class RightsSite:
    excerpt: Published
    capped: Published
    open: Published
    excerpt_source: int


def _publish(context: AppContext, source: Source, licence: str | None, title: str) -> Published:
    with context.database.session() as session:
        made = make_article(
            session,
            context.settings,
            title_de=title,
            title_en=title + " (en)",
            body_de=[german(n) for n in range(8)],
            body_en=[english(n) for n in range(8)],
            source=session.merge(source),
        )
        article = session.get_one(Article, made.article_id)
        article.licence = licence
        article.licence_found = "link-rel" if licence else None
    # Published again so the search index sees the article as readers do (licence set after the factory).
    with context.database.session() as session:
        from presseschau.publish.service import publish

        publish(session, context.settings, made.article_id)
    return made


@pytest.fixture
def rights_site(context: AppContext) -> RightsSite:
    with context.database.session() as session:
        excerpt_source = Source(
            url="https://excerpt.example/feed", name="Auszugsblatt", reuse="excerpt", excerpt_words=30
        )
        full_source = Source(url="https://full.example/feed", name="Volltextblatt")
        session.add_all([excerpt_source, full_source])
        session.flush()
        session.expunge_all()
    return RightsSite(
        excerpt=_publish(context, excerpt_source, None, "Vögel im Auszug"),
        capped=_publish(context, full_source, "CC-BY-ND-4.0", "Vögel unter Keine-Bearbeitung"),
        open=_publish(context, full_source, "CC-BY-4.0", "Vögel unter Namensnennung"),
        excerpt_source=excerpt_source.id,
    )


# What each may show: excerpt (30 words) = paragraphs 0-1; quote = the first two sentences.
EXCERPT_SHOWN = {0, 1}
QUOTE_SHOWN = {0}


def hidden_markers(shown: set[int]) -> list[str]:
    return [m for n, m in enumerate(GERMAN_MARKERS) if n not in shown] + [
        m for n, m in enumerate(ENGLISH_MARKERS) if n not in shown
    ]


def assert_hidden(text: str, where: str) -> None:
    for marker in hidden_markers(EXCERPT_SHOWN):
        assert marker not in text, f"{where}: excerpt leaks {marker}"
    # The capped article's paragraphs 1.. share markers with the excerpt's shown ones, so only
    # the markers hidden in both are checked in shared outputs; the capped article's own page is checked below.


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


def test_the_excerpt_page_shows_at_most_n_words_and_the_link(client: TestClient, rights_site: RightsSite) -> None:
    page = client.get(f"/{rights_site.excerpt.slug}/").text
    for n in EXCERPT_SHOWN:
        assert GERMAN_MARKERS[n] in page
    assert_hidden(page, "excerpt page")
    assert "Weiterlesen im Original" in page and "https://news.example/articles/" in page
    body = etree.HTML(page).xpath('//div[contains(@class, "article-body")]')[0]
    words = " ".join(p.xpath("string()") for p in body.xpath("./p")).split()
    assert len(words) <= 30
    assert "Modus „Auszug“ (Quelle)" in page  # the decision's reason


def test_a_no_derivatives_page_is_capped_with_its_reason(client: TestClient, rights_site: RightsSite) -> None:
    page = client.get(f"/{rights_site.capped.slug}/").text
    assert "begrenzt auf „Zitat“" in page and "Keine Bearbeitungen" in page
    body = etree.HTML(page).xpath('//div[contains(@class, "article-body")]')[0]
    shown = body.xpath("string()")
    assert "Eichhorn" in shown and "Danach fliegt er weit fort." in shown
    for marker in GERMAN_MARKERS[1:]:
        assert marker not in page
    for marker in ENGLISH_MARKERS[1:]:
        assert marker not in page
    assert 'href="https://creativecommons.org/licenses/by-nd/4.0/"' in page
    assert "Originalartikel" not in shown  # nothing but the quote in the body
    assert not body.xpath('.//*[@lang="en"]')  # no bilingual reading


def test_a_cc_by_page_is_full_with_the_licence_named_and_linked(client: TestClient, rights_site: RightsSite) -> None:
    page = client.get(f"/{rights_site.open.slug}/").text
    for marker in GERMAN_MARKERS + ENGLISH_MARKERS:
        assert marker in page  # every paragraph, and each English original in its <details>
    tree = etree.HTML(page)
    link = tree.xpath('//a[@rel="license"]')[0]
    assert link.get("href") == "https://creativecommons.org/licenses/by/4.0/" and "CC BY 4.0" in link.text
    assert tree.xpath('//details[@class="paragraph-extras"]/p[@lang="en"]')
    ld = json.loads(tree.xpath('//script[@type="application/ld+json"]')[0].text)
    assert ld["isBasedOn"]["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert ld["isBasedOn"]["url"].startswith("https://news.example/")


@pytest.mark.parametrize("path", ["/feed.xml", "/atom.xml", "/feed.json"])
def test_feeds_carry_no_more_than_the_mode(client: TestClient, rights_site: RightsSite, path: str) -> None:
    text = client.get(path).text
    excerpt_feed = client.get(f"/quelle/{rights_site.excerpt_source}{path}").text
    assert "Weiterlesen im Original" in excerpt_feed
    assert_hidden(excerpt_feed, f"source feed {path}")
    # The site feed holds the open article in full; the capped and excerpt ones only as allowed.
    assert text.count("Dompfaff") == 1 and text.count("Hawfinch") == 0
    assert "CC BY-ND 4.0" in text and "CC BY 4.0" in text  # dc:rights / <rights> / _rights
    assert "Maschinell übersetzt" in text


def test_rss_items_carry_dc_rights(client: TestClient, rights_site: RightsSite) -> None:
    root = etree.fromstring(client.get("/feed.xml").content)
    rights = root.xpath("//item/dc:rights/text()", namespaces={"dc": "http://purl.org/dc/elements/1.1/"})
    assert len(rights) == 3 and any("nicht angegeben" in r for r in rights)


def test_the_api_carries_no_more_than_the_mode(
    client: TestClient, context: AppContext, rights_site: RightsSite
) -> None:
    with context.database.session() as session:
        _, secret = create_token(session, "reader", "editor", "read")
    headers = {"Authorization": f"Bearer {secret}"}
    article = client.get(f"/api/v1/articles/{rights_site.excerpt.article_id}", headers=headers).json()
    translation = client.get(f"/api/v1/translations/{rights_site.excerpt.translation_id}", headers=headers).json()
    assert article["reuse"]["mode"] == translation["reuse"]["mode"] == "excerpt"
    assert_hidden(json.dumps(article, ensure_ascii=False), "API article")
    assert_hidden(json.dumps(translation, ensure_ascii=False), "API translation")
    capped = client.get(f"/api/v1/articles/{rights_site.capped.article_id}", headers=headers).json()
    assert capped["reuse"] | {"reason": ""} == {
        "mode": "quote", "reason": "", "licence": "CC-BY-ND-4.0", "licence_found": "link-rel",
        "licence_url": None, "capped": True, "excerpt_words": 150,
    }  # fmt: skip


def test_search_finds_nothing_past_the_excerpt(context: AppContext, rights_site: RightsSite) -> None:
    with context.database.session() as session:
        shown = {hit.publication_id for hit in search.search(session, "Buchfink", "de")}
        hidden = {hit.publication_id for hit in search.search(session, "Dompfaff", "de")}
        hidden_en = {hit.publication_id for hit in search.search(session, "Hawfinch", "de")}
    assert rights_site.excerpt.publication_id in shown
    assert rights_site.excerpt.publication_id not in hidden | hidden_en
    assert rights_site.capped.publication_id not in hidden | hidden_en
    assert rights_site.open.publication_id in hidden


def _static_search_texts(out: Path) -> dict[str, str]:
    """Each article URL's searchable text in the static build's search index, whichever kind it is."""
    fragments = sorted((out / "pagefind" / "fragment").glob("*.pf_fragment"))
    if fragments:
        texts = {}
        for fragment in fragments:
            record = json.loads(gzip.decompress(fragment.read_bytes()).removeprefix(b"pagefind_dcd"))
            texts[record["url"]] = record["content"]
        return texts
    index = json.loads((out / "suche" / "index.json").read_text("utf-8"))
    stem = search.stem("dompfaff")
    return {entry["url"]: " ".join(entry["terms"]).replace(stem, "Dompfaff") for entry in index["articles"]}


def test_the_static_build_obeys_the_mode_in_every_file(
    context: AppContext, rights_site: RightsSite, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    assert rights_site.open.slug is not None
    for path in out.rglob("*"):
        if not path.is_file() or path.suffix not in (".html", ".xml", ".json"):
            continue
        text = path.read_text("utf-8")
        if rights_site.open.slug and path.is_relative_to(out / rights_site.open.slug):
            continue  # the full article's own pages
        for marker in ("Dompfaff", "Hawfinch", "Stieglitz", "Goldfinch"):
            if marker in text:
                # Only the full article may carry them, in lists of whole feeds.
                assert path.name in ("feed.xml", "atom.xml", "feed.json") and rights_site.open.slug in text, path
    # The static search index: Pagefind's chunks (read from the shown pages), else the one-file index.
    searchable = _static_search_texts(out)
    assert "Dompfaff" not in searchable[f"/{rights_site.excerpt.slug}/"]
    assert "Dompfaff" in searchable[f"/{rights_site.open.slug}/"]
    assert (out / rights_site.open.slug / "zweisprachig" / "index.html").is_file()
    assert not (out / str(rights_site.excerpt.slug) / "zweisprachig").exists()
    assert (out / "korrekturen" / "index.html").is_file() and (out / "korrekturen" / "feed.xml").is_file()


def test_a_headline_source_shows_title_and_teaser_only(client: TestClient, context: AppContext) -> None:
    with context.database.session() as session:
        source = Source(url="https://headline.example/feed", name="Schlagzeilenblatt", reuse="headline")
        session.add(source)
        session.flush()
        session.expunge(source)
    made = _publish(context, source, None, "Vögel in der Schlagzeile")
    page = client.get(f"/{made.slug}/").text
    body = etree.HTML(page).xpath('//div[contains(@class, "article-body")]')[0]
    assert [p.get("class") for p in body.xpath("./*")] == ["lead"]  # the teaser, nothing else
    assert "Weiterlesen im Original" in page and "Nur Titel und Anriss" in page
    for marker in GERMAN_MARKERS[1:] + ENGLISH_MARKERS[1:]:
        assert marker not in page
    feed = client.get("/feed.json").json()
    item = next(i for i in feed["items"] if i["title"] == "Vögel in der Schlagzeile")
    assert item["_rights"]["reuse"] == "headline"
    assert not any(marker in item["content_html"] for marker in GERMAN_MARKERS[1:])
