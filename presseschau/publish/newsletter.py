"""The Presseschau des Tages by e-mail: double opt-in subscriptions and the released review as a newsletter.

Readers subscribe on `/presseschau/` (an address gets a confirmation link, and only a confirmed address
gets newsletters); every newsletter carries an unsubscribe link (and `List-Unsubscribe` with one-click
POST, RFC 8058). A day's review goes out once, when it is public, to every confirmed subscriber, as plain
text with an HTML alternative, through the configured SMTP server (`smtp_*` settings; standard library
`smtplib` and `email`). Titles and headlines are text in both parts (escaped in the HTML).
"""

from __future__ import annotations

import html
import logging
import re
import secrets
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.content import strip_xml_forbidden
from presseschau.messages import CataloguedError
from presseschau.messages import text as catalogued
from presseschau.publish import press_review
from presseschau.store.db import NEWSLETTER_LOCK, one_at_a_time
from presseschau.store.models import NewsletterSend, Subscriber, utcnow
from presseschau.stories import service as stories
from presseschau.text import isolate_bidi

if TYPE_CHECKING:
    from presseschau.publish.site import Site

log = logging.getLogger(__name__)

MAX_EMAIL = 254
# Local part and domain without spaces, angle brackets, quotes or line breaks (no header injection).
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
# A second confirmation mail to the same address waits this long (no mail bombing through the form).
RESEND_AFTER = timedelta(hours=1)
# A confirmation link works this long after its mail was sent (asking again sends a fresh mail).
CONFIRM_WITHIN = timedelta(days=7)
# `send_due` looks back this many days for public reviews not sent yet.
DUE_DAYS = 2


class NewsletterError(CataloguedError):
    """Refused: the catalogued message says why (German for readers)."""


def _ascii_domain(address: str) -> str:
    """`address` with an internationalised domain in ASCII (punycode), as mail servers expect; the
    local part as it is (a non-ASCII one needs SMTPUTF8 and is refused by the pattern)."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{domain.lower().encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def normalize_email(text: str) -> str:
    address = _ascii_domain(text.strip())
    if len(address) > MAX_EMAIL or not _EMAIL.fullmatch(address):
        raise NewsletterError(catalogued("email_invalid", address=address[:80]))
    # One subscription per mailbox: compared without regard to case (as mail providers deliver).
    return address.lower()


# Subscriptions -------------------------------------------------------------------------------------


def subscribe(session: Session, email: str, now: datetime | None = None) -> Subscriber | None:
    """Record a wish to subscribe; returns the subscriber to send a confirmation to, or None when
    none is due (confirmed already, or a confirmation went out within `RESEND_AFTER`)."""
    now = now or utcnow()
    address = normalize_email(email)
    subscriber = session.scalars(select(Subscriber).where(Subscriber.email == address)).one_or_none()
    if subscriber is None:
        subscriber = Subscriber(email=address, token=secrets.token_urlsafe(24), status="pending", created_at=now)
        session.add(subscriber)
    else:
        recent = subscriber.last_mail_at is not None and now - subscriber.last_mail_at < RESEND_AFTER
        if subscriber.status == "active" or recent:
            return None
        subscriber.status = "pending"
    subscriber.last_mail_at = now
    session.flush()
    return subscriber


def mail_failed(session: Session, subscriber_id: int, now: datetime | None = None) -> None:
    """The confirmation mail `subscribe` asked for did not go out: the next request sends one (not
    taken for a repeat within `RESEND_AFTER`); a link mailed before stays valid (see `confirm`)."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is not None:
        subscriber.last_mail_at = (now or utcnow()) - RESEND_AFTER
        session.flush()


def _by_token(session: Session, token: str) -> Subscriber | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", token):
        return None
    return session.scalars(select(Subscriber).where(Subscriber.token == token)).one_or_none()


