"""On the demo set: every story with two or more outlets quotes a different complete German body
sentence per outlet, and an article links its story and lists its siblings first."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from lxml import html as lxml_html

from presseschau.app import AppContext
from presseschau.content import paragraphs_from_json
from presseschau.publish.site import Site
from presseschau.publish.static import build_site
from presseschau.stories import service
from presseschau.stories.key_passages import story_passages
from presseschau.stories.passages import german_sentences, is_complete_sentence, near_duplicates
from presseschau.web.app import create_app
from tests.demo_site import load_demo_site

BANK_OF_ENGLAND = "https://www.continentalreview.example/economy/2026/11/05/bank-of-england-holds-rates-knife-edge-vote"


def test_every_outlet_of_a_demo_story_has_its_own_body_sentence(context: AppContext) -> None:
    load_demo_site(context)
    checked = 0
    with context.database.session() as session:
        for day in service.public_days(session, context.settings):
            for item in service.review(session, context.settings, day):
                if item.outlets < 2:
                    continue
                passages = story_passages(item)
                texts = []
                for translation in item.members:
                    passage = passages[translation.id]
                    assert passage is not None, (item.headline, translation.article.outlet)
                    body = [p.text for p in paragraphs_from_json(translation.paragraphs)]
                    # From the published German text, not its first sentence (the teaser).
                    assert passage.text in " ".join(body) and not body[0].startswith(passage.text)
                    assert 0 not in passage.sentences
                    assert all(is_complete_sentence(part) for part in german_sentences(passage.text))
                    texts.append(passage.text)
                    checked += 1
                for n, left in enumerate(texts):
                    assert all(not near_duplicates(left, right) for right in texts[n + 1 :]), item.headline
    assert checked == 11  # 3 (Bank of England) + 2 + 2 + 2 + 2


def test_the_bank_of_england_article_links_its_story_and_siblings_first(context: AppContext, tmp_path: Path) -> None:
    slugs = load_demo_site(context)
    site = Site(context.settings, "server")
    client = TestClient(create_app(context))
    page = lxml_html.fromstring(client.get(site.urls.article(slugs[BANK_OF_ENGLAND])).text)
    (link,) = page.xpath("//p[@class='story-link']/a")
    assert link.text_content() == "Diese Geschichte in 3 Medien"
    story = client.get(link.get("href"))
    assert story.status_code == 200
    related = page.xpath("//section[@aria-labelledby='verwandt']//a/@href")
    siblings = [
        site.urls.article(slug) for url, slug in slugs.items() if "bank-of-england" in url and url != BANK_OF_ENGLAND
    ]
    assert len(siblings) == 2 and sorted(related[:2]) == sorted(siblings)
    story_doc = lxml_html.fromstring(story.text)
    assert len(story_doc.xpath("//li[@class='review-entry']")) == 3
    assert len(story_doc.xpath("//blockquote[@class='key-passage']")) == 3
    # The static build has the same story page and article links, and the sitemap lists the story.
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    static_story = out / link.get("href").strip("/") / "index.html"
    assert static_story.is_file() and "Die Presseschau vom 5. November 2026" in static_story.read_text("utf-8")
    static_article = (out / site.urls.article(slugs[BANK_OF_ENGLAND]).strip("/") / "index.html").read_text("utf-8")
    assert "Diese Geschichte in 3 Medien" in static_article
    assert link.get("href") in (out / "sitemap.xml").read_text("utf-8")
