"""Reader trust routes: the side-by-side page, the correction form, the corrections page and feed.

The form needs no account. It is CSRF-safe by a double submit: a random cookie (SameSite=Strict)
and a token signed with the site's key over that cookie, both of which a forged cross-site post
lacks; each client address may send `correction_reports_per_hour` reports an hour.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from presseschau.editorial.security import AddressThrottle, Signer
from presseschau.publish import corrections
from presseschau.web.cache import CACHE_ARTICLE, CACHE_LIST, make_page, respond
from presseschau.web.limits import read_form
from presseschau.web.params import RowId
from presseschau.web.public import SLUG_RE, Public, PublicSite

router = APIRouter()
REPORT_COOKIE = "presseschau_meldung"
REPORT_WINDOW_S = 3600.0
NO_STORE = {"Cache-Control": "no-store"}


def _signer(request: Request) -> Signer:
    return request.app.state.admin_area.signer  # type: ignore[no-any-return]


def _throttle(request: Request, public: PublicSite) -> AddressThrottle:
    throttle = getattr(request.app.state, "report_throttle", None)
    if throttle is None:
        limit = public.context.settings.correction_reports_per_hour
        throttle = request.app.state.report_throttle = AddressThrottle(limit, REPORT_WINDOW_S)
    return throttle


@router.get("/korrekturen/")
async def corrections_page(request: Request, public: Public) -> Response:
    return await public.cached(
        request, ("corrections",), public.rendered(public.site.corrections_page, cache_control=CACHE_LIST)
    )


@router.get("/korrekturen/feed.xml")
async def corrections_feed(request: Request, public: Public) -> Response:
    build = public.rendered(public.site.corrections_feed, "application/rss+xml; charset=utf-8", CACHE_LIST)
    return await public.cached(request, ("corrections-feed",), build)


@router.get("/{slug}/zweisprachig/")
async def bilingual_page(request: Request, public: Public, slug: str) -> Response:
    if not SLUG_RE.fullmatch(slug):
        return respond(request, public.not_found())
    target = await run_in_threadpool(public.resolve_slug, slug)
    if target.publication_id is None:
        return respond(request, public.not_found())
    publication_id = target.publication_id

    def render(session: object) -> str | None:
        return public.site.bilingual_page(session, publication_id)  # type: ignore[arg-type]

    build = public.rendered(render, cache_control=CACHE_ARTICLE)
    return await public.cached(request, ("bilingual", publication_id, target.updated), build)


def _form_response(
    request: Request, public: PublicSite, target: corrections.ReportTarget, status: int = 200, **values: str
) -> Response:
    binding = request.cookies.get(REPORT_COOKIE) or secrets.token_urlsafe(24)
    csrf = _signer(request).csrf_token("report:" + binding)
    body = public.site.report_form(target, csrf, values.get("message", ""), values.get("error"))
    response = Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=NO_STORE)
    response.set_cookie(REPORT_COOKIE, binding, max_age=3600, httponly=True, samesite="strict")
    return response


def _target(public: PublicSite, publication_id: int, index: int) -> corrections.ReportTarget | None:
    with public.context.database.session() as session:
        return corrections.report_target(session, public.context.settings, publication_id, index)


@router.get("/korrektur/{publication_id}/{index}/")
async def report_form(request: Request, public: Public, publication_id: RowId, index: int) -> Response:
    target = await run_in_threadpool(_target, public, publication_id, index)
    if target is None:
        return make_response_404(public)
    return _form_response(request, public, target)


def make_response_404(public: PublicSite) -> Response:
    page = make_page(public.site.not_found(), status=404, cache_control="no-store")
    return Response(page.body, status_code=404, media_type=page.media_type, headers=NO_STORE)


@router.post("/korrektur/{publication_id}/{index}/")
async def send_report(request: Request, public: Public, publication_id: RowId, index: int) -> Response:
    target = await run_in_threadpool(_target, public, publication_id, index)
    if target is None:
        return make_response_404(public)
    form = await read_form(request)
    message = form.get("message")
    text = message if isinstance(message, str) else ""
    token = form.get("csrf_token")
    binding = request.cookies.get(REPORT_COOKIE)
    if not _signer(request).check_csrf(
        "report:" + binding if binding else None, token if isinstance(token, str) else None
    ):
        error = "Das Formular ist abgelaufen oder kam nicht von dieser Seite. Bitte erneut senden."
        return _form_response(request, public, target, 403, message=text, error=error)
    throttle = _throttle(request, public)
    address = request.client.host if request.client else "unknown"
    if throttle.retry_after(address) > 0:
        error = "Zu viele Meldungen von Ihrer Adresse. Bitte später erneut versuchen."
        return _form_response(request, public, target, 429, message=text, error=error)

    def store() -> None:
        with public.context.database.session() as session:
            corrections.add_report(session, public.context.settings, publication_id, index, text)

    try:
        await run_in_threadpool(store)
    except corrections.CorrectionError as error:
        return _form_response(request, public, target, 400, message=text, error=error.german)
    throttle.record_failure(address)  # counts every stored report
    return Response(public.site.report_thanks(target), media_type="text/html; charset=utf-8", headers=NO_STORE)
