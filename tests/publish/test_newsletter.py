"""The Presseschau newsletter against a local SMTP server (aiosmtpd): double opt-in, the review as plain
text and HTML, unsubscribe (link and one-click POST), each day once, hostile titles, refused addresses."""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app as cli_app
from presseschau.publish import newsletter
from presseschau.publish.site import Site
from presseschau.store.models import NewsletterSend, Subscriber
from presseschau.stories import service
from presseschau.web import press_review as press_review_routes
from presseschau.web.app import create_app
from tests.hostile import MARKUP_TEXTS, stored_html, with_controls
from tests.stories.story_data import QUAKE, STARSHIP, publish_event

DAY = date(2026, 11, 9)
LIVE_MARKUP = "//script | //img | //*[@onerror] | //*[@onload]"


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection at INFO
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def mail_context(context: AppContext, inbox: tuple[Inbox, int]) -> AppContext:
    context.settings = context.settings.model_copy(
        update={
            "newsletter_enabled": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": inbox[1],
            "smtp_security": "none",
            "newsletter_from": "presseschau@presse.example",
            "base_url": "https://presse.example",
        }
    )
    return context


def _text(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


def test_double_opt_in_newsletter_and_unsubscribe(mail_context: AppContext, inbox: tuple[Inbox, int]) -> None:
    mails, _ = inbox
    with mail_context.database.session() as session:
        publish_event(session, mail_context.settings, QUAKE)
        source_title = stored_html(with_controls(f"Beben {MARKUP_TEXTS[1]} &amp; „Zitat“"))
        publish_event(
            session, mail_context.settings, [(f"Outlet {MARKUP_TEXTS[0]}", QUAKE[0][1], source_title, *QUAKE[0][3:])]
        )
    client = TestClient(create_app(mail_context))
    page = client.get("/presseschau/2026/11/09/")
    form = lxml_html.fromstring(page.text).xpath("//form[@class='review-subscribe']")[0]
    assert form.get("action") == "/presseschau/abonnieren"

    answer = client.post("/presseschau/abonnieren", data={"email": "Leserin@Example.ORG"})
    assert answer.status_code == 200 and "Bitte bestätigen" in answer.text
    assert len(mails.messages) == 1
    confirmation = mails.messages[0]
    assert confirmation["To"] == "leserin@example.org"
    link = re.search(r"https://presse\.example/presseschau/bestaetigen/\S+", _text(confirmation, "plain"))
    assert link is not None
    # Nothing goes to an unconfirmed address; asking again soon sends no second confirmation.
    with mail_context.database.session() as session:
        assert newsletter.send_review(session, Site(mail_context.settings), DAY).sent == 0
    client.post("/presseschau/abonnieren", data={"email": "leserin@example.org"})
    assert len(mails.messages) == 1
    with mail_context.database.session() as session:  # a fresh day for the confirmed run below
        session.query(NewsletterSend).delete()

    # Opening the link (as a mail scanner does) changes nothing; the page's button confirms.
    path = link.group(0).removeprefix("https://presse.example")
    opened = client.get(path)
    button = lxml_html.fromstring(opened.text).xpath("//main//form[@method='post']")[0]
    assert opened.status_code == 200 and button.get("action") == path
    with mail_context.database.session() as session:
        assert session.query(Subscriber).one().status == "pending"
    confirmed = client.post(path)
    assert confirmed.status_code == 200 and "Angemeldet" in confirmed.text
    assert client.get("/presseschau/bestaetigen/nichtdabeiXXXXXXXXXXXX").status_code == 404
    assert client.post("/presseschau/bestaetigen/nichtdabeiXXXXXXXXXXXX").status_code == 404

    # `presseschau review send` with the same settings in presseschau.toml.
    settings = mail_context.settings
    (settings.data_dir / "presseschau.toml").write_text(
        f'newsletter_enabled = true\nsmtp_host = "127.0.0.1"\nsmtp_port = {settings.smtp_port}\n'
        f'smtp_security = "none"\nnewsletter_from = "{settings.newsletter_from}"\nbase_url = "{settings.base_url}"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli_app, ["--data", str(settings.data_dir), "review", "send", "2026-11-09"])
    assert result.exit_code == 0 and "Presseschau 2026-11-09: sent to 1 subscriber(s)" in result.output
    with mail_context.database.session() as session:
        assert newsletter.send_review(session, Site(settings), DAY).skipped == "sent already"
    review = mails.messages[-1]
    assert review["Subject"] == "Die Presseschau des Tages vom 9. November 2026"
    plain, html_part = _text(review, "plain"), _text(review, "html")
    assert "Meridian Post:" in plain and "Original: https://news.example/" in plain
    # Each entry's attribution: the original's licence and how the German text came about.
    assert "Lizenz des Originals: nicht angegeben; Rechte beim Medium. Maschinell übersetzt" in plain
    assert "Beben <script>alert(2)</script> &amp; „Zitat“" in plain  # text, as it is
    tree = lxml_html.fromstring(html_part)
    assert not tree.xpath(LIVE_MARKUP)
    assert "<script>alert(2)</script>" in tree.text_content()
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", plain + html_part)
    unsubscribe = re.search(r"<(https://presse\.example/presseschau/abbestellen/[^>]+)>", review["List-Unsubscribe"])
    assert unsubscribe is not None and review["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = unsubscribe.group(1).removeprefix("https://presse.example")
    assert path in plain and tree.xpath(f"//a[@href='{unsubscribe.group(1)}']")

    # The link shows a button (a GET changes nothing); the POST unsubscribes.
    assert "Abbestellen" in client.get(path).text
    with mail_context.database.session() as session:
        assert session.query(Subscriber).one().status == "active"
    assert "Abbestellt" in client.post(path).text
    with mail_context.database.session() as session:
        assert session.query(Subscriber).one().status == "unsubscribed"
        session.query(NewsletterSend).delete()
        assert newsletter.send_review(session, Site(mail_context.settings), DAY).sent == 0


@pytest.mark.parametrize(
    "address",
    ["", "kein-at", "a@b", "x@example.org\r\nBcc: victim@example.org", "<x@example.org>", "x" * 250 + "@example.org"],
)
def test_bad_addresses_are_refused(mail_context: AppContext, inbox: tuple[Inbox, int], address: str) -> None:
    client = TestClient(create_app(mail_context))
    answer = client.post("/presseschau/abonnieren", data={"email": address})
    assert answer.status_code == 400 and "gültige E-Mail-Adresse" in answer.text
    assert inbox[0].messages == []


def test_newsletter_is_off_by_default(context: AppContext) -> None:
    assert not context.settings.newsletter_enabled
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
    client = TestClient(create_app(context))
    assert "review-subscribe" not in client.get("/presseschau/").text
    assert client.post("/presseschau/abonnieren", data={"email": "x@example.org"}).status_code == 404


def test_due_days(mail_context: AppContext) -> None:
    with mail_context.database.session() as session:
        publish_event(session, mail_context.settings, QUAKE)
        site = Site(mail_context.settings)
        later = datetime(2026, 11, 20, 12, tzinfo=UTC)
        assert newsletter.send_due(session, site, later) == []  # too old to go out now
        soon = datetime(2026, 11, 10, 8, tzinfo=UTC)
        reports = newsletter.send_due(session, site, soon)
        assert [r.day for r in reports] == [DAY] and reports[0].sent == 0  # no subscribers yet
        service.withdraw(session, mail_context.settings, DAY, "anna")
        session.query(NewsletterSend).delete()
        assert newsletter.send_due(session, site, soon) == []  # withdrawn: not public, not sent


def test_an_old_confirmation_link_has_expired(mail_context: AppContext) -> None:
    # The page says "ungültig oder abgelaufen": a link from a confirmation mail weeks ago must not
    # subscribe anyone (a leaked or long-forgotten mail). A new request sends a link that works again.
    asked = datetime(2026, 11, 1, 8, tzinfo=UTC)
    with mail_context.database.session() as session:
        subscriber = newsletter.subscribe(session, "leser@example.org", now=asked)
        assert subscriber is not None
        token = subscriber.token
    with mail_context.database.session() as session:
        late = asked + newsletter.CONFIRM_WITHIN + timedelta(minutes=1)
        assert newsletter.confirm(session, token, now=late) is not None
        assert session.query(Subscriber).one().status == "pending"
    with mail_context.database.session() as session:
        again = newsletter.subscribe(session, "leser@example.org", now=late)
        assert again is not None and again.token == token
        newsletter.confirm(session, token, now=late + timedelta(hours=1))
        assert session.query(Subscriber).one().status == "active"
    client = TestClient(create_app(mail_context))
    with mail_context.database.session() as session:
        session.query(Subscriber).update({"status": "pending", "last_mail_at": asked})
    assert client.get(f"/presseschau/bestaetigen/{token}").status_code == 404
    assert client.post(f"/presseschau/bestaetigen/{token}").status_code == 404


def test_a_day_sent_stays_sent_when_a_later_day_fails(
    mail_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # send_due sends several days; when the mail server fails on the second, the first went out and
    # must be recorded as sent, or its subscribers get it again on the next try.
    with mail_context.database.session() as session:
        publish_event(session, mail_context.settings, QUAKE)
        publish_event(session, mail_context.settings, [(*STARSHIP[0][:5], datetime(2026, 11, 10, 8, tzinfo=UTC))])
        subscriber = newsletter.subscribe(session, "leser@example.org")
        assert subscriber is not None
        subscriber.status = "active"
    calls: list[int] = []

    def flaky(settings: object, messages: list[EmailMessage]) -> int:
        calls.append(len(messages))
        if len(calls) > 1:
            raise ConnectionRefusedError("mail server down")
        return len(messages)

    monkeypatch.setattr(newsletter, "deliver", flaky)
    soon = datetime(2026, 11, 11, 8, tzinfo=UTC)
    with pytest.raises(ConnectionRefusedError), mail_context.database.session() as session:
        newsletter.send_due(session, Site(mail_context.settings), soon)
    with mail_context.database.session() as session:
        sent = session.scalars(select(NewsletterSend.day)).all()
    assert sent == ["2026-11-10"]
    monkeypatch.setattr(newsletter, "deliver", lambda settings, messages: len(messages))
    with mail_context.database.session() as session:
        reports = newsletter.send_due(session, Site(mail_context.settings), soon)
    assert [report.day for report in reports] == [DAY]  # only the day that failed goes out again


def test_a_confirmation_that_could_not_be_sent_is_sent_on_the_next_try(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    # The mail server was down: the reader is told so and tries again; that try must send the mail,
    # not be taken for a repeat within the hour (and answered "Bitte bestätigen" with no mail at all).
    up = mail_context.settings
    mail_context.settings = up.model_copy(update={"smtp_port": _free_port()})  # nothing listens there
    answer = TestClient(create_app(mail_context)).post("/presseschau/abonnieren", data={"email": "leser@example.org"})
    assert answer.status_code == 503 and "nicht verschickt" in answer.text
    mail_context.settings = up
    answer = TestClient(create_app(mail_context)).post("/presseschau/abonnieren", data={"email": "leser@example.org"})
    assert answer.status_code == 200
    assert len(inbox[0].messages) == 1 and inbox[0].messages[0]["To"] == "leser@example.org"


def test_an_internationalised_domain_is_accepted(mail_context: AppContext, inbox: tuple[Inbox, int]) -> None:
    # "leser@bücher.de" is a valid address: its domain goes out in ASCII (punycode), as mail servers
    # expect; a non-ASCII local part (which would need SMTPUTF8) is refused with the usual message.
    assert newsletter.normalize_email("Leser@Bücher.DE") == "leser@xn--bcher-kva.de"
    client = TestClient(create_app(mail_context))
    assert client.post("/presseschau/abonnieren", data={"email": "leser@bücher.de"}).status_code == 200
    assert inbox[0].messages[0]["To"] == "leser@xn--bcher-kva.de"
    for address in ("müller@example.de", "x@bü cher.de", "x@" + "ü" * 70 + ".de", "x@.de"):
        with pytest.raises(newsletter.NewsletterError):
            newsletter.normalize_email(address)


@pytest.mark.postgres
def test_two_senders_at_once_send_a_day_once(postgres_context: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker of `run` and `presseschau review send` at the same moment: one sends, the other
    # finds the day sent (no second mail to every subscriber, no unique-constraint error).
    context = postgres_context
    context.database.migrate()
    settings = context.settings.model_copy(
        update={"newsletter_enabled": True, "smtp_host": "127.0.0.1", "base_url": "https://presse.example"}
    )
    with context.database.session() as session:
        publish_event(session, settings, QUAKE)
        subscriber = newsletter.subscribe(session, "leser@example.org")
        assert subscriber is not None
        subscriber.status = "active"
    deliveries: list[int] = []

    def slow(settings: object, messages: list[EmailMessage]) -> int:
        time.sleep(0.3)  # an SMTP session takes a while
        deliveries.append(len(messages))
        return len(messages)

    monkeypatch.setattr(newsletter, "deliver", slow)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with context.database.session() as session:
                barrier.wait()
                newsletter.send_review(session, Site(settings), DAY, datetime(2026, 11, 10, 8, tzinfo=UTC))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and deliveries == [1]


def test_one_client_cannot_send_confirmations_to_many_addresses(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    # Each address gets one confirmation an hour, but one client naming ever new addresses would use
    # the site's mail server to send confirmation mails to strangers: a few an hour per client.
    client = TestClient(create_app(mail_context))
    limit = press_review_routes.SUBSCRIBE_LIMIT
    for n in range(limit):
        assert client.post("/presseschau/abonnieren", data={"email": f"x{n}@example.org"}).status_code == 200
    refused = client.post("/presseschau/abonnieren", data={"email": "noch-einer@example.org"})
    assert refused.status_code == 429 and "Zu viele Anmeldungen" in refused.text
    assert len(inbox[0].messages) == limit


class Busy(Inbox):
    """A mail server that takes no recipient for now (451: try again later)."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        return "451 4.7.1 Try again later"


def test_a_server_that_refuses_every_recipient_for_now_is_tried_again(mail_context: AppContext) -> None:
    # A temporary refusal of every recipient (rate limit, greylisting): nothing went out, so the day
    # must not be recorded as sent (with 0 recipients) but tried again later.
    from aiosmtpd.controller import Controller

    with mail_context.database.session() as session:
        publish_event(session, mail_context.settings, QUAKE)
        subscriber = newsletter.subscribe(session, "leser@example.org")
        assert subscriber is not None
        subscriber.status = "active"
    port = _free_port()
    controller = Controller(Busy(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = mail_context.settings.model_copy(update={"smtp_port": port})
        later = datetime(2026, 11, 10, 8, tzinfo=UTC)
        with pytest.raises(smtplib.SMTPRecipientsRefused), mail_context.database.session() as session:
            newsletter.send_review(session, Site(settings), DAY, later)
    finally:
        controller.stop()
    with mail_context.database.session() as session:
        assert session.scalars(select(NewsletterSend)).all() == []


def test_a_failed_resend_keeps_the_link_mailed_before(mail_context: AppContext) -> None:
    asked = datetime(2026, 11, 1, 8, tzinfo=UTC)
    with mail_context.database.session() as session:
        subscriber = newsletter.subscribe(session, "leser@example.org", now=asked)
        assert subscriber is not None
        token, subscriber_id = subscriber.token, subscriber.id
        again = asked + timedelta(days=2)
        assert newsletter.subscribe(session, "leser@example.org", now=again) is not None
        newsletter.mail_failed(session, subscriber_id, now=again)  # the second mail did not go out
        assert newsletter.subscribe(session, "leser@example.org", now=again) is not None  # tried again
        newsletter.mail_failed(session, subscriber_id, now=again)
        confirmed = newsletter.confirm(session, token, now=again + timedelta(minutes=5))
        assert confirmed is not None and confirmed.status == "active"


def test_sending_without_base_url_is_refused_naming_the_setting(context: AppContext) -> None:
    """Issue 22 item 16: `review send` without base_url mailed links to 127.0.0.1:8000."""
    settings = context.settings.model_copy(update={"newsletter_enabled": True, "smtp_host": "127.0.0.1"})
    assert "base_url" not in settings.model_fields_set
    with pytest.raises(newsletter.NewsletterError, match="base_url is not set"), context.database.session() as session:
        newsletter.send_review(session, Site(settings), DAY)
