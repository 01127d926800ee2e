"""The editorial admin area under /admin/: login, dashboard, review queue, editor, sources, users.

Security design (see `presseschau.editorial.security`):
- every route goes through `_guard`: no valid signed session cookie means a redirect to the login
  page (GET) or 403 (POST); role `admin` is required for sources and users;
- every POST carries a CSRF token bound to the session (the login form: to a pre-session cookie);
- logins are throttled per account (lockout in `users.authenticate`) and per client address;
- every response is `Cache-Control: no-store` and never touches the public page cache (these
  routes render directly), with headers that forbid framing and inline scripts.

Everything works with plain HTML forms; no JavaScript is needed.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from presseschau.app import AppContext
from presseschau.content import paragraphs_from_json, sanitize_inline_html
from presseschau.editorial import review
from presseschau.editorial.markers import MarkerError, html_to_markers, markers_to_html
from presseschau.editorial.security import AddressThrottle, SessionData, Signer, load_secret_key, password_fingerprint
from presseschau.editorial.users import (
    ROLES,
    AuthenticatedUser,
    LoginThrottled,
    UserError,
    add_user,
    authenticate,
    remove_user,
    set_disabled,
    set_password,
)
from presseschau.publish.formatting import local_datetime
from presseschau.publish.site import asset_version
from presseschau.store.models import Article, Publication, RevokedSession, Source, Translation, User, utcnow
from presseschau.translate.glossary import GlossaryInputError, format_glossary_additions, parse_glossary_additions
from presseschau.translate.names import engine_display_name
from presseschau.web.limits import read_form
from presseschau.web.params import RowId

TEMPLATES_DIR = Path(__file__).parent / "templates"
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
}
POLICIES = {"auto": "automatisch veröffentlichen", "review": "erst nach Prüfung"}
STATUS_LABELS = {
    "published": "veröffentlicht",
    "held": "wartet auf Prüfung",
    "unpublished": "zurückgezogen",
    "archived": "archiviert",
}
SOURCE_KIND_LABELS = {"auto": "Art noch nicht erkannt", "feed": "Feed", "sitemap": "Sitemap", "page": "Einzelseite"}
# The outcome of a source's last poll (`Source.last_status`: "ok", "not_modified" or an error kind).
POLL_STATUS_LABELS = {
    "ok": "erfolgreich",
    "not_modified": "unverändert",
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


class _AdminRoute(APIRoute):
    """Adds the no-store and security headers to every admin response, errors included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as error:
                response = HTMLResponse(html.escape(str(error.detail)), status_code=error.status_code)
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
        )
        tz = self.settings.timezone
        self.env.filters["when"] = lambda moment: (
            local_datetime(moment, tz).strftime("%d.%m.%Y %H:%M") if moment else "–"
        )
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
            if user is None or user.disabled or password_fingerprint(user.password_hash) != data.fingerprint:
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


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str | None) -> str:
    # Only paths inside the admin area: no open redirect to another host ("//evil", "/\\evil").
    if target and target.startswith(PREFIX + "/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target
    return PREFIX + "/"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _form_int(form: Mapping[str, Any], name: str) -> int | None:
    value = form.get(name)
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def _form_str(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


Work = Callable[[Visitor, FormData | None], Response]


def admin_router(context: AppContext) -> APIRouter:
    """The /admin/ routes for `context` (include before the site's catch-all slug routes)."""
    area = AdminArea(context)
    router = APIRouter(prefix=PREFIX, route_class=_AdminRoute)
    settings = context.settings

    async def guard(request: Request, work: Work, role: str = "editor") -> Response:
        form = await read_form(request) if request.method == "POST" else None
        visitor = await run_in_threadpool(area.visitor, request)
        if visitor is None:
            if request.method != "POST":
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return _see_other(f"{PREFIX}/anmelden?weiter={quote(target, safe='')}")
            return area.error(None, 403, "Nicht angemeldet. Bitte zuerst anmelden.")
        if role == "admin" and not visitor.user.is_admin:
            return area.error(visitor, 403, "Dieser Bereich ist Administratoren vorbehalten.")
        if form is not None and not area.signer.check_csrf(visitor.session.nonce, _form_str(form, "csrf_token")):
            return area.error(
                visitor, 403, "Das Formular ist abgelaufen oder ungültig (CSRF-Schutz). Bitte Seite neu laden."
            )
        return await run_in_threadpool(work, visitor, form)

    # Login ----------------------------------------------------------------------------------------

    def login_page(request: Request, status: int = 200, message: str | None = None) -> Response:
        binding = request.cookies.get(LOGIN_COOKIE) or area.signer.csrf_token(str(time.time_ns()))
        response = area.page(
            "login.html",
            None,
            status=status,
            csrf=area.signer.csrf_token("login:" + binding),
            message=message,
            next=_safe_next(request.query_params.get("weiter")),
            notice=MESSAGES.get(request.query_params.get("ok", "")),
        )
        response.set_cookie(
            LOGIN_COOKIE,
            binding,
            max_age=3600,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=area.cookie_secure(request),
        )
        return response

    @router.get("/anmelden")
    async def login_form(request: Request) -> Response:
        return login_page(request)

    @router.post("/anmelden")
    async def login(request: Request) -> Response:
        form = await read_form(request)
        binding = request.cookies.get(LOGIN_COOKIE)
        if not area.signer.check_csrf("login:" + binding if binding else None, _form_str(form, "csrf_token")):
            return login_page(request, 403, "Das Anmeldeformular ist abgelaufen. Bitte erneut versuchen.")
        address = _client_address(request)
        wait = area.throttle.retry_after(address)
        if wait > 0:
            response = login_page(
                request,
                429,
                f"Zu viele fehlgeschlagene Anmeldungen. Bitte in {int(wait) + 1} Sekunden erneut versuchen.",
            )
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        name, password = _form_str(form, "name").strip(), _form_str(form, "passwort")

        def check() -> tuple[AuthenticatedUser | None, str | None]:
            with context.database.session() as session:
                try:
                    user = authenticate(session, name, password)
                except LoginThrottled:
                    # Answered like a wrong password: "locked until" would tell that the name exists.
                    return None, None
                if user is None:
                    return None, None
                stored = session.get(User, user.id)
                return user, password_fingerprint(stored.password_hash) if stored else None

        user, fingerprint = await run_in_threadpool(check)
        if user is None or fingerprint is None:
            area.throttle.record_failure(address)
            return login_page(request, 401, LOGIN_FAILED)
        lifetime = settings.admin_session_hours * 3600
        response = _see_other(_safe_next(_form_str(form, "weiter")))
        response.set_cookie(
            SESSION_COOKIE,
            area.signer.new_session(user.id, fingerprint, lifetime),
            max_age=lifetime,
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=area.cookie_secure(request),
        )
        response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
        return response

    @router.post("/abmelden")
    async def logout(request: Request) -> Response:
        def work(visitor: Visitor, form: FormData | None) -> Response:
            area.revoke(visitor.session)  # a copy of the cookie must not outlive the sign-out
            response = _see_other(f"{PREFIX}/anmelden?ok=abgemeldet")
            response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
            return response

        return await guard(request, work)

    # Dashboard and queue -------------------------------------------------------------------------

    @router.get("/")
    async def dashboard(request: Request) -> Response:
        def work(visitor: Visitor, form: FormData | None) -> Response:
            with context.database.session() as session:
                counts = _dashboard_counts(session, settings.target_language)
            return area.page("dashboard.html", visitor, counts=counts)

        return await guard(request, work)

    @router.get("/warteschlange")
    async def queue(request: Request) -> Response:
        include_published = request.query_params.get("alle") == "1"

        def work(visitor: Visitor, form: FormData | None) -> Response:
            with context.database.session() as session:
                items = review.review_queue(session, settings, include_published=include_published)
            return area.page(
                "queue.html",
                visitor,
                items=items,
                include_published=include_published,
                notice=MESSAGES.get(request.query_params.get("ok", "")),
            )

        return await guard(request, work)

    # Editor --------------------------------------------------------------------------------------

    def editor_page(
        session: Session,
        visitor: Visitor,
        translation: Translation,
        status: int = 200,
        error: str | None = None,
        notice: str | None = None,
        submitted: Mapping[str, Any] | None = None,
    ) -> Response:
        from presseschau.translate.engines import engine_names

        version = review.latest_revision_number(session, translation)
        history = review.revisions(session, translation)
        # A published translation is edited in its draft; the form shows the draft where one is open.
        draft_title, german = review.draft_text(translation)
        english = paragraphs_from_json(translation.article.paragraphs)
        rows = []
        for index in range(max(len(german), len(english))):
            source = english[index] if index < len(english) else None
            target = german[index] if index < len(german) else None
            # Inline markup as readable markers ("[Link: Text → URL]"), not raw HTML.
            value = html_to_markers(target.html) if target else ""
            shown = target or source
            if submitted is not None and isinstance(submitted.get(f"absatz-{index}"), str):
                value = submitted[f"absatz-{index}"]  # keep what the editor typed when saving failed
            rows.append(
                {
                    "index": index,
                    "kind": shown.kind if shown else "p",
                    # Source paragraphs are sanitized at ingest; sanitized again as they go to the page.
                    "english": sanitize_inline_html(source.html) if source else "",
                    "german": value,
                    "editable": target is not None,
                    "retranslatable": source is not None and target is not None,
                }
            )
        publication = translation.publication
        title = draft_title
        if submitted is not None and isinstance(submitted.get("titel"), str):
            title = submitted["titel"]
        return area.page(
            "editor.html",
            visitor,
            status=status,
            translation=translation,
            article=translation.article,
            publication=publication,
            title=title,
            rows=rows,
            version=version,
            history=list(reversed(history)),
            flags=review.translation_flags(settings, translation),
            engines=engine_names(),
            public_url=f"/{publication.slug}/" if publication and publication.status == "published" else None,
            live=review.is_live(translation),
            draft=translation.draft,
            error=error,
            notice=notice,
        )

    def load(session: Session, translation_id: int) -> Translation | None:
        try:
            return review.get_translation(session, translation_id)
        except review.ReviewError:
            return None

    @router.get("/uebersetzung/{translation_id}")
    async def editor(request: Request, translation_id: RowId) -> Response:
        def work(visitor: Visitor, form: FormData | None) -> Response:
            with context.database.session() as session:
                translation = load(session, translation_id)
                if translation is None:
                    return area.error(visitor, 404, f"Übersetzung {translation_id} nicht gefunden oder nicht fertig.")
                return editor_page(
                    session, visitor, translation, notice=MESSAGES.get(request.query_params.get("ok", ""))
                )

        return await guard(request, work)

    class Conflict(Exception):
        """Someone saved a newer revision after this form was loaded."""

    def form_changes(session: Session, translation: Translation, form: FormData) -> tuple[dict[int, str], str | None]:
        """The paragraphs and title of the editor form that differ from the live text."""
        if _form_int(form, "version") != review.latest_revision_number(session, translation):
            raise Conflict
        current = paragraphs_from_json(translation.paragraphs)
        changed: dict[int, str] = {}
        for index, paragraph in enumerate(current):
            value = form.get(f"absatz-{index}")
            if not isinstance(value, str):
                continue
            try:
                new_html = markers_to_html(value, index + 1)
            except MarkerError as error:
                raise review.ReviewError(str(error)) from error
            # An untouched field gives the stored HTML back (in the sanitizer's form).
            if new_html != sanitize_inline_html(paragraph.html):
                changed[index] = new_html
        title = form.get("titel")
        new_title = title if isinstance(title, str) and title != (translation.title or "") else None
        return changed, new_title

    def apply_form_edits(session: Session, visitor: Visitor, translation: Translation, form: FormData) -> bool:
        """Save the title and paragraphs of the editor form (only fields that differ); True if saved.
        The live page changes with it: for published translations only on "Änderung veröffentlichen"."""
        changed, new_title = form_changes(session, translation, form)
        translation.draft = None  # what the form held is now the translation
        if not changed and new_title is None:
            return False
        saved = review.save_edit(
            context, session, translation, visitor.user.name, title=new_title, paragraphs=changed or None
        )
        return saved is not None

    def save_form_as_draft(session: Session, visitor: Visitor, translation: Translation, form: FormData) -> bool:
        """Keep the form of a published translation as its draft; the live page stays as it is."""
        changed, new_title = form_changes(session, translation, form)
        translation.draft = None  # the form holds the whole draft: start from the live text
        title = new_title if new_title is not None else translation.title or ""
        return review.save_draft(translation, visitor.user.name, title=title, paragraphs=changed)

    def editor_action(
        request: Request, translation_id: RowId, action: Callable[[Session, Visitor, Translation, FormData], str]
    ) -> Callable[[Visitor, FormData | None], Response]:
        """Run `action` (returns a message key) in one transaction; errors re-render the editor."""

        def work(visitor: Visitor, form: FormData | None) -> Response:
            assert form is not None
            try:
                with context.database.session() as session:
                    translation = load(session, translation_id)
                    if translation is None:
                        return area.error(visitor, 404, f"Übersetzung {translation_id} nicht gefunden.")
                    key = action(session, visitor, translation, form)
            except Conflict:
                with context.database.session() as session:
                    translation = load(session, translation_id)
                    assert translation is not None
                    return editor_page(
                        session,
                        visitor,
                        translation,
                        status=409,
                        error="Die Übersetzung wurde inzwischen geändert (siehe Versionen). Ihre Eingaben stehen "
                        "unten; erneut speichern übernimmt sie.",
                        submitted=form,
                    )
            except review.ReviewError as failure:
                with context.database.session() as session:
                    translation = load(session, translation_id)
                    if translation is None:
                        return area.error(visitor, 404, str(failure))
                    return editor_page(session, visitor, translation, status=400, error=str(failure), submitted=form)
            if key == "freigegeben":
                return _see_other(f"{PREFIX}/warteschlange?ok={key}")
            return _see_other(f"{PREFIX}/uebersetzung/{translation_id}?ok={key}")

        return work

    @router.post("/uebersetzung/{translation_id}")
    async def save(request: Request, translation_id: RowId) -> Response:
        def action(session: Session, visitor: Visitor, translation: Translation, form: FormData) -> str:
            if not review.is_live(translation):
                return "gespeichert" if apply_form_edits(session, visitor, translation, form) else "unveraendert"
            # On the site: "Entwurf speichern" keeps the page as it is; only "Änderung veröffentlichen"
            # changes what readers see.
            if _form_str(form, "aktion") == "veroeffentlichen":
                return "veroeffentlicht" if apply_form_edits(session, visitor, translation, form) else "unveraendert"
            return "entwurf" if save_form_as_draft(session, visitor, translation, form) else "kein-entwurf"

        return await guard(request, editor_action(request, translation_id, action))

    @router.post("/uebersetzung/{translation_id}/neu-uebersetzen")
    async def retranslate(request: Request, translation_id: RowId) -> Response:
        from presseschau.translate.engines import engine_names

        def action(session: Session, visitor: Visitor, translation: Translation, form: FormData) -> str:
            index = _form_int(form, "absatz")
            if index is None:
                raise review.ReviewError("Kein Absatz zum Neuübersetzen gewählt.")
            engine = _form_str(form, "engine") or None
            if engine is not None and engine not in engine_names():
                raise review.ReviewError(f"Unbekannter Übersetzungsdienst {engine!r}.")
            # The button sits in the editor form: unsaved edits of other paragraphs are kept (in the
            # draft of a published translation, whose live page stays as it is).
            live = review.is_live(translation)
            if live:
                save_form_as_draft(session, visitor, translation, form)
            else:
                apply_form_edits(session, visitor, translation, form)
            review.retranslate_paragraph(
                context, session, translation, index - 1, visitor.user.name, engine, into_draft=live
            )
            return "neu-uebersetzt"

        return await guard(request, editor_action(request, translation_id, action))

    @router.post("/uebersetzung/{translation_id}/slug")
    async def slug(request: Request, translation_id: RowId) -> Response:
        def action(session: Session, visitor: Visitor, translation: Translation, form: FormData) -> str:
            review.change_slug(session, translation, _form_str(form, "slug").strip(), visitor.user.name)
            return "slug"

        return await guard(request, editor_action(request, translation_id, action))

    @router.post("/uebersetzung/{translation_id}/freigeben")
    async def approve(request: Request, translation_id: RowId) -> Response:
        def action(session: Session, visitor: Visitor, translation: Translation, form: FormData) -> str:
            if "version" in form:
                apply_form_edits(session, visitor, translation, form)  # what the editor sees is what goes out
            review.approve(session, settings, translation, visitor.user.name)
            return "freigegeben"

        return await guard(request, editor_action(request, translation_id, action))

    @router.post("/uebersetzung/{translation_id}/ablehnen")
    async def reject(request: Request, translation_id: RowId) -> Response:
        def action(session: Session, visitor: Visitor, translation: Translation, form: FormData) -> str:
            review.reject(session, translation, visitor.user.name)
            return "abgelehnt"

        return await guard(request, editor_action(request, translation_id, action))

    @router.get("/uebersetzung/{translation_id}/versionen")
    async def versions(request: Request, translation_id: RowId) -> Response:
        def work(visitor: Visitor, form: FormData | None) -> Response:
            with context.database.session() as session:
                translation = load(session, translation_id)
                if translation is None:
                    return area.error(visitor, 404, f"Übersetzung {translation_id} nicht gefunden.")
                history = review.revisions(session, translation)
                by_number = {r.number: r for r in history}
                newest = history[-1].number
                to_number = _form_int(request.query_params, "zu") or newest
                from_number = _form_int(request.query_params, "von") or max(1, to_number - 1)
                if from_number not in by_number or to_number not in by_number:
                    return area.error(visitor, 404, "Diese Version gibt es nicht.")
                title_diff, paragraph_diffs = review.diff_revisions(by_number[from_number], by_number[to_number])
                return area.page(
                    "versions.html",
                    visitor,
                    translation=translation,
                    history=list(reversed(history)),
                    old=by_number[from_number],
                    new=by_number[to_number],
                    title_diff=title_diff,
                    diffs=paragraph_diffs,
                )

        return await guard(request, work)

    # Sources -------------------------------------------------------------------------------------

    def sources_page(
        visitor: Visitor, status: int = 200, error: str | None = None, notice: str | None = None
    ) -> Response:
        from presseschau.translate.engines import engine_names
        from presseschau.web.admin_sources import TARGET_LANGUAGE_CHOICES, filter_template_values

        with context.database.session() as session:
            sources = list(session.scalars(select(Source).order_by(Source.name, Source.id)))
            counts: dict[int | None, int] = {
                source_id: count
                for source_id, count in session.execute(
                    select(Article.source_id, func.count()).group_by(Article.source_id)
                )
            }
            return area.page(
                "sources.html",
                visitor,
                status=status,
                sources=sources,
                article_counts=counts,
                engines=engine_names(),
                default_interval_min=settings.default_poll_interval_s // 60,
                default_policy=settings.default_publish_policy,
                filter_values={source.id: filter_template_values(source) for source in sources},
                target_language_choices=TARGET_LANGUAGE_CHOICES,
                error=error,
                notice=notice,
            )

    @router.get("/quellen")
    async def sources(request: Request) -> Response:
        def work(visitor: Visitor, form: FormData | None) -> Response:
            return sources_page(visitor, notice=MESSAGES.get(request.query_params.get("ok", "")))

        return await guard(request, work, role="admin")

    def source_settings(form: FormData) -> tuple[int, str, str | None, dict[str, str] | None]:
        from presseschau.translate.engines import engine_names

        minutes = _form_int(form, "intervall")
        if minutes is None or not 1 <= minutes <= 7 * 24 * 60:
            raise ValueError("Das Abrufintervall muss zwischen 1 Minute und 7 Tagen liegen (in Minuten).")
        policy = _form_str(form, "regel")
        if policy not in POLICIES:
            raise ValueError("Unbekannte Veröffentlichungsregel.")
        engine = _form_str(form, "engine") or None
        if engine is not None and engine not in engine_names():
            raise ValueError(f"Unbekannter Übersetzungsdienst {engine!r}.")
        try:
            glossary = parse_glossary_additions(_form_str(form, "glossar"))
        except GlossaryInputError as failure:
            raise ValueError(f"Glossar-Ergänzungen: {failure}") from failure
        return minutes * 60, policy, engine, glossary or None

    @router.post("/quellen")
    async def add_source(request: Request) -> Response:
        from presseschau.ingest.errors import IngestError
        from presseschau.ingest.service import add_source as ingest_add_source

        def work(visitor: Visitor, form: FormData | None) -> Response:
            assert form is not None
            try:
                interval, policy, engine, glossary = source_settings(form)
                from presseschau.web.admin_sources import form_filters

                filters, tags = form_filters(form)
                ingest_add_source(
                    context,
                    _form_str(form, "url").strip(),
                    name=_form_str(form, "name").strip() or None,
                    poll_interval_s=interval,
                    publish_policy=policy,
                    engine=engine,
                    glossary=glossary,
                    tags=tags,
                    filters=filters,
                )
            except (ValueError, IngestError) as failure:
                return sources_page(visitor, status=400, error=f"Quelle nicht hinzugefügt: {failure}")
            return _see_other(f"{PREFIX}/quellen?ok=quelle-neu")

        return await guard(request, work, role="admin")

    @router.post("/quellen/{source_id}")
    async def update_source(request: Request, source_id: RowId) -> Response:
        def work(visitor: Visitor, form: FormData | None) -> Response:
            assert form is not None
            from presseschau.ingest.errors import IngestError, SourceNotFound
            from presseschau.ingest.sources import update_source as ingest_update_source
            from presseschau.web.admin_sources import form_filters

            try:
                interval, policy, engine, glossary = source_settings(form)
                filters, tags = form_filters(form)
                name = _form_str(form, "name").strip()
                ingest_update_source(
                    context,
                    source_id,
                    poll_interval_s=interval,
                    publish_policy=policy,
                    engine=engine,
                    glossary=glossary,
                    enabled=form.get("aktiv") == "1",
                    tags=tags,
                    filters=filters,
                    **({"name": name} if name else {}),
                )
            except SourceNotFound:
                return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
            except (ValueError, IngestError) as failure:
                return sources_page(visitor, status=400, error=str(failure))
            return _see_other(f"{PREFIX}/quellen?ok=quelle-gespeichert#quelle-{source_id}")

        return await guard(request, work, role="admin")

    @router.post("/quellen/{source_id}/entfernen")
    async def remove_source(request: Request, source_id: RowId) -> Response:
        from presseschau.ingest.errors import SourceNotFound
        from presseschau.ingest.service import remove_source as ingest_remove_source

        def work(visitor: Visitor, form: FormData | None) -> Response:
            if form is None or _form_str(form, "bestaetigt") != "1":
                # One click must not remove a source: ask first, saying what stays.
                with context.database.session() as session:
                    source = session.get(Source, source_id)
                    if source is None:
                        return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
                    articles = session.scalar(select(func.count(Article.id)).where(Article.source_id == source_id))
                    return area.page("source_remove.html", visitor, source=source, articles=int(articles or 0))
            try:
                ingest_remove_source(context, source_id)
            except SourceNotFound:
                return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
            return _see_other(f"{PREFIX}/quellen?ok=quelle-entfernt")

        return await guard(request, work, role="admin")

    from presseschau.web.admin_sources import add_source_tools

    add_source_tools(router, context, area, guard, sources_page)

    # Users ---------------------------------------------------------------------------------------

    def users_page(
        visitor: Visitor, status: int = 200, error: str | None = None, notice: str | None = None
    ) -> Response:
        with context.database.session() as session:
            rows = list(session.scalars(select(User).order_by(User.name)))
            return area.page("users.html", visitor, status=status, users=rows, roles=ROLES, error=error, notice=notice)

    @router.get("/benutzer")
    async def users(request: Request) -> Response:
        def work(visitor: Visitor, form: FormData | None) -> Response:
            return users_page(visitor, notice=MESSAGES.get(request.query_params.get("ok", "")))

        return await guard(request, work, role="admin")

    def user_action(change: Callable[[Session, Visitor, FormData], str]) -> Work:
        """Run a user change for an admin (CSRF checked by `guard`); errors re-render the list."""

        def work(visitor: Visitor, form: FormData | None) -> Response:
            assert form is not None
            try:
                with context.database.session() as session:
                    key = change(session, visitor, form)
            except UserError as error:
                return users_page(visitor, status=400, error=error.german)
            return _see_other(f"{PREFIX}/benutzer?ok={key}")

        return work

    def user_name(session: Session, user_id: int) -> str:
        user = session.get(User, user_id)
        if user is None:
            raise UserError(f"no user {user_id}", "Diesen Benutzer gibt es nicht (mehr).")
        return user.name

    @router.post("/benutzer")
    async def add_user_route(request: Request) -> Response:
        def change(session: Session, visitor: Visitor, form: FormData) -> str:
            if _form_str(form, "passwort") != _form_str(form, "passwort2"):
                raise UserError("passwords differ", "Die beiden Passwörter stimmen nicht überein.")
            add_user(session, _form_str(form, "name").strip(), _form_str(form, "passwort"), _form_str(form, "rolle"))
            return "benutzer-angelegt"

        return await guard(request, user_action(change), role="admin")

    @router.post("/benutzer/{user_id}/sperren")
    async def disable_user(request: Request, user_id: RowId) -> Response:
        def change(session: Session, visitor: Visitor, form: FormData) -> str:
            disable = _form_str(form, "aktion") != "entsperren"
            set_disabled(session, user_name(session, user_id), disable)
            return "benutzer-gesperrt" if disable else "benutzer-entsperrt"

        return await guard(request, user_action(change), role="admin")

    @router.post("/benutzer/{user_id}/passwort")
    async def reset_password(request: Request, user_id: RowId) -> Response:
        def change(session: Session, visitor: Visitor, form: FormData) -> str:
            if _form_str(form, "passwort") != _form_str(form, "passwort2"):
                raise UserError("passwords differ", "Die beiden Passwörter stimmen nicht überein.")
            set_password(session, user_name(session, user_id), _form_str(form, "passwort"))
            return "passwort-gesetzt"

        return await guard(request, user_action(change), role="admin")

    @router.post("/benutzer/{user_id}/entfernen")
    async def delete_user(request: Request, user_id: RowId) -> Response:
        def change(session: Session, visitor: Visitor, form: FormData) -> str:
            if _form_str(form, "bestaetigt") != "1":
                raise UserError("not confirmed", "Bitte das Entfernen mit dem Häkchen bestätigen.")
            remove_user(session, user_name(session, user_id))
            return "benutzer-entfernt"

        return await guard(request, user_action(change), role="admin")

    return router


def _dashboard_counts(session: Session, language: str) -> dict[str, Any]:
    """Counts for the dashboard: publications by status, the queue, translation work, source errors."""
    publications: dict[str, int] = {
        status: count
        for status, count in session.execute(
            select(Publication.status, func.count())
            .where(Publication.language == language)
            .group_by(Publication.status)
        )
    }
    translations: dict[str, int] = {
        status: count
        for status, count in session.execute(
            select(Translation.status, func.count())
            .where(Translation.language == language)
            .group_by(Translation.status)
        )
    }
    waiting = session.scalar(
        select(func.count())
        .select_from(Translation)
        .join(Publication, Publication.translation_id == Translation.id)
        .where(Publication.status == "held", Translation.reviewed.is_(False), Translation.language == language)
    )
    unreviewed_published = session.scalar(
        select(func.count())
        .select_from(Translation)
        .join(Publication, Publication.translation_id == Translation.id)
        .where(Publication.status == "published", Translation.reviewed.is_(False), Translation.language == language)
    )
    failing = list(session.scalars(select(Source).where(Source.consecutive_failures > 0).order_by(Source.name)))
    return {
        "publications": publications,
        "translations": translations,
        "waiting": int(waiting or 0),
        "unreviewed_published": int(unreviewed_published or 0),
        "sources_total": int(session.scalar(select(func.count(Source.id))) or 0),
        "sources_paused": int(session.scalar(select(func.count(Source.id)).where(Source.enabled.is_(False))) or 0),
        "failing_sources": [
            (source.id, source.name, source.last_error or source.last_status or "", source.consecutive_failures)
            for source in failing
        ],
        "articles_failed": int(
            session.scalar(select(func.count(Article.id)).where(Article.fetch_status == "failed")) or 0
        ),
    }
