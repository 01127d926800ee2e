from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.store.models import Publication
from tests.publish.factories import make_article, make_source


def _run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--data", str(data_dir), *args])
    return result.exit_code, result.output


def test_publish_unpublish_slug_and_build(data_dir: Path, tmp_path: Path) -> None:
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        source = make_source(session, policy="review")
        held = make_article(session, context.settings, source=source, title_de="Ein gehaltener Artikel")
        waiting = make_article(session, context.settings, source=source, title_de="Noch einer")
        unfinished = make_article(session, context.settings, status="failed", publish=False)
    context.close()

    code, output = _run(data_dir, "publish", str(held.article_id))
    assert code == 0, output
    assert "http://127.0.0.1:8000/ein-gehaltener-artikel/" in output
    code, output = _run(data_dir, "publish", "--all")
    assert code == 0 and "Published 1 article(s)." in output
    code, output = _run(data_dir, "publish", str(unfinished.article_id))
    assert code == 1 and "only 'done' translations can be published" in output
    code, output = _run(data_dir, "publish")
    assert code == 1 and "give an article ID or --all" in output

    code, output = _run(data_dir, "slug", str(held.article_id), "kurzer-slug")
    assert code == 0 and "/ein-gehaltener-artikel/ now redirects to /kurzer-slug/" in output
    code, output = _run(data_dir, "slug", str(waiting.article_id), "kurzer-slug")
    assert code == 1 and "already used" in output

    code, output = _run(data_dir, "unpublish", str(waiting.article_id))
    assert code == 0, output
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        statuses = {slug: status for slug, status in session.execute(select(Publication.slug, Publication.status))}
    context.close()
    assert statuses == {"kurzer-slug": "published", "noch-einer": "unpublished"}

    out = tmp_path / "site"
    code, output = _run(data_dir, "build", str(out))
    assert code == 0, output
    assert "Built 1 article(s)" in output
    assert "base_url is not set" in output
    assert (out / "kurzer-slug" / "index.html").is_file()
    assert (out / "ein-gehaltener-artikel" / "index.html").is_file()  # redirect page
    assert not (out / "noch-einer").exists()
    code, output = _run(data_dir, "build", str(out))
    assert code == 0 and "Nothing changed since the last build" in output and "1 article(s)" in output
    code, output = _run(data_dir, "build", str(out), "--force")
    assert code == 0 and " 0 file(s) written" in output
    # The public address makes every absolute link; a new one renders the site anew.
    code, output = _run(data_dir, "build", str(out), "--base-url", "https://presse.example/")
    assert code == 0 and "Built 1 article(s)" in output and "base_url is not set" not in output, output
    page = (out / "kurzer-slug" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://presse.example/kurzer-slug/">' in page
    assert "127.0.0.1:8000" not in (out / "feed.xml").read_text(encoding="utf-8")
    code, output = _run(data_dir, "build", str(out), "--base-url", "ftp://presse.example")
    assert code == 1 and "give an http(s) address" in output