def awaiting_confirmation(session: Session, token: str, now: datetime | None = None) -> bool:
    """Whether `token` is the link of a pending subscription that has not expired (`CONFIRM_WITHIN`)."""
    subscriber = _by_token(session, token)
    return subscriber is not None and _confirmable(subscriber, now or utcnow())


def _confirmable(subscriber: Subscriber, now: datetime) -> bool:
    return (
        subscriber.status == "pending"
        and subscriber.last_mail_at is not None
        and now - subscriber.last_mail_at <= CONFIRM_WITHIN
    )


def confirm(session: Session, token: str, now: datetime | None = None) -> Subscriber | None:
    """Confirm the subscription of `token` (None: unknown token). A link older than `CONFIRM_WITHIN`
    has expired: the subscriber stays pending."""
    now = now or utcnow()
    subscriber = _by_token(session, token)
    if subscriber is None or not _confirmable(subscriber, now):
        return subscriber
    subscriber.status = "active"
    subscriber.confirmed_at = now
    session.flush()
    return subscriber


def unsubscribe(session: Session, token: str) -> Subscriber | None:
    subscriber = _by_token(session, token)
    if subscriber is not None and subscriber.status != "unsubscribed":
        subscriber.status = "unsubscribed"
        subscriber.unsubscribed_at = utcnow()
        session.flush()
    return subscriber


# Messages ------------------------------------------------------------------------------------------


def _sender(settings: Settings) -> Address:
    return Address(
        display_name=strip_xml_forbidden(settings.site_title).replace("\n", " "), addr_spec=settings.newsletter_from
    )


def _link(site: Site, path: str) -> str:
    return site.urls.absolute(site.urls.path(path))


def confirmation_message(settings: Settings, site: Site, subscriber: Subscriber) -> EmailMessage:
    link = _link(site, f"/presseschau/bestaetigen/{subscriber.token}")
    message = _base(settings, subscriber.email, f"Bitte bestätigen: {TITLE} von {settings.site_title}")
    message.set_content(
        "Guten Tag,\n\n"
        f"jemand – hoffentlich Sie – möchte {TITLE} von {settings.site_title} an diese Adresse bekommen.\n"
        f"Bitte bestätigen Sie das mit diesem Link:\n\n{link}\n\n"
        "Wenn Sie das nicht wollten, tun Sie nichts: Ohne Bestätigung schicken wir nichts weiter.\n"
    )
    return message


TITLE = "Die Presseschau des Tages"


def _base(settings: Settings, to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = _sender(settings)
    message["To"] = to
    message["Subject"] = " ".join(strip_xml_forbidden(subject).split())
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=settings.newsletter_from.rsplit("@", 1)[-1])
    return message


def _plain(view: press_review.DayView, site: Site) -> str:
    lines = [f"{TITLE} vom {view.date_text}", ""]
    i = isolate_bidi  # outside text: an unclosed bidi override must not reorder the rest of the line
    for number, story in enumerate(view.stories, start=1):
        lines.append(f"{number}. {i(story.headline)}")
        if story.intro:
            lines.append(f"   Maschinell verfasste Einleitung: {i(story.intro)}")
        lines.append(f"   Die Geschichte: {site.urls.absolute(story.url)}")
        for entry in story.entries:
            lines.append(f"   {i(entry.outlet_label)}: {i(entry.title)}")
            if entry.blurb:
                lines.append(f"   {i(entry.blurb)}")
            lines.append(f"   Deutsch: {site.urls.absolute(entry.url)}")
            if entry.original_url:
                lines.append(f"   Original: {entry.original_url}")
            if entry.rights:
                lines.append(f"   {entry.rights}")
            lines.append("")
    return "\n".join(strip_xml_forbidden(line) for line in lines)


def _html(view: press_review.DayView, site: Site, unsubscribe_url: str) -> str:
    def e(text: str) -> str:
        return html.escape(isolate_bidi(text))

    parts = [f'<!DOCTYPE html><html lang="de"><body><h1>{e(TITLE)} vom {e(view.date_text)}</h1>']
    for story in view.stories:
        parts.append(press_review.story_html(site, story))
    parts.append(f'<p><a href="{e(unsubscribe_url)}">Abbestellen</a></p></body></html>')
    return strip_xml_forbidden("".join(parts))


