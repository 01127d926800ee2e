from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from presseschau.app import AppContext
from presseschau.publish import service, static_search
from presseschau.publish.site import Site
from presseschau.publish.static import MANIFEST_NAME, build_site
from presseschau.store.models import Publication, Translation
from tests.publish.factories import make_article, make_site
from tests.publish.validation import (
    assert_valid_html,
    assert_valid_json_feed,
    assert_valid_rss_or_atom,
    assert_valid_sitemap,
)

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "n": "http://www.google.com/schemas/sitemap-news/0.9"}


def test_build_writes_the_whole_site(context: AppContext, tmp_path: Path) -> None:
    with context.database.session() as session:
        made = make_site(session, context.settings, 5)
    out = tmp_path / "site"
    report = build_site(context.database, context.settings, out)
    assert report.articles == 5
    assert report.written == report.total > 5
    for item in made:
        assert item.slug is not None
        page = out / item.slug / "index.html"
        assert page.is_file()
    for name in [
        "index.html",
        "archiv/index.html",
        "suche/index.html",
        "pagefind/pagefind.js",
        "pagefind/pagefind-entry.json",
        "quelle/1/index.html",
        "quelle/2/index.html",
        "feed.xml",
        "atom.xml",
        "feed.json",
        "quelle/1/feed.xml",
        "quelle/1/atom.xml",
        "quelle/1/feed.json",
        "sitemap.xml",
        "news-sitemap.xml",
        "robots.txt",
        "404.html",
        "static/style.css",
        "static/search.js",
    ]:
        assert (out / name).is_file(), name
    for html in out.rglob("*.html"):
        assert_valid_html(html.read_bytes())
    month = datetime.now(UTC).astimezone().strftime("%Y/%m")
    assert list(out.glob("archiv/*/*/index.html")), month
    # Static URL style: pretty article URLs, no query strings for pagination or search.
    home = (out / "index.html").read_text("utf-8")
    assert f'href="/{made[-1].slug}/"' in home
    assert "?seite=" not in home
    # Pagefind indexed exactly the five articles, in German; no one-file index beside it.
    entry = json.loads((out / "pagefind" / "pagefind-entry.json").read_text("utf-8"))
    assert entry["languages"]["de"]["page_count"] == 5
    assert len(list((out / "pagefind" / "fragment").glob("*.pf_fragment"))) == 5
    assert not (out / "suche" / "index.json").exists()
    assert not list(out.glob(".pagefind-*")), "the work folder is removed"


