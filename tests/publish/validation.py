"""Validators shared by the publish and web tests: HTML, feeds, sitemaps."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import html5lib
import jsonschema
from lxml import etree

DATA = Path(__file__).parent / "data"


def assert_valid_html(document: str | bytes) -> None:
    """html5lib in strict mode raises on every parse error, not only fatal ones."""
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(document)


def assert_valid_rss_or_atom(document: str | bytes, version_prefix: str) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(document)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version.startswith(version_prefix), parsed.version
    return parsed


def assert_valid_json_feed(document: str | bytes) -> dict[str, Any]:
    feed = json.loads(document)
    schema = json.loads((DATA / "jsonfeed-1.1.schema.json").read_text("utf-8"))
    jsonschema.validate(feed, schema)
    # Formats the schema names but jsonschema only checks with optional extras installed.
    for url in [feed.get("home_page_url"), feed.get("feed_url")] + [
        u for item in feed["items"] for u in (item.get("url"), item.get("external_url"))
    ]:
        if url is not None:
            assert urlsplit(url).scheme in ("http", "https"), url
    for item in feed["items"]:
        for key in ("date_published", "date_modified"):
            assert datetime.fromisoformat(item[key]).tzinfo is not None
    return dict(feed)


def assert_valid_sitemap(document: str | bytes) -> etree._Element:
    data = document.encode() if isinstance(document, str) else document
    root = etree.fromstring(data)
    name = "siteindex.xsd" if etree.QName(root).localname == "sitemapindex" else "sitemap.xsd"
    schema = etree.XMLSchema(etree.parse(str(DATA / name)))
    schema.assertValid(root)
    return root
