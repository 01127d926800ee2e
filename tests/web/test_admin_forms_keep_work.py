"""Every admin form keeps its work (issue 23 item 5): after a refusal it comes back as typed, with the
message next to the field it is about (`aria-invalid`, `aria-describedby` naming the message)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.ingest.sources import create_source
from presseschau.publish.corrections import add_report
from presseschau.store.models import CorrectionReport, Source, User
from presseschau.stories import service
from tests.publish.factories import make_article, make_source
from tests.stories.story_data import QUAKE, publish_event
from tests.web.test_admin import PASSWORD, _csrf, _editor_form, client, login  # noqa: F401 -- the fixture
from tests.web.test_admin_outlets import DAY


def _marked(page: str, element_id: str) -> tuple[lxml_html.HtmlElement, str]:
    """The refused field and the text of the message it points to (asserting both are wired)."""
    tree = lxml_html.fromstring(page)
    field = tree.get_element_by_id(element_id)
    assert field.get("aria-invalid") == "true", element_id
    described = field.get("aria-describedby")
    assert described, element_id
    return field, tree.get_element_by_id(described).text_content()


def _only_marked(page: str) -> list[str]:
    return [field.get("id") for field in lxml_html.fromstring(page).xpath("//*[@aria-invalid='true']")]


def test_a_refused_source_edit_keeps_new_glossary_entries_and_names_the_field(
    context: AppContext,
    client: TestClient,  # noqa: F811
) -> None:
    source = create_source(context.database, context.settings, "https://paper.example/rss", name="Paper")
    login(client)
    token = _csrf(client.get(f"/admin/quellen/{source.id}").text)
    typed = {
        "csrf_token": token,
        "name": "Paper Weekly",
        "intervall": "90",
        "regel": "review",
        "glossar": "Kyiv = Kiew\nKharkiv = Charkiw\nKyiv = Kyjiw",
        "land": "GB",
        "schlagworte": "Europa",
    }  # "aktiv" unticked
    refused = client.post(f"/admin/quellen/{source.id}", data=typed)
    assert refused.status_code == 400
    field, message = _marked(refused.text, f"q{source.id}-glossar")
    assert field.text == typed["glossar"] and message.startswith("Glossar-Ergänzungen: Zeile 3")
    assert _only_marked(refused.text) == [f"q{source.id}-glossar"]
    tree = lxml_html.fromstring(refused.text)
    assert tree.get_element_by_id(f"q{source.id}-name").get("value") == "Paper Weekly"
    assert tree.get_element_by_id(f"q{source.id}-intervall").get("value") == "90"
    assert tree.get_element_by_id(f"q{source.id}-land").get("value") == "GB"
    assert not tree.xpath("//input[@name='aktiv'][@checked]")  # unticked, as sent
    with context.database.session() as session:
        stored = session.get(Source, source.id)
        assert stored is not None and (stored.name, stored.glossary) == ("Paper", None)


def test_a_refused_new_source_names_the_address_and_keeps_the_profile(
    context: AppContext,
    client: TestClient,  # noqa: F811
) -> None:
    login(client)
    token = _csrf(client.get("/admin/quellen").text)
    typed = {"csrf_token": token, "url": "ftp://feeds.example/news.xml", "intervall": "15", "regel": "auto"}
    refused = client.post("/admin/quellen", data={**typed, "land": "FR", "medienart": "agency", "sprache": "fr"})
    assert refused.status_code == 400
    field, message = _marked(refused.text, "neu-url")
    assert field.get("value") == "ftp://feeds.example/news.xml" and "ftp" in message
    tree = lxml_html.fromstring(refused.text)
    assert tree.get_element_by_id("neu-land").get("value") == "FR"
    assert tree.xpath("//select[@id='neu-medienart']/option[@selected]/@value") == ["agency"]
    assert tree.get_element_by_id("neu-sprache").get("value") == "fr"
    wrong_country = client.post("/admin/quellen", data={**typed, "url": "https://a.example/rss", "land": "XY"})
    field, message = _marked(wrong_country.text, "neu-land")
    assert field.get("value") == "XY" and "XY" in message
    too_fast = client.post("/admin/quellen", data={**typed, "url": "https://a.example/rss", "intervall": "0"})
    assert _marked(too_fast.text, "neu-intervall")[1].startswith("Das Abrufintervall")
    bad_rule = client.post(
        "/admin/quellen",
        data={**typed, "url": "https://a.example/rss", "einschliessen": "Kyiv", "ausschliessen": "/(a/"},
    )
    field, message = _marked(bad_rule.text, "neu-ausschliessen")
    assert field.text == "/(a/" and "ungültiger regulärer Ausdruck" in message
    assert _only_marked(bad_rule.text) == ["neu-ausschliessen"]


def test_a_refused_rights_form_keeps_its_values(context: AppContext, client: TestClient) -> None:  # noqa: F811
    source = create_source(context.database, context.settings, "https://paper.example/rss", name="Paper")
    login(client)
    token = _csrf(client.get(f"/admin/quellen/{source.id}").text)
    data = {
        "csrf_token": token,
        "umfang": "excerpt",
        "auszug_woerter": "5",
        "erlaubnis": "Mail vom 3.11.",
        "zweisprachig": "0",
    }
    refused = client.post(f"/admin/quellen/{source.id}/rechte", data=data)
    assert refused.status_code == 400
    field, _ = _marked(refused.text, f"q{source.id}-woerter")
    assert field.get("value") == "5"
    tree = lxml_html.fromstring(refused.text)
    assert tree.get_element_by_id(f"rechte-{source.id}").get("open") is not None
    assert tree.get_element_by_id(f"q{source.id}-erlaubnis").get("value") == "Mail vom 3.11."
    assert tree.xpath(f"//select[@id='q{source.id}-zweisprachig']/option[@selected]/@value") == ["0"]


def test_refused_user_forms_keep_the_name_and_role_never_the_password(
    context: AppContext,
    client: TestClient,  # noqa: F811
) -> None:
    login(client)
    token = _csrf(client.get("/admin/benutzer").text)
    short = {"csrf_token": token, "name": "lena", "rolle": "admin", "passwort": "geheim7", "passwort2": "geheim7"}
    refused = client.post("/admin/benutzer", data=short)
    assert refused.status_code == 400
    field, message = _marked(refused.text, "neu-passwort")
    assert "mindestens 10 Zeichen" in message and field.get("value") is None
    tree = lxml_html.fromstring(refused.text)
    assert tree.get_element_by_id("neu-name").get("value") == "lena"
    assert tree.xpath("//select[@id='neu-rolle']/option[@selected]/@value") == ["admin"]
    assert "geheim7" not in refused.text.split('id="benutzer-anlegen"')[1]
    differ = client.post("/admin/benutzer", data={**short, "passwort": PASSWORD, "passwort2": PASSWORD + "x"})
    assert _marked(differ.text, "neu-passwort2")[1] == "Die beiden Passwörter stimmen nicht überein."
    taken = client.post("/admin/benutzer", data={**short, "name": "erik", "passwort": PASSWORD, "passwort2": PASSWORD})
    assert "gibt es schon" in _marked(taken.text, "neu-name")[1]
    with context.database.session() as session:
        erik = session.scalars(select(User).where(User.name == "erik")).one().id
    reset = client.post(
        f"/admin/benutzer/{erik}/passwort", data={"csrf_token": token, "passwort": "a", "passwort2": "a"}
    )
    assert "mindestens 10 Zeichen" in _marked(reset.text, f"pw-{erik}")[1]
    unconfirmed = client.post(f"/admin/benutzer/{erik}/entfernen", data={"csrf_token": token})
    assert "Häkchen" in _marked(unconfirmed.text, f"entfernen-{erik}")[1]


def test_a_refused_correction_note_keeps_its_text(context: AppContext, client: TestClient) -> None:  # noqa: F811
    with context.database.session() as session:
        made = make_article(session, context.settings, source=make_source(session, "The Guardian"))
        assert made.publication_id is not None
        add_report(session, context.settings, made.publication_id, 1, "Falsch übersetzt: „Minsk“.")
        report_id = session.scalars(select(CorrectionReport.id)).one()
    login(client, "erik")
    token = _csrf(client.get("/admin/korrekturen").text)
    note = "Wir haben „Minsk“ korrigiert. " * 40  # longer than a note may be
    refused = client.post(
        f"/admin/korrekturen/{report_id}", data={"csrf_token": token, "aktion": "erledigt", "notiz": note}
    )
    assert refused.status_code == 400
    field, message = _marked(refused.text, f"notiz-{report_id}")
    assert field.text == note and "zu lang" in message


def test_the_editor_reports_a_refused_link_next_to_its_paragraph(
    context: AppContext,
    client: TestClient,  # noqa: F811
) -> None:
    with context.database.session() as session:
        made = make_article(session, context.settings, source=make_source(session, "The Guardian", policy="review"))
    login(client, "erik")
    values, _ = _editor_form(client, made.translation_id)
    typed = "Siehe [Link: böse → javascript:alert(1)] und mehr."
    refused = client.post(f"/admin/uebersetzung/{made.translation_id}", data={**values, "absatz-1": typed})
    assert refused.status_code == 400
    field, message = _marked(refused.text, "feld-1")
    assert field.text == typed and "javascript:alert(1)" in message and "nicht erlaubt" in message
    assert _only_marked(refused.text) == ["feld-1"]
    empty_title = client.post(f"/admin/uebersetzung/{made.translation_id}", data={**values, "titel": " "})
    assert _marked(empty_title.text, "titel")[1] == "Der Titel darf nicht leer sein"
    slug = client.post(
        f"/admin/uebersetzung/{made.translation_id}/slug",
        data={"csrf_token": values["csrf_token"], "slug": "Nicht gut!"},
    )
    assert slug.status_code == 400 and _marked(slug.text, "slug")[0].get("value") == "Nicht gut!"
    reject = client.post(
        f"/admin/uebersetzung/{made.translation_id}/ablehnen", data={"csrf_token": values["csrf_token"]}
    )
    assert "Ja, ablehnen" in _marked(reject.text, "ablehnen-bestaetigt")[1]


def test_refused_story_forms_keep_what_was_typed(context: AppContext, client: TestClient) -> None:  # noqa: F811
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        (item,) = service.review(session, context.settings, DAY)
        story_id, translation_id = item.story.id, item.members[0].id
    login(client, "erik")
    token = _csrf(client.get(f"/admin/presseschau/{DAY.isoformat()}").text)
    own = "Eigene Worte " * 60  # past the limit
    url = f"/admin/geschichte/{story_id}/kernaussage/{translation_id}"
    refused = client.post(url, data={"csrf_token": token, "aktion": "eigener", "text": own})
    assert refused.status_code == 400
    field, message = _marked(refused.text, f"text-{translation_id}")
    assert field.text == own and "länger als 600 Zeichen" in message
    tree = lxml_html.fromstring(refused.text)
    assert tree.xpath(f"//li[@id='geschichte-{story_id}']//details[@open]")
    headline = "Beben " * 80
    long_headline = client.post(
        f"/admin/geschichte/{story_id}", data={"csrf_token": token, "aktion": "ueberschrift", "ueberschrift": headline}
    )
    assert long_headline.status_code == 400
    assert _marked(long_headline.text, f"ueberschrift-{story_id}")[0].get("value") == headline
