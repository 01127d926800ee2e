"""The hostile corpus through every output format: RSS, Atom, JSON Feed, sitemaps, the static build
and JSON-LD. Text that looks like markup arrives as text; characters XML forbids never appear;
every XML output parses with lxml (strict)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from presseschau.app import AppContext
from presseschau.publish.static import build_site
from presseschau.store.models import Source, Translation
from tests.hostile import MARKUP_TEXTS, XML_FORBIDDEN_RE, stored_html, with_controls
from tests.publish.factories import make_article, make_source
from tests.publish.validation import assert_valid_html, assert_valid_json_feed, assert_valid_rss_or_atom

TITLE = "Titel <img src=x onerror=alert(1)> & „Zitat“ Ende"
AUTHOR = "Ann <b onmouseover=alert(5)>Bold</b>"
SOURCE_NAME = "Quelle <script>alert(6)</script> [/bold]"
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "n": "http://www.google.com/schemas/sitemap-news/0.9",
}
LIVE_MARKUP = "//img | //script | //svg | //b | //i | //*[@onerror] | //*[@onload] | //*[@onmouseover]"


def _html_fragment(markup: str) -> lxml_html.HtmlElement:
    return lxml_html.fragment_fromstring(markup, create_parent="div")


def _assert_html_shows_text(markup: str, expected_text: str) -> None:
    """`markup`, read as HTML (as a feed reader does), shows `expected_text` and contains no live element."""
    fragment = _html_fragment(markup)
    assert not fragment.xpath(LIVE_MARKUP), markup
    assert expected_text in " ".join(fragment.text_content().split()), (expected_text, markup)


@pytest.fixture
def hostile_site(context: AppContext, tmp_path: Path) -> Path:
    with context.database.session() as session:
        source = make_source(session, name=stored_html(with_controls(SOURCE_NAME)))
        assert session.get(Source, source.id) is not None
        made = make_article(
            session,
            context.settings,
            title_de=stored_html(with_controls(TITLE)),
            title_en=stored_html(with_controls("Original " + MARKUP_TEXTS[1])),
            source=source,
            outlet=stored_html(with_controls("Outlet " + MARKUP_TEXTS[3])),
            authors=[stored_html(with_controls(AUTHOR))],
        )
        # Rows as an older version stored them, forbidden characters included.
        translation = session.get_one(Translation, made.translation_id)
        translation.paragraphs = [
            {"kind": "p", "html": stored_html(with_controls(f"Absatz {n}: {text} Ende."))}
            for n, text in enumerate(MARKUP_TEXTS)
        ]
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    return out


def test_no_output_file_holds_a_character_xml_forbids(hostile_site: Path) -> None:
    files = [path for path in hostile_site.rglob("*") if path.is_file() and path.suffix in (".xml", ".html", ".json")]
    assert len(files) > 10
    for path in files:
        text = path.read_text("utf-8")
        assert not XML_FORBIDDEN_RE.search(text), path
        if path.suffix == ".xml":
            etree.fromstring(path.read_bytes())  # strict: raises on anything not well-formed
        elif path.suffix == ".json":
            json.loads(text)
        elif path.name != "index.json":
            assert_valid_html(path.read_bytes())


def test_rss_carries_markup_looking_text_as_text(hostile_site: Path) -> None:
    data = (hostile_site / "feed.xml").read_bytes()
    assert_valid_rss_or_atom(data, "rss20")
    item = etree.fromstring(data).xpath("/rss/channel/item")[0]
    # RSS readers render title, description and dc:creator as HTML.
    _assert_html_shows_text(item.findtext("title"), TITLE)
    _assert_html_shows_text(item.findtext("dc:creator", namespaces=NS), AUTHOR)
    _assert_html_shows_text(item.findtext("category"), SOURCE_NAME)
    description = item.findtext("description")
    _assert_html_shows_text(description, f"Absatz 0: {MARKUP_TEXTS[0]} Ende.")
    content = item.findtext("content:encoded", namespaces=NS)
    for n, text in enumerate(MARKUP_TEXTS):
        _assert_html_shows_text(content, f"Absatz {n}: {text} Ende.")
    # feedparser (as readers use it) sees the same texts.
    parsed = assert_valid_rss_or_atom(data, "rss20")
    assert " ".join(_html_fragment(parsed.entries[0].title).text_content().split()) == TITLE


def test_atom_carries_markup_looking_text_as_text(hostile_site: Path) -> None:
    data = (hostile_site / "atom.xml").read_bytes()
    assert_valid_rss_or_atom(data, "atom10")
    entry = etree.fromstring(data).xpath("/atom:feed/atom:entry", namespaces=NS)[0]
    title = entry.find("atom:title", NS)
    assert title.get("type", "text") == "text" and title.text == TITLE
    assert entry.findtext("atom:author/atom:name", namespaces=NS) == AUTHOR
    summary = entry.find("atom:summary", NS)
    assert summary.get("type", "text") == "text" and f"Absatz 0: {MARKUP_TEXTS[0]} Ende." in summary.text
    content = entry.find("atom:content", NS)
    assert content.get("type") == "html"
    for n, text in enumerate(MARKUP_TEXTS):
        _assert_html_shows_text(content.text, f"Absatz {n}: {text} Ende.")
    assert entry.find("atom:category", NS).get("term") == SOURCE_NAME


def test_json_feed_carries_markup_looking_text_as_text(hostile_site: Path) -> None:
    feed = assert_valid_json_feed((hostile_site / "feed.json").read_bytes())
    item = feed["items"][0]
    assert item["title"] == TITLE  # JSON Feed titles and summaries are plain text
    assert f"Absatz 0: {MARKUP_TEXTS[0]} Ende." in item["summary"]
    assert item["authors"] == [{"name": AUTHOR}]
    assert item["tags"] == [SOURCE_NAME]
    for n, text in enumerate(MARKUP_TEXTS):
        _assert_html_shows_text(item["content_html"], f"Absatz {n}: {text} Ende.")


def test_sitemaps_and_json_ld_carry_the_text(hostile_site: Path) -> None:
    news = etree.fromstring((hostile_site / "news-sitemap.xml").read_bytes())
    assert news.xpath("//n:title/text()", namespaces=NS) == [TITLE]
    etree.fromstring((hostile_site / "sitemap.xml").read_bytes())
    page_path = next(p for p in hostile_site.glob("*/index.html") if p.parent.name.startswith("titel"))
    page = page_path.read_text("utf-8")
    assert "</script><script" not in page
    doc = lxml_html.fromstring(page)
    assert " ".join(doc.xpath("//h1")[0].text_content().split()) == TITLE
    body = doc.xpath("//div[@class='article-body']")[0]
    assert not body.xpath(".//img | .//script | .//svg")
    for n, text in enumerate(MARKUP_TEXTS):
        assert f"Absatz {n}: {text} Ende." in " ".join(body.text_content().split())
    (script,) = doc.xpath("//script[@type='application/ld+json']")
    data = json.loads(script.text)
    assert data["headline"] == TITLE
    assert f"Absatz 0: {MARKUP_TEXTS[0]} Ende." in data["description"]
