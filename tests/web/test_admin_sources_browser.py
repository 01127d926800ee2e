"""The Quellen page in headless Chromium: OPML upload, filter fields, refilter, release a held article."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.content import Paragraph, paragraphs_to_json
from presseschau.editorial.users import add_user
from presseschau.store.models import Article, Source, Translation
from presseschau.store.queue import enqueue_translation
from tests.web.browser import navigate, screenshot

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.browser

PASSWORD = "quellen verwalten 2024"
OPML = """<?xml version="1.0"?>
<opml version="2.0"><body>
  <outline text="Nachrichten"><outline text="Europa">
    <outline text="Paper" xmlUrl="https://paper.example/rss"/>
  </outline></outline>
</body></opml>"""


def test_sources_at_scale_journey(context: AppContext, server: str, browser: WebDriver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
    driver.get(server + "/admin/quellen")
    driver.find_element(By.ID, "name").send_keys("anna")
    driver.find_element(By.ID, "passwort").send_keys(PASSWORD)
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.admin-login button").click)

    # Upload an OPML file: its nested categories become the source's tag.
    opml = tmp_path / "abos.opml"
    opml.write_text(OPML, encoding="utf-8")
    driver.find_element(By.ID, "opml-datei").send_keys(str(opml))
    upload = driver.find_element(By.CSS_SELECTOR, "form[action='/admin/opml'] button")
    navigate(driver, upload.click)
    notice = driver.find_element(By.CSS_SELECTOR, ".admin-notice").text
    assert notice == "OPML-Import: 1 Quelle(n) hinzugefügt."
    with context.database.session() as session:
        source = session.scalars(select(Source)).one()
        assert source.tags == ["Nachrichten/Europa"]
        article = Article(
            url="https://paper.example/sport",
            canonical_url="https://paper.example/sport",
            title="Sport results tonight",
            paragraphs=paragraphs_to_json([Paragraph.from_text("The match ended in a draw.")]),
            source_id=source.id,
            fetch_status="ok",
            revision=1,
            language="en",
        )
        session.add(article)
        session.flush()
        enqueue_translation(session, article, context.settings.target_language)
        source_id, article_id = source.id, article.id

    # Set an exclude rule in the source's form (on its own page), save, then refilter the stored articles.
    driver.get(f"{server}/admin/quellen/{source_id}")
    assert driver.find_element(By.ID, f"q{source_id}-schlagworte").get_attribute("value") == "Nachrichten/Europa"
    driver.find_element(By.ID, f"q{source_id}-ausschliessen").send_keys("title:Sport")
    save = driver.find_element(By.CSS_SELECTOR, f"form[action='/admin/quellen/{source_id}'] button")
    navigate(driver, save.click)
    assert driver.find_element(By.CSS_SELECTOR, ".admin-notice").text == "Quelle gespeichert."
    refilter = driver.find_element(By.CSS_SELECTOR, f"form[action='/admin/quellen/{source_id}/neu-filtern'] button")
    navigate(driver, refilter.click)
    assert "1 zurückgehalten" in driver.find_element(By.CSS_SELECTOR, ".admin-notice").text
    screenshot(driver, "admin-quellen-filter.png", 1280)

    # The held article, its rule, and its release.
    navigate(driver, driver.find_element(By.LINK_TEXT, "Von Filtern zurückgehaltene Artikel").click)
    row = driver.find_element(By.ID, f"artikel-{article_id}")
    assert "Ausschlussregel „title:Sport“ traf den Titel" in row.text  # the catalogue's German reason
    screenshot(driver, "admin-gefiltert.png", 1280)
    navigate(driver, row.find_element(By.TAG_NAME, "button").click)
    assert driver.find_element(By.CSS_SELECTOR, ".admin-notice").text == "Artikel freigegeben; er wird übersetzt."
    with context.database.session() as session:
        translation = session.scalars(select(Translation).where(Translation.article_id == article_id)).one()
        assert translation.status == "queued"