def review_message(settings: Settings, site: Site, view: press_review.DayView, subscriber: Subscriber) -> EmailMessage:
    unsubscribe_url = _link(site, f"/presseschau/abbestellen/{subscriber.token}")
    message = _base(settings, subscriber.email, f"{TITLE} vom {view.date_text}")
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_plain(view, site) + f"\n--\nAbbestellen: {unsubscribe_url}\n")
    message.add_alternative(_html(view, site, unsubscribe_url), subtype="html")
    return message


# Sending -------------------------------------------------------------------------------------------


def deliver(settings: Settings, messages: Sequence[EmailMessage]) -> int:
    """Send `messages` over one SMTP connection; returns how many were accepted. A recipient refused for
    good is skipped; when none was accepted and the server refused one for now (4xx), it raises."""
    if not messages:
        return 0
    if not settings.smtp_host:
        raise NewsletterError(catalogued("smtp_missing"))
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s)
    sent = 0
    deferred: smtplib.SMTPRecipientsRefused | None = None
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        for message in messages:
            try:
                smtp.send_message(message)
                sent += 1
            except smtplib.SMTPRecipientsRefused as error:
                log.warning("newsletter: recipient refused: %s", error)
                if any(code < 500 for code, _ in error.recipients.values()):
                    deferred = error  # "try again later"
    if sent == 0 and deferred is not None:
        # Nothing went out and the server said "later": the caller records nothing and tries again.
        raise deferred
    return sent


@dataclass(frozen=True)
class SendReport:
    day: date
    sent: int
    skipped: str | None = None


def send_review(session: Session, site: Site, day: date, now: datetime | None = None) -> SendReport:
    """E-mail the day's review to every confirmed subscriber, once; only when it is public."""
    settings = site.settings
    if not settings.newsletter_enabled:
        raise NewsletterError(catalogued("newsletter_off"))
    if "base_url" not in settings.model_fields_set:
        # Every link in the mail is absolute: without the public address they all pointed at the
        # default http://127.0.0.1:8000, which no subscriber can open.
        raise NewsletterError(catalogued("newsletter_base_url", base_url=settings.base_url))
    # One sender at a time (PostgreSQL): the worker and `review send` at once would both send the day.
    one_at_a_time(session, NEWSLETTER_LOCK)
    already = session.scalars(
        select(NewsletterSend).where(NewsletterSend.language == site.language, NewsletterSend.day == day.isoformat())
    ).one_or_none()
    if already is not None:
        return SendReport(day, 0, "sent already")
    view = press_review.day_view(session, site, day, now)
    if view is None or not view.state.public:
        return SendReport(day, 0, "not public")
    subscribers = session.scalars(select(Subscriber).where(Subscriber.status == "active").order_by(Subscriber.id)).all()
    sent = deliver(settings, [review_message(settings, site, view, s) for s in subscribers])
    session.add(NewsletterSend(language=site.language, day=day.isoformat(), sent_at=utcnow(), recipients=sent))
    session.flush()
    return SendReport(day, sent)


def send_due(session: Session, site: Site, now: datetime | None = None) -> list[SendReport]:
    """Send every public review of the last `DUE_DAYS` days that has not gone out yet; commits after
    each day."""
    now = now or datetime.now(UTC)
    today = stories.local_day(now, site.settings)
    days = [d for d in stories.public_days(session, site.settings, now) if (today - d).days <= DUE_DAYS]
    reports = []
    for day in days:
        report = send_review(session, site, day, now)
        # Recorded at once: a later day's failure (the mail server down) must not roll back a day
        # that went out, or its subscribers would get it again on the next try.
        session.commit()
        if report.skipped is None:
            reports.append(report)
    return reports
