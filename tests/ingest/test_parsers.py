"""Feed and sitemap formats adapted to `FeedEntry`, format detection, malformed input."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime

import pytest

from presseschau.ingest import feeds
from presseschau.ingest.errors import FeedError, TooLarge
from presseschau.ingest.feeds import detect_format, maybe_gunzip, parse_feed, parse_json_feed
from presseschau.ingest.sitemaps import parse_sitemap
from presseschau.ingest.urls import normalize_url
from tests.hostile import hostile_jsonfeed

from .conftest import fixture_text

BASE = "https://courier.example"


def data(name: str) -> bytes:
    return fixture_text(name, BASE).encode()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rss.xml", "rss"),
        ("atom.xml", "atom"),
        ("feed.json", "jsonfeed"),
        ("sitemap-news.xml", "sitemap"),
        ("sitemap-index.xml", "sitemap_index"),
        ("article-harbour.html", "html"),
    ],
)
def test_detect_format(name: str, expected: str) -> None:
    assert detect_format(data(name)) == expected


def test_detect_format_rdf_and_unknown() -> None:
    rdf = b'<?xml version="1.0"?>\n<!-- RSS 1.0 -->\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    assert detect_format(rdf) == "rss"
    assert detect_format(b'{"hello": "world"}') == "unknown"
    assert detect_format(b"\x00\x01binary") == "unknown"


def test_rss_entries() -> None:
    feed = parse_feed(data("rss.xml"), f"{BASE}/rss.xml")
    assert feed.format == "rss" and feed.title == "The Coastal Courier – News"
    first, second = feed.entries
    assert first.url == f"{BASE}/news/harbour"  # tracking parameters dropped
    assert first.title == "Harbour town votes to rebuild its flooded sea wall"
    assert first.published == datetime(2024, 3, 14, 9, 30, tzinfo=UTC)
    assert first.authors == ("Miriam Okafor",)
    assert first.summary_html is not None and "twelve-million" in first.summary_html
    assert first.content_html is None
    assert second.published == datetime(2024, 5, 2, 6, 0, tzinfo=UTC)  # +0100 converted to UTC


def test_atom_entries_resolve_relative_links_and_keep_content() -> None:
    feed = parse_feed(data("atom.xml"), f"{BASE}/atom.xml")
    assert feed.format == "atom"
    library, tram = feed.entries
    assert library.url == f"{BASE}/news/library"
    assert library.published == datetime(2024, 4, 20, 21, 5, tzinfo=UTC)
    assert tram.authors == ("Luis Moreno", "Priya Nair")
    assert tram.content_html is not None and "<h2>Ahead of schedule</h2>" in tram.content_html


def test_json_feed_1_1_and_1_0() -> None:
    feed = parse_feed(data("feed.json"), f"{BASE}/feed.json")
    assert feed.format == "jsonfeed" and feed.title == "Valley Ledger"
    orchard, library = feed.entries
    assert orchard.authors == ("Peter Lindqvist",)
    assert library.authors == ("Valley Ledger newsroom",)  # the feed's authors apply to the item
    assert library.content_html == "<p>Short teaser only.</p>"
    legacy = b'{"version": "https://jsonfeed.org/version/1", "title": "Old", "author": {"name": "A. Writer"},' \
             b' "items": [{"id": "1", "url": "/a", "content_html": "<p>x</p>"}]}'  # fmt: skip
    (entry,) = parse_json_feed(legacy, BASE).entries
    assert entry.url == f"{BASE}/a" and entry.authors == ("A. Writer",)


def test_malformed_feeds_raise_feed_error() -> None:
    with pytest.raises(FeedError, match="malformed rss feed"):
        parse_feed(data("malformed.xml"), f"{BASE}/malformed.xml")
    with pytest.raises(FeedError, match="malformed JSON Feed"):
        parse_json_feed(b'{"version": "https://jsonfeed.org/version/1.1", "items": [', BASE)
    with pytest.raises(FeedError, match="not a feed"):
        parse_feed(data("article-harbour.html"), BASE)


def test_news_sitemap_and_index() -> None:
    news = parse_sitemap(data("sitemap-news.xml"), f"{BASE}/sitemap-news.xml")
    (entry,) = news.entries
    assert entry.title == "Harbour town votes to rebuild its flooded sea wall"
    assert entry.outlet == "The Coastal Courier" and entry.language == "en"
    assert entry.published == datetime(2024, 3, 14, 9, 30, tzinfo=UTC)
    pages = parse_sitemap(maybe_gunzip(gzip.compress(data("sitemap-pages.xml")), 10_000, "x"), BASE)
    assert [e.url for e in pages.entries] == [f"{BASE}/news/orchard", f"{BASE}/news/library"]  # newest first
    index = parse_sitemap(data("sitemap-index.xml"), f"{BASE}/sitemap-index.xml")
    assert index.format == "sitemap_index"
    assert index.child_sitemaps == [f"{BASE}/sitemap-news.xml", f"{BASE}/sitemap-pages.xml.gz"]


def test_sitemap_rejects_entities_and_broken_xml() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&x;</loc></url></urlset>'
    )
    parsed = parse_sitemap(xxe, BASE)
    assert all("root:" not in entry.url for entry in parsed.entries)
    with pytest.raises(FeedError, match="malformed sitemap"):
        parse_sitemap(b"<urlset><url><loc>x</url>", BASE)


def test_gzip_bomb_is_bounded() -> None:
    bomb = gzip.compress(b"a" * 1_000_000)
    with pytest.raises(TooLarge, match="expands beyond"):
        maybe_gunzip(bomb, 10_000, "bomb.xml.gz")


def test_one_malformed_json_feed_item_does_not_cost_the_others() -> None:
    parsed = parse_feed(hostile_jsonfeed(BASE), f"{BASE}/feed.json")
    assert [entry.url for entry in parsed.entries] == [f"{BASE}/item/{n}" for n in (0, 2, 4)]
    assert [(item.position, item.url) for item in parsed.skipped] == [(2, f"{BASE}/item/1"), (4, None)]
    assert "TypeError" in parsed.skipped[0].reason and "authors" in parsed.skipped[0].reason
    assert "no url" in parsed.skipped[1].reason
    assert parsed.skipped[1].subject(f"{BASE}/feed.json") == f"{BASE}/feed.json (item 4)"


def test_one_failing_rss_or_atom_item_does_not_cost_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    real = normalize_url

    def fragile(url: str, base: str | None = None) -> str:
        if "zero-width" in url:  # any unexpected failure inside one item
            raise ValueError("cannot normalize")
        return real(url, base)

    monkeypatch.setattr(feeds, "normalize_url", fragile)
    for kind, document in (
        ("rss", "<rss version='2.0'><channel><title>T</title>{items}</channel></rss>"),
        ("atom", "<feed xmlns='http://www.w3.org/2005/Atom'><title>T</title>{items}</feed>"),
    ):
        links = [f"{BASE}/a", f"{BASE}/zero-width", f"{BASE}/c"]
        if kind == "rss":
            items = "".join(f"<item><title>x</title><link>{link}</link></item>" for link in links)
        else:
            items = "".join(f"<entry><title>x</title><id>{link}</id><link href='{link}'/></entry>" for link in links)
        parsed = parse_feed(document.format(items=items).encode(), f"{BASE}/{kind}.xml")
        assert [entry.url for entry in parsed.entries] == [f"{BASE}/a", f"{BASE}/c"], kind
        assert [(item.url, "ValueError" in item.reason) for item in parsed.skipped] == [(f"{BASE}/zero-width", True)]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("name", ["rss.xml", "atom.xml", "feed.json"])
def test_utf16_and_utf32_feeds_are_read_like_utf8(name: str, codec: str) -> None:
    utf8 = parse_feed(data(name), f"{BASE}/{name}")
    text = fixture_text(name, BASE)
    if name.endswith(".xml"):
        # The declaration names the encoding (XML 1.0, appendix F: also without a byte order mark).
        text = re.sub(r'encoding="[^"]+"', f'encoding="{codec[:6].upper()}"', text)
    wide = text.encode(codec)
    assert detect_format(wide) == utf8.format
    parsed = parse_feed(wide, f"{BASE}/{name}")
    assert parsed.format == utf8.format and parsed.title == utf8.title
    assert parsed.entries == utf8.entries and len(parsed.entries) >= 2


def test_an_atom_entry_with_only_updated_is_dated_by_it() -> None:
    atom = (
        "<feed xmlns='http://www.w3.org/2005/Atom'><title>T</title>"
        f"<entry><title>x</title><id>{BASE}/a</id><link href='{BASE}/a'/>"
        "<updated>2024-03-14T09:30:00Z</updated></entry>"
        "</feed>"
    )
    (entry,) = parse_feed(atom.encode(), f"{BASE}/atom.xml").entries
    assert entry.published == entry.updated == datetime(2024, 3, 14, 9, 30, tzinfo=UTC)
    feed = (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": '
        f'[{{"id": "1", "url": "{BASE}/b", "date_modified": "2024-03-14T09:30:00Z"}}]}}'
    )
    (entry,) = parse_feed(feed.encode(), f"{BASE}/feed.json").entries
    assert entry.published == datetime(2024, 3, 14, 9, 30, tzinfo=UTC)


def test_json_nested_100000_deep_is_a_malformed_feed_not_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """Issue 22 item 16: a remote JSON feed nested 100,000 deep logged a RecursionError traceback."""
    from presseschau.ingest.extract import extract_article

    deep = b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(FeedError, match="nested too deeply"):
        parse_json_feed(deep, "https://x.example/feed.json")
    page = (
        "<html><head><title>T</title><script type='application/ld+json'>"
        + "[" * 100_000
        + "]" * 100_000
        + "</script></head><body><article><p>"
        + "A sentence of the article. " * 40
        + "</p></article></body></html>"
    )
    extract_article(page, "https://x.example/a")
    assert not [record for record in caplog.records if record.exc_info]
