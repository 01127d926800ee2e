"""The demo's sample with an injected fault (one paragraph left in English, `[[review_sample]]` in the
samples' manifest): `auto-unless-risky` holds it with the reason, the review queue lists it with its
risk, and the editor marks the paragraph's flag."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.editorial.users import add_user
from presseschau.store.models import Article, Translation
from presseschau.web import public as web_app
from presseschau.web.app import create_app
from tests.web.browser import navigate

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

PASSWORD = "korrekt pferd batterie"


def publish_demo_sample_with_fault(context: AppContext) -> int:
    """The demo's review sample (an injected fault: its third paragraph left in English), added and
    translated as `presseschau demo` does. Returns the translation's id."""
    from presseschau.pipeline.demo import add_review_samples
    from presseschau.publish.service import publisher
    from presseschau.translate.queue import translate_queued

    settings = context.settings
    (url,) = add_review_samples(context)
    translate_queued(context.database, settings, engine_name="memory", on_done=publisher(settings))
    with context.database.session() as session:
        article = session.scalars(select(Article).where(Article.canonical_url == url)).one()
        return session.scalars(select(Translation.id).where(Translation.article_id == article.id)).one()


@pytest.fixture
def faulty(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="editor")
    return publish_demo_sample_with_fault(context)


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


def _login(client: TestClient) -> None:
    page = client.get("/admin/anmelden").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/admin/anmelden", data={"name": "anna", "passwort": PASSWORD, "csrf_token": token})
    assert response.status_code == 303


def test_the_faulty_sample_is_held_with_the_reason(context: AppContext, faulty: int) -> None:
    with context.database.session() as session:
        translation = session.get(Translation, faulty)
        assert translation is not None and translation.publication is not None
        assert translation.publication.status == "held"
        assert translation.quality_risk is not None and translation.quality_risk >= 0.5
        assert translation.quality is not None
        assert "untranslated" in translation.quality["held"] and "Absatz" in translation.quality["held"]


def test_queue_and_editor_show_the_risk_and_the_flag(client: TestClient, faulty: int) -> None:
    _login(client)
    queue = lxml_html.fromstring(client.get("/admin/warteschlange").text)
    row = queue.xpath(f"//tr[@data-translation='{faulty}']")[0]
    assert "untranslated" in row.xpath(".//td[@class='admin-risk']")[0].text_content()
    editor = lxml_html.fromstring(client.get(f"/admin/uebersetzung/{faulty}").text)
    assert "zurückgehalten" in editor.get_element_by_id("risiko").text_content()
    flagged = editor.xpath("//tr[contains(@class, 'admin-risky')]")
    assert flagged, "no paragraph is marked"
    flag = flagged[0].xpath(".//li[@data-flag='untranslated']")[0]
    assert "nicht übersetzt" in flag.text_content() and flag.xpath(".//mark")


@pytest.mark.browser
def test_the_editor_highlights_the_flagged_paragraph_in_a_browser(
    faulty: int,
    server: str,
    browser: WebDriver,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(server + "/admin/warteschlange")
    driver.find_element(By.ID, "name").send_keys("anna")
    driver.find_element(By.ID, "passwort").send_keys(PASSWORD)
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.admin-login button").click)
    row = driver.find_element(By.CSS_SELECTOR, f"tr[data-translation='{faulty}']")
    assert "untranslated" in row.find_element(By.CSS_SELECTOR, "td.admin-risk").text
    navigate(driver, row.find_element(By.TAG_NAME, "a").click)
    flagged = driver.find_element(By.CSS_SELECTOR, "tr.admin-risky")
    flag = flagged.find_element(By.CSS_SELECTOR, "li[data-flag='untranslated']")
    assert flag.is_displayed() and "nicht übersetzt" in flag.text
    mark = flag.find_element(By.TAG_NAME, "mark")
    # Highlighted: the mark's background is the admin style's, not the page's.
    assert mark.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")


def test_articles_show_and_the_api_carry_the_flags(context: AppContext, faulty: int) -> None:
    from typer.testing import CliRunner

    from presseschau.cli import app as cli_app
    from presseschau.web.api.convert import translation_out

    with context.database.session() as session:
        translation = session.get(Translation, faulty)
        assert translation is not None
        article_id = translation.article_id
        assert translation_out(translation).quality_risk == translation.quality_risk
    data = str(context.settings.data_dir)
    result = CliRunner().invoke(cli_app, ["--data", data, "articles", "show", str(article_id)])
    assert result.exit_code == 0, result.output
    assert "Risk: " in result.output and "held: Risiko" in result.output
    assert "untranslated" in result.output and "nicht übersetzt" in result.output