def test_without_pagefind_the_build_writes_the_json_index(
    context: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(static_search, "executable", lambda: None)
    with context.database.session() as session:
        make_site(session, context.settings, 5)
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    assert not (out / "pagefind").exists()
    index = json.loads((out / "suche" / "index.json").read_text("utf-8"))
    assert len(index["articles"]) == 5
    assert all(entry["url"].startswith("/") and entry["title"] for entry in index["articles"])
    assert "lukaschenko" in index["articles"][0]["terms"] or "belarus" in index["articles"][0]["terms"]


def test_feeds_and_sitemaps_validate(context: AppContext, tmp_path: Path) -> None:
    with context.database.session() as session:
        make_site(session, context.settings, 5)
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    rss = assert_valid_rss_or_atom((out / "feed.xml").read_bytes(), "rss20")
    atom = assert_valid_rss_or_atom((out / "atom.xml").read_bytes(), "atom10")
    feed = assert_valid_json_feed((out / "feed.json").read_bytes())
    assert len(rss.entries) == len(atom.entries) == len(feed["items"]) == 5
    entry = rss.entries[0]
    assert entry.link.startswith("http://127.0.0.1:8000/") and entry.link.endswith("/")
    assert "Lukaschenko" in entry.content[0].value and "<h2>" in entry.content[0].value
    assert "Original:" in entry.content[0].value
    source_feed = assert_valid_rss_or_atom((out / "quelle" / "1" / "feed.xml").read_bytes(), "rss20")
    assert len(source_feed.entries) == 3
    assert_valid_json_feed((out / "quelle" / "2" / "feed.json").read_bytes())

    root = assert_valid_sitemap((out / "sitemap.xml").read_bytes())
    locs = root.xpath("//s:loc/text()", namespaces=NS)
    assert "http://127.0.0.1:8000/" in locs and len(locs) >= 5 + 2 + 2
    news = assert_valid_sitemap((out / "news-sitemap.xml").read_bytes())
    assert len(news.xpath("//n:news", namespaces=NS)) == 5
    assert (out / "robots.txt").read_text().count("Sitemap: http://127.0.0.1:8000/") == 2


def test_large_sitemaps_are_split_with_an_index(context: AppContext) -> None:
    with context.database.session() as session:
        make_site(session, context.settings, 5)
        files = Site(context.settings, "static").sitemap_files(session, limit=4)
    # Home, archive, sources, months, 5 articles and the Presseschau pages (latest + one per day): 4 per file.
    assert set(files) == {"sitemap.xml", *(f"sitemap-{n}.xml" for n in range(1, len(files)))}
    assert len(files) >= 4
    index = assert_valid_sitemap(files["sitemap.xml"])
    assert etree.QName(index).localname == "sitemapindex"
    assert index.xpath("//s:loc/text()", namespaces=NS)[0] == "http://127.0.0.1:8000/sitemap-1.xml"
    for name in ("sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml"):
        assert_valid_sitemap(files[name])


def test_news_sitemap_has_only_the_last_two_days(context: AppContext) -> None:
    with context.database.session() as session:
        made = make_site(session, context.settings, 3)
        old = session.get(Publication, made[0].publication_id)
        assert old is not None
        old.published_at = datetime.now(UTC) - timedelta(days=3)
    with context.database.session() as session:
        news = etree.fromstring(Site(context.settings, "static").news_sitemap(session).encode())
    assert len(news.xpath("//s:url", namespaces=NS)) == 2


def test_incremental_build_rewrites_only_what_changed(context: AppContext, tmp_path: Path) -> None:
    with context.database.session() as session:
        made = make_site(session, context.settings, 5)
    out = tmp_path / "site"
    first = build_site(context.database, context.settings, out)
    page = out / str(made[2].slug) / "index.html"
    mtime = page.stat().st_mtime_ns

    second = build_site(context.database, context.settings, out)
    assert second.skipped  # nothing the pages depend on changed: nothing rendered
    assert second.written == 0
    assert second.unchanged == first.total
    assert page.stat().st_mtime_ns == mtime
    forced = build_site(context.database, context.settings, out, force=True)
    # Every page unchanged; only Pagefind's filter and meta files, which it does not write
    # byte-identically twice (their order varies), may be new.
    assert not forced.skipped
    assert all(path.startswith("pagefind/") for path in forced.written_paths), forced.written_paths

    # A file missing from the output, or a changed setting, makes the build render again.
    page.unlink()
    restored = build_site(context.database, context.settings, out)
    rendered = [path for path in restored.written_paths if not path.startswith("pagefind/")]
    assert not restored.skipped and rendered == [f"{made[2].slug}/index.html"]
    context.settings.site_title = "Presseschau Nord"
    retitled = build_site(context.database, context.settings, out)
    assert not retitled.skipped and "Presseschau Nord" in page.read_text("utf-8")
    mtime = page.stat().st_mtime_ns

    # Editing one translation's body rewrites its page and the feeds, not unrelated pages.
    with context.database.session() as session:
        translation = session.get(Translation, made[2].translation_id)
        assert translation is not None
        translation.paragraphs = [*translation.paragraphs, {"kind": "p", "html": "Ein neuer Schlussabsatz."}]
        service.on_translation_done(session, translation, context.settings)
    third = build_site(context.database, context.settings, out)
    assert f"{made[2].slug}/index.html" in third.written_paths
    for unrelated in ("quelle/2/index.html", "archiv/index.html", "static/style.css"):
        assert unrelated not in third.written_paths
    assert third.written < third.total / 2
    assert "Ein neuer Schlussabsatz." in page.read_text("utf-8")

    # Unpublishing deletes the page; a slug change leaves a redirect page at the old URL.
    with context.database.session() as session:
        service.unpublish(session, context.settings, made[1].article_id)
        publication = session.get(Publication, made[3].publication_id)
        assert publication is not None
        service.change_slug(session, publication, "umbenannt")
    fourth = build_site(context.database, context.settings, out)
    assert fourth.deleted >= 1
    assert not (out / str(made[1].slug)).exists()
    assert (out / "umbenannt" / "index.html").is_file()
    redirect = (out / str(made[3].slug) / "index.html").read_text("utf-8")
    assert 'http-equiv="refresh" content="0; url=/umbenannt/"' in redirect
    manifest = json.loads((out / MANIFEST_NAME).read_text("utf-8"))
    assert f"{made[1].slug}/index.html" not in manifest["files"]


def test_build_of_an_empty_site(context: AppContext, tmp_path: Path) -> None:
    report = build_site(context.database, context.settings, tmp_path / "empty")
    assert report.articles == 0
    home = (tmp_path / "empty" / "index.html").read_text("utf-8")
    assert "Noch keine Artikel veröffentlicht." in home
    assert_valid_rss_or_atom((tmp_path / "empty" / "feed.xml").read_bytes(), "rss20")
    assert_valid_sitemap((tmp_path / "empty" / "sitemap.xml").read_bytes())
    assert callable(make_article)  # the factory module stays importable for other tests


def test_a_tampered_manifest_never_deletes_outside_the_output_directory(
    context: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without Pagefind: a forced rebuild may rename its hashed chunks, which would count as deletions.
    monkeypatch.setattr("presseschau.publish.static_search.executable", lambda: None)
    with context.database.session() as session:
        make_site(session, context.settings, 2)
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    victims = [tmp_path / "victim.txt", tmp_path / "elsewhere" / "absolute.txt"]
    for victim in victims:
        victim.parent.mkdir(exist_ok=True)
        victim.write_text("not the build's")
    (out / "linked").symlink_to(tmp_path / "elsewhere")
    manifest = json.loads((out / MANIFEST_NAME).read_text("utf-8"))
    manifest["files"].update(
        {"../victim.txt": "x", str(victims[1]): "x", "linked/absolute.txt": "x", "archiv/../../victim.txt": "x"}
    )
    (out / MANIFEST_NAME).write_text(json.dumps(manifest), "utf-8")
    report = build_site(context.database, context.settings, out, force=True)
    assert all(victim.read_text() == "not the build's" for victim in victims)
    assert report.deleted == 0
    assert (tmp_path / "elsewhere").is_dir()


def test_the_build_never_writes_through_a_symbolic_link(context: AppContext, tmp_path: Path) -> None:
    """Issue 22 item 2: a link at a temporary file's name, at a target file, or as a directory on
    the way made the build overwrite files outside its output directory."""
    from presseschau.publish.static import StaticBuildError

    with context.database.session() as session:
        make_site(session, context.settings, 2)
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "sub").mkdir(parents=True)
    victims = {name: elsewhere / name for name in ("tmp.txt", "target.txt", "manifest.txt")}
    for victim in victims.values():
        victim.write_text("not the build's")
    (out / "archiv" / ".index.html.tmp").symlink_to(victims["tmp.txt"])
    (out / "feed.xml").unlink()
    (out / "feed.xml").symlink_to(victims["target.txt"])
    manifest = out / MANIFEST_NAME
    manifest.rename(out / "manifest.bak")
    manifest.symlink_to(victims["manifest.txt"])
    build_site(context.database, context.settings, out, force=True)
    assert all(victim.read_text() == "not the build's" for victim in victims.values())
    assert not (out / "feed.xml").is_symlink() and (out / "feed.xml").read_bytes().startswith(b"<?xml")
    # A directory on the way that is a link: refused with the path named, nothing written there.
    source_dir = next(path for path in (out / "quelle").iterdir() if path.is_dir())
    for child in source_dir.iterdir():
        child.unlink()
    source_dir.rmdir()
    source_dir.symlink_to(elsewhere / "sub", target_is_directory=True)
    try:
        build_site(context.database, context.settings, out, force=True)
    except StaticBuildError as error:
        assert str(source_dir) in str(error)
    else:
        raise AssertionError("the build wrote through a directory link")
    assert list((elsewhere / "sub").iterdir()) == []


def test_a_nul_byte_in_the_manifest_does_not_break_later_builds(context: AppContext, tmp_path: Path) -> None:
    with context.database.session() as session:
        make_site(session, context.settings, 2)
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    manifest = json.loads((out / MANIFEST_NAME).read_text("utf-8"))
    manifest["files"]["bad\u0000name.html"] = "x"
    manifest["files"]["other.html"] = 5
    (out / MANIFEST_NAME).write_text(json.dumps(manifest), "utf-8")
    build_site(context.database, context.settings, out)
    report = build_site(context.database, context.settings, out, force=True)
    assert report.written + report.unchanged > 0
    assert "bad\u0000name.html" not in json.loads((out / MANIFEST_NAME).read_text("utf-8"))["files"]
