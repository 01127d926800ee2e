"""Public routes of Die Presseschau des Tages: `/presseschau/`, a day's page, the review's feeds.

Rendered on each request (with ETags, so a repeat visit gets 304) rather than kept in the page
cache: whether a day is public depends on the clock (policy `auto`) and on editors' decisions
that the site version does not see.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Callable
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from presseschau.editorial.security import AddressThrottle
from presseschau.publish import newsletter, press_review
from presseschau.web.cache import HTML, make_page, respond
from presseschau.web.limits import read_form
from presseschau.web.public import CONTENT_TYPES, Public, PublicSite

log = logging.getLogger(__name__)

router = APIRouter()
# Browsers ask again every time (a cheap 304 with the ETag): an editor's release or withdrawal shows at once.
REVALIDATE = "public, no-cache"
# Subscription requests per client address and hour: each address gets one confirmation an hour, and
# this keeps one client from mailing confirmations to ever new addresses through the site's server.
SUBSCRIBE_LIMIT = 5
SUBSCRIBE_WINDOW_S = 3600.0


async def _answer(
    request: Request, public: PublicSite, render: Callable[[Session], str | None], media: str
) -> Response:
    def build() -> str | None:
        with public.context.database.session() as session:
            return render(session)

    body = await run_in_threadpool(build)
    if body is None:  # not public (yet): asked again next time, so a release shows at once
        return respond(request, make_page(public.site.not_found(), cache_control=REVALIDATE, status=404))
    return respond(request, make_page(body, media, REVALIDATE))


@router.get("/presseschau")
def without_slash(public: Public) -> RedirectResponse:
    return RedirectResponse(press_review.day_path(public.site), status_code=301)


@router.get("/presseschau/")
async def latest(request: Request, public: Public) -> Response:
    return await _answer(request, public, lambda s: press_review.render_latest(s, public.site), HTML)


@router.get("/presseschau/geschichte/{story_id}/")
async def story(request: Request, public: Public, story_id: str) -> Response:
    """A story's permanent page; a merged story's redirects (301) to the story it became part of."""
    if not re.fullmatch(r"[1-9][0-9]{0,17}", story_id):
        return respond(request, public.not_found())

    def build() -> press_review.StoryPage:
        with public.context.database.session() as session:
            return press_review.story_page(session, public.site, int(story_id))

    answer = await run_in_threadpool(build)
    if answer.location is not None:
        return RedirectResponse(answer.location, status_code=301)
    if answer.body is None:
        if answer.status == 410:
            gone = public.site.error(
                "Geschichte nicht mehr verfügbar", "Die Artikel dieser Geschichte sind nicht mehr veröffentlicht."
            )
            return respond(request, make_page(gone, cache_control=REVALIDATE, status=410))
        return respond(request, make_page(public.site.not_found(), cache_control=REVALIDATE, status=404))
    return respond(request, make_page(answer.body, HTML, REVALIDATE))


@router.get("/presseschau/geschichte/{story_id}")
def story_without_slash(public: Public, story_id: str) -> Response:
    if not re.fullmatch(r"[1-9][0-9]{0,17}", story_id):
        return Response(status_code=404)
    return RedirectResponse(press_review.story_path(public.site, int(story_id)), status_code=301)


@router.get("/presseschau/{year}/{month}/{day}/")
async def day_page(request: Request, public: Public, year: str, month: str, day: str) -> Response:
    # ASCII digits only (`\d` and int() also take other scripts' digits: a second URL for the day).
    if not (re.fullmatch(r"[0-9]{4}", year) and re.fullmatch(r"[0-9]{2}", month) and re.fullmatch(r"[0-9]{2}", day)):
        return respond(request, public.not_found())
    try:
        wanted = date(int(year), int(month), int(day))
    except ValueError:
        return respond(request, public.not_found())
    return await _answer(request, public, lambda s: press_review.render_day(s, public.site, wanted), HTML)


def _add_feed_route(kind: str, name: str) -> None:
    async def review_feed(request: Request, public: Public) -> Response:
        return await _answer(request, public, lambda s: press_review.feed(s, public.site, kind), CONTENT_TYPES[name])

    router.add_api_route(f"/presseschau/{name}", review_feed, methods=["GET"], name=f"press_review_feed_{kind}")


for _kind, _name in press_review.FEED_NAMES.items():
    _add_feed_route(_kind, _name)


# The newsletter (when `newsletter_enabled`): double opt-in and unsubscribe -------------------------


def _notice(
    public: PublicSite,
    heading: str,
    message: str,
    status: int = 200,
    form: str | None = None,
    button: str = "Abbestellen",
) -> Response:
    body = public.site.env.get_template("newsletter.html").render(
        heading=heading, message=message, form_action=form, button=button, robots="noindex", section="presseschau"
    )
    return Response(body, status_code=status, media_type=HTML, headers={"Cache-Control": "no-store"})


def _newsletter_off(public: PublicSite) -> Response | None:
    if public.context.settings.newsletter_enabled:
        return None
    return _notice(public, "Kein Newsletter", "Diese Website verschickt keinen Newsletter.", status=404)


def _throttled(request: Request) -> bool:
    """True when the client asked too often; else counts this request."""
    throttle = getattr(request.app.state, "newsletter_throttle", None)
    if throttle is None:
        throttle = request.app.state.newsletter_throttle = AddressThrottle(SUBSCRIBE_LIMIT, SUBSCRIBE_WINDOW_S)
    address = request.client.host if request.client else "unknown"
    if throttle.retry_after(address) > 0:
        return True
    throttle.record_failure(address)
    return False


@router.post("/presseschau/abonnieren")
async def subscribe(request: Request, public: Public) -> Response:
    if (off := _newsletter_off(public)) is not None:
        return off
    if _throttled(request):
        return _notice(
            public,
            "Zu viele Anmeldungen",
            "Zu viele Anmeldungen von Ihrer Adresse. Bitte später erneut versuchen.",
            429,
        )
    form = await read_form(request)
    email = form.get("email")

    def work() -> None:
        database = public.context.database
        with database.session() as session:
            subscriber = newsletter.subscribe(session, email if isinstance(email, str) else "")
            if subscriber is None:
                return
            subscriber_id = subscriber.id
            message = newsletter.confirmation_message(public.context.settings, public.site, subscriber)
        try:
            newsletter.deliver(public.context.settings, [message])
        except Exception:
            with database.session() as session:
                newsletter.mail_failed(session, subscriber_id)
            raise

    try:
        await run_in_threadpool(work)
    except newsletter.NewsletterError as error:
        return _notice(public, "Anmeldung nicht möglich", error.german, status=400)
    except (OSError, smtplib.SMTPException):
        log.exception("newsletter: the confirmation mail could not be sent")
        return _notice(public, "Anmeldung nicht möglich", "Die Bestätigung konnte gerade nicht verschickt werden.", 503)
    # The same answer whatever the address's state: the form tells no one who subscribed.
    return _notice(
        public,
        "Bitte bestätigen",
        "Wir haben Ihnen eine E-Mail mit einem Bestätigungslink geschickt. Erst nach der Bestätigung "
        "bekommen Sie die Presseschau.",
    )


@router.get("/presseschau/bestaetigen/{token}")
def confirm_page(public: Public, token: str) -> Response:
    """A button, not an action: mail scanners follow the links of every mail they check, and a GET
    that confirmed would turn double opt-in into single opt-in."""
    if (off := _newsletter_off(public)) is not None:
        return off
    with public.context.database.session() as session:
        waiting = newsletter.awaiting_confirmation(session, token)
    if not waiting:
        return _notice(public, "Link ungültig", "Dieser Bestätigungslink ist ungültig oder abgelaufen.", status=404)
    return _notice(
        public,
        "Anmeldung bestätigen",
        "Möchten Sie Die Presseschau des Tages per E-Mail bekommen?",
        form=public.site.urls.path(f"/presseschau/bestaetigen/{token}"),
        button="Anmeldung bestätigen",
    )


@router.post("/presseschau/bestaetigen/{token}")
def confirm(public: Public, token: str) -> Response:
    if (off := _newsletter_off(public)) is not None:
        return off
    with public.context.database.session() as session:
        subscriber = newsletter.confirm(session, token)
        status = subscriber.status if subscriber is not None else None
    if status != "active":
        return _notice(public, "Link ungültig", "Dieser Bestätigungslink ist ungültig oder abgelaufen.", status=404)
    return _notice(public, "Angemeldet", "Danke! Sie bekommen ab jetzt Die Presseschau des Tages per E-Mail.")


@router.get("/presseschau/abbestellen/{token}")
def unsubscribe_page(public: Public, token: str) -> Response:
    """A button, not an action: mail scanners follow links, and a GET must change nothing."""
    return _notice(
        public,
        "Newsletter abbestellen",
        "Möchten Sie Die Presseschau des Tages nicht mehr per E-Mail bekommen?",
        form=public.site.urls.path(f"/presseschau/abbestellen/{token}"),
    )


@router.post("/presseschau/abbestellen/{token}")
def unsubscribe(public: Public, token: str) -> Response:
    """The button and the one-click unsubscribe of mail programs (RFC 8058) both POST here."""
    with public.context.database.session() as session:
        subscriber = newsletter.unsubscribe(session, token)
    if subscriber is None:
        return _notice(public, "Link ungültig", "Dieser Link ist ungültig.", status=404)
    return _notice(public, "Abbestellt", "Sie bekommen Die Presseschau des Tages nicht mehr per E-Mail.")
