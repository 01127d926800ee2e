"""The hostile corpus end to end: imported (ingest), translated (engine), published and built; every
XML output parses with lxml and text that looks like markup arrives as text."""

from __future__ import annotations

import html
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from presseschau.app import AppContext
from presseschau.ingest.importing import import_inputs
from presseschau.publish.service import publisher
from presseschau.publish.static import build_site
from presseschau.translate.queue import translate_queued
from tests.hostile import MARKUP_TEXTS, XML_FORBIDDEN_RE, with_controls

from .conftest import FakeEngine


def _controls(text: str) -> str:
    # NUL makes a page binary to the importer (refused as such): every other forbidden character.
    return with_controls(text).replace("\x00", "\x01")


FILLER = "The harbour council met on Tuesday to discuss the flood barrier and its costs for the town. "


def test_a_hostile_article_goes_through_ingest_translation_and_every_output(
    context: AppContext, registered_fake: FakeEngine, tmp_path: Path
) -> None:
    paragraphs = "".join(
        f"<p>{html.escape(_controls(f'Paragraph {n} shows {text} as code.'))} {FILLER * 3}</p>"
        for n, text in enumerate(MARKUP_TEXTS)
    )
    title = html.escape(_controls("Harbour code <img src=x onerror=alert(1)> explained"))
    page = f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{paragraphs}</article></body>"
    source = tmp_path / "hostile.html"
    source.write_bytes(page.encode("utf-8"))
    assert import_inputs(
        context.database, context.settings, [str(source)], original_url="https://hostile.example/code"
    ).article_ids
    assert (
        translate_queued(
            context.database, context.settings, engine_name="fake", on_done=publisher(context.settings)
        ).done
        == 1
    )
    out = tmp_path / "site"
    assert build_site(context.database, context.settings, out).articles == 1
    for path in out.rglob("*"):
        if path.suffix in (".xml", ".html", ".json"):
            assert not XML_FORBIDDEN_RE.search(path.read_text("utf-8")), path
        if path.suffix == ".xml":
            etree.fromstring(path.read_bytes())
    namespaces = {"content": "http://purl.org/rss/1.0/modules/content/"}
    item = etree.fromstring((out / "feed.xml").read_bytes()).xpath("/rss/channel/item")[0]
    for element in ("title", "description", "content:encoded"):
        fragment = lxml_html.fragment_fromstring(item.findtext(element, namespaces=namespaces), create_parent="div")
        assert not fragment.xpath("//img | //script | //svg | //b"), element
    body = lxml_html.fragment_fromstring(item.findtext("content:encoded", namespaces=namespaces), create_parent="div")
    shown = " ".join(body.text_content().split())
    for text in MARKUP_TEXTS:
        # (German typography turns the straight quote in front of <svg> into „ or “.)
        assert text.lstrip('">') in shown, text
    # Titles from sources are read as inline HTML: markup in them is dropped, never live.
    assert " ".join(item.findtext("title").split()) == "Harbour code explained"
