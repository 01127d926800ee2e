"""The editorial admin area's core: its constants and labels, the per-app `AdminArea` (templates,
signing key, login throttle), the route class that adds security headers, and small form helpers.

The security design is described in `presseschau.web.admin`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import delete

from presseschau.app import AppContext
from presseschau.editorial.security import AddressThrottle, SessionData, Signer, load_secret_key, password_fingerprint
from presseschau.editorial.users import AuthenticatedUser
from presseschau.messages import german_or
from presseschau.publish import error_pages
from presseschau.publish.formatting import local_datetime, nest_quotes, plural
from presseschau.publish.queries import plain_text
from presseschau.publish.urls import asset_version
from presseschau.store.models import PublicationStatus, RevokedSession, SourceStatus, User, utcnow
from presseschau.store.rights import REUSE_LABELS, article_reuse, reuse_setting_text
from presseschau.text import isolated_output
from presseschau.translate.glossary import format_glossary_additions
from presseschau.translate.names import engine_display_name
from presseschau.web.params import parse_row_id

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"
SESSION_COOKIE = "presseschau_admin"
LOGIN_COOKIE = "presseschau_login"
COOKIE_PATH = "/admin"
# One answer for every failed login (wrong password, unknown name, locked account), so the login
# form never tells which accounts exist.
LOGIN_FAILED = (
    "Name oder Passwort ist falsch – oder das Konto ist nach zu vielen Fehlversuchen "
    "vorübergehend gesperrt. Bitte später erneut versuchen."
)
PREFIX = "/admin"
DATE_FORMAT = "%d.%m.%Y"
# Admin pages hold unpublished text and per-user forms: never stored by browsers or proxies.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; object-src 'none'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
}
MESSAGES = {
    "gespeichert": "Änderungen gespeichert.",
    "entwurf": "Entwurf gespeichert. Die Website zeigt weiter die veröffentlichte Fassung.",
    "kein-entwurf": "Der Entwurf entspricht der veröffentlichten Fassung – kein Entwurf offen.",
    "veroeffentlicht": "Änderung veröffentlicht: die Website zeigt jetzt die neue Fassung.",
    "unveraendert": "Keine Änderungen – nichts gespeichert.",
    "neu-uebersetzt": "Absatz neu übersetzt.",
    "alles-neu-uebersetzt": "Ganzer Text neu übersetzt.",
    "slug": "Slug geändert; die alte Adresse leitet weiter.",
    "freigegeben": "Artikel freigegeben und veröffentlicht.",
    "abgelehnt": "Artikel abgelehnt und archiviert.",
    "quelle-neu": "Quelle hinzugefügt.",
    "quelle-gespeichert": "Quelle gespeichert.",
    "quelle-entfernt": "Quelle entfernt (ihre Artikel bleiben erhalten).",
    "benutzer-angelegt": "Benutzer angelegt.",
    "benutzer-gesperrt": "Benutzer gesperrt: Anmeldung nicht mehr möglich, offene Sitzungen sind beendet.",
    "benutzer-entsperrt": "Benutzer entsperrt.",
    "passwort-gesetzt": "Neues Passwort gesetzt; die Sitzungen des Benutzers sind beendet.",
    "benutzer-entfernt": "Benutzer entfernt.",
    "abgemeldet": "Sie sind abgemeldet.",
    "rechte": "Nutzungsrechte der Quelle gespeichert.",
    "korrektur": "Korrektur veröffentlicht.",
    "meldung": "Meldung erledigt.",
}
POLICIES = {
    "auto": "automatisch veröffentlichen",
    "review": "erst nach Prüfung",
    "auto-unless-risky": "automatisch, riskante Übersetzungen erst nach Prüfung",
}
STATUS_LABELS: dict[str, str] = {
    PublicationStatus.PUBLISHED: "veröffentlicht",
    PublicationStatus.HELD: "wartet auf Prüfung",
    PublicationStatus.UNPUBLISHED: "zurückgezogen",
    PublicationStatus.ARCHIVED: "archiviert",
}
SOURCE_KIND_LABELS = {"auto": "Art noch nicht erkannt", "feed": "Feed", "sitemap": "Sitemap", "page": "Einzelseite"}
# The outcome of a source's last poll (`Source.last_status`: "ok", "not_modified" or an error kind).
POLL_STATUS_LABELS: dict[str, str] = {
    SourceStatus.OK: "erfolgreich",
    SourceStatus.NOT_MODIFIED: "unverändert",
    "fetch_failed": "Abruf fehlgeschlagen",
    "invalid_url": "ungültige Adresse",
    "blocked_address": "Adresse gesperrt",
    "robots_disallowed": "von robots.txt verboten",
    "http_status": "HTTP-Fehler",
    "too_many_redirects": "zu viele Weiterleitungen",
    "too_large": "Antwort zu groß",
    "timeout": "Zeitüberschreitung",
    "connection_failed": "keine Verbindung",
    "malformed_feed": "fehlerhafter Feed",
    "extraction_failed": "Extraktion fehlgeschlagen",
    "no_article": "kein Artikel gefunden",
    "invalid_encoding": "ungültige Zeichenkodierung",
}


def poll_failure_text(last_status: str | None, last_error: str | None) -> str:
    """A failed poll in German: what went wrong (by the error's kind), then the technical detail as
    the server or the network library gave it (status lines and library errors are not translated)."""
    label = POLL_STATUS_LABELS.get(last_status or "", "Abruf fehlgeschlagen")
    return f"{label} (technische Angabe: {last_error})" if last_error else label


class Refusal(Exception):
    """Raised by an admin dependency to answer with `response` instead of running the route."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class AdminRoute(APIRoute):
    """Adds the no-store and security headers to every admin response, errors included.

    A malformed path (an id that is not a number or past the database's range) is answered 404
    before the dependencies run, so it is 404 whether or not the visitor is signed in."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        path_params = self.dependant.path_params

        async def with_headers(request: Request) -> Response:
            _, path_errors = request_params_to_args(path_params, request.path_params)
            try:
                if path_errors:
                    raise RequestValidationError(path_errors)
                response = await handler(request)
            except Refusal as refusal:
                response = refusal.response
            except HTTPException as error:
                # FastAPI's own refusals (a body it cannot parse) in German, never its English detail.
                _, message = error_pages.describe(error.status_code)
                response = HTMLResponse(html.escape(message), status_code=error.status_code)
            except RequestValidationError:
                # A path parameter that is not a number: no such page (and still no caching).
                response = HTMLResponse("Nicht gefunden.", status_code=404)
            response.headers.update(SECURITY_HEADERS)
            return response

        return with_headers


@dataclass(frozen=True)
class Visitor:
    user: AuthenticatedUser
    session: SessionData


class AdminArea:
    """State of the admin area for one app: templates, signing key, login throttle."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.settings = context.settings
        self.signer = Signer(load_secret_key(context.settings))
        self.throttle = AddressThrottle()
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=isolated_output,  # outside text with bidi controls is isolated (see presseschau.text)
        )
        tz = self.settings.timezone
        # One date format in the whole admin area: 06.12.2026, with the time 06.12.2026 14:05 (local).
        self.env.filters["when"] = lambda moment: (
            local_datetime(moment, tz).strftime(f"{DATE_FORMAT} %H:%M") if moment else "–"
        )
        self.env.filters["day"] = lambda day: day.strftime(DATE_FORMAT)
        self.env.globals.update(
            site_title=self.settings.site_title,
            asset=lambda name: f"/static/{name}?v={asset_version(name)}",
            status_labels=STATUS_LABELS,
            source_kind_labels=SOURCE_KIND_LABELS,
            poll_status_labels=POLL_STATUS_LABELS,
            policies=POLICIES,
        )
        self.env.filters["glossary_text"] = format_glossary_additions
        self.env.filters["engine_name"] = engine_display_name
        self.env.filters["revision_author"] = revision_author
        # A stored catalogued message (presseschau.messages) in German, else the stored English text.
        self.env.filters["german_or"] = german_or
        # Stored titles and outlets are inline HTML: shown as their text (markup dropped, never rendered).
        self.env.filters["plain"] = plain_text
        # Rights (presseschau.store.rights): a source's reuse setting and an article's decision, in words.
        self.env.filters["reuse_text"] = lambda source: reuse_setting_text(self.settings, source)
        self.env.filters["reuse_decision"] = lambda article: article_reuse(self.settings, article)
        self.env.globals["reuse_labels"] = REUSE_LABELS
        self.env.filters["plural"] = plural
        self.env.filters["nest_quotes"] = nest_quotes
        self.env.globals["poll_failure_text"] = poll_failure_text
        self.env.globals["default_risk_threshold"] = context.settings.quality_risk_threshold

    # Rendering ----------------------------------------------------------------------------------

    def page(self, template: str, visitor: Visitor | None, status: int = 200, **values: Any) -> HTMLResponse:
        csrf = self.signer.csrf_token(visitor.session.nonce) if visitor else values.pop("csrf", "")
        body = self.env.get_template(f"admin/{template}").render(
            user=visitor.user if visitor else None, csrf=csrf, **values
        )
        return HTMLResponse(body, status_code=status)

    def error(self, visitor: Visitor | None, status: int, message: str) -> HTMLResponse:
        return self.page("error.html", visitor, status=status, message=message)

    def cookie_secure(self, request: Request) -> bool:
        if self.settings.admin_cookie_secure is not None:
            return self.settings.admin_cookie_secure
        return request.url.scheme == "https" or self.settings.base_url.startswith("https://")

    # Sessions -----------------------------------------------------------------------------------

    def visitor(self, request: Request) -> Visitor | None:
        """The logged-in user of `request`, checked against the database on every request."""
        data = self.signer.read_session(request.cookies.get(SESSION_COOKIE))
        if data is None:
            return None
        with self.context.database.session() as session:
            user = session.get(User, data.user_id)
            if user is None or user.disabled:
                return None
            if password_fingerprint(user.password_hash, user.session_generation) != data.fingerprint:
                return None
            if session.get(RevokedSession, data.nonce) is not None:  # signed out
                return None
            return Visitor(AuthenticatedUser(user.id, user.name, user.role), data)

    def revoke(self, data: SessionData) -> None:
        """End the session `data` for every server process; forget revocations past their expiry."""
        now = utcnow()
        with self.context.database.session() as session:
            session.execute(delete(RevokedSession).where(RevokedSession.expires_at < now))
            if session.get(RevokedSession, data.nonce) is None:
                session.add(RevokedSession(nonce=data.nonce, expires_at=datetime.fromtimestamp(data.expires, UTC)))


def revision_author(author: str, model: str | None = None) -> str:
    """`Übersetzungsdienst: DeepL` for the machine's revision (stored as `engine:deepl`), else the user."""
    if author.startswith("engine:"):
        return f"Übersetzungsdienst: {engine_display_name(author.removeprefix('engine:'), model)}"
    return author


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(target: str | None) -> str:
    # Only paths inside the admin area: no open redirect to another host ("//evil", "/\\evil").
    if target and target.startswith(PREFIX + "/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target
    return PREFIX + "/"


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def form_int(form: Mapping[str, Any], name: str) -> int | None:
    """A whole number (an ID, a position, a count) from a form field; None unless it is one a row can hold."""
    return parse_row_id(form.get(name))


def form_str(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""
