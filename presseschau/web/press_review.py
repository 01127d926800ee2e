"""Public routes of Die Presseschau des Tages: `/presseschau/`, a day's page, the review's feeds.

Rendered on each request (with ETags, so a repeat visit gets 304) rather than kept in the page
cache: whether a day is public depends on the clock (policy `auto`) and on editors' decisions
that the site version does not see.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from presseschau.publish import press_review
from presseschau.web.app import CONTENT_TYPES, HTML, Public, PublicSite, make_page, respond

router = APIRouter()
# Browsers ask again every time (a cheap 304 with the ETag): an editor's release or withdrawal shows at once.
REVALIDATE = "public, no-cache"


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


@router.get("/presseschau/{year}/{month}/{day}/")
async def day_page(request: Request, public: Public, year: str, month: str, day: str) -> Response:
    if not (re.fullmatch(r"\d{4}", year) and re.fullmatch(r"\d{2}", month) and re.fullmatch(r"\d{2}", day)):
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
