"""Die Presseschau des Tages: the day's stories, most covered first, each outlet's report in a line or two.

Pages at `/presseschau/` (the latest public day) and `/presseschau/<yyyy>/<mm>/<dd>/`, feeds at
`/presseschau/feed.xml`, `atom.xml` and `feed.json` (one item per day), sitemap entries and the
static build's files. The stories, their order and whether a day is public come from
`presseschau.stories.service`; this module only turns them into pages and feeds with the `Site`'s
templates and URL style. Every text from outside (titles, outlets, editors' headlines) reaches the
page through the template's escaping, the feeds as text (see `presseschau.publish.feeds`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.publish import feeds, queries, sitemaps
from presseschau.publish.formatting import plural, teaser
from presseschau.store.models import PressReview, Story, StoryArticle, Translation
from presseschau.stories import service as stories
from presseschau.stories.service import ReviewState, ReviewStory

if TYPE_CHECKING:
    from presseschau.publish.site import Site

FEED_DAYS = 30
OTHER_DAYS = 14
FEED_NAMES = {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}
TITLE = "Die Presseschau des Tages"


@dataclass(frozen=True, slots=True)
class Entry:
    """One outlet's report in a story."""

    outlet: str
    title: str
    teaser: str
    url: str
    original_url: str | None
    original_title: str
    original_published_at: datetime | None
    original_date_only: bool
    # A machine summary (two German sentences by an LLM) and its model, shown instead of the teaser.
    summary: str | None = None
    summary_model: str | None = None

    @property
    def blurb(self) -> str:
        """The summary, labelled as a machine summary, else the teaser (for feeds and e-mail)."""
        return f"Maschinelle Zusammenfassung: {self.summary}" if self.summary else self.teaser


@dataclass(frozen=True, slots=True)
class StoryView:
    id: int
    headline: str
    edited: bool
    outlets: int
    first: datetime
    last: datetime
    entries: list[Entry]


@dataclass(frozen=True, slots=True)
class DayView:
    day: date
    title: str
    date_text: str
    state: ReviewState
    stories: list[StoryView]


# URLs (the same in both URL styles) ----------------------------------------------------------------


def day_path(site: Site, day: date | None = None) -> str:
    if day is None:
        return site.urls.path("/presseschau/")
    return site.urls.path(f"/presseschau/{day.year:04d}/{day.month:02d}/{day.day:02d}/")


def feed_path(site: Site, kind: str) -> str:
    return site.urls.path(f"/presseschau/{FEED_NAMES[kind]}")


def german_day(day: date) -> str:
    return format_date(day, format="long", locale="de")


# The read model ------------------------------------------------------------------------------------


def _entry(site: Site, translation: Translation, summary: tuple[str, str | None] | None = None) -> Entry:
    article = translation.article
    publication = translation.publication
    assert publication is not None
    outlet = queries.plain_text(article.outlet) or (
        queries.plain_text(article.source.name) if article.source is not None else ""
    )
    return Entry(
        outlet=outlet or urlsplit(article.canonical_url).netloc,
        title=queries.plain_text(translation.title) or queries.plain_text(article.title) or "Ohne Titel",
        teaser=teaser(queries.iter_safe_paragraphs(translation.paragraphs)),
        url=site.urls.article(publication.slug),
        original_url=queries.http_url(article.url),
        original_title=queries.plain_text(article.title),
        original_published_at=article.published_at,
        original_date_only=article.published_date_only,
        summary=summary[0] if summary else None,
        summary_model=summary[1] if summary else None,
    )


def _story_view(site: Site, item: ReviewStory) -> StoryView:
    first, last = item.span
    return StoryView(
        id=item.story.id,
        headline=item.headline,
        edited=item.story.headline is not None,
        outlets=item.outlets,
        first=first,
        last=last,
        entries=[_entry(site, t, item.summaries.get(t.id)) for t in item.members],
    )


def day_view(session: Session, site: Site, day: date, now: datetime | None = None) -> DayView | None:
    """The review of `day` (None when it has no story with a published article)."""
    found = stories.review(session, site.settings, day)
    if not found:
        return None
    state = stories.review_state(session, site.settings, day, now)
    text = german_day(day)
    return DayView(day, f"Presseschau vom {text}", text, state, [_story_view(site, item) for item in found])


# Pages ---------------------------------------------------------------------------------------------


def render_day(
    session: Session, site: Site, day: date, latest: bool = False, now: datetime | None = None, preview: bool = False
) -> str | None:
    """The day's page; None unless it is public (`preview`: for editors, public or not)."""
    view = day_view(session, site, day, now)
    if view is None or not (view.state.public or preview):
        return None
    days = stories.public_days(session, site.settings, now)  # newest first
    earlier = [d for d in days if d < day]  # "Frühere": only days before this one
    later = [d for d in days if d > day]
    return site.env.get_template("press_review.html").render(
        view=view,
        latest=latest,
        preview=preview and not view.state.public,
        others=[(german_day(d), day_path(site, d)) for d in earlier[:OTHER_DAYS]],
        previous_day=(german_day(earlier[0]), day_path(site, earlier[0])) if earlier else None,
        next_day=(german_day(later[-1]), day_path(site, later[-1])) if later else None,
        feeds={kind: feed_path(site, kind) for kind in FEED_NAMES},
        section="presseschau",
        newsletter=site.settings.newsletter_enabled,
        canonical=site.urls.absolute(day_path(site, day)),
        robots="noindex" if preview else None,
    )


def render_latest(session: Session, site: Site, now: datetime | None = None) -> str:
    """`/presseschau/`: the newest public day, or a page saying there is none yet."""
    days = stories.public_days(session, site.settings, now)
    if days:
        page = render_day(session, site, days[0], latest=True, now=now)
        if page is not None:
            return page
    return site.env.get_template("press_review.html").render(
        view=None,
        latest=True,
        preview=False,
        others=[],
        feeds={kind: feed_path(site, kind) for kind in FEED_NAMES},
        section="presseschau",
        newsletter=site.settings.newsletter_enabled,
        canonical=site.urls.absolute(day_path(site)),
        robots=None,
    )


# Feeds ---------------------------------------------------------------------------------------------


def _content_html(site: Site, view: DayView) -> str:
    parts = []
    for story in view.stories:
        parts.append(f"<h2>{escape(story.headline)}</h2>\n<ul>")
        for entry in story.entries:
            original = (
                f' (<a href="{escape(entry.original_url)}">Original</a>)' if entry.original_url is not None else ""
            )
            link = escape(site.urls.absolute(entry.url))
            parts.append(
                f'<li><strong>{escape(entry.outlet)}</strong>: <a href="{link}">{escape(entry.title)}</a>{original}'
                + (f"<br>{escape(entry.blurb)}" if entry.blurb else "")
                + "</li>"
            )
        parts.append("</ul>")
    return "\n".join(parts)


def _published(view: DayView, settings: Settings) -> datetime:
    if view.state.public_from is not None:
        return view.state.public_from
    return datetime.combine(view.day, time(settings.press_review_hour), tzinfo=ZoneInfo(settings.timezone))


def feed_items(session: Session, site: Site, now: datetime | None = None) -> list[feeds.FeedItem]:
    items = []
    for day in stories.public_days(session, site.settings, now)[:FEED_DAYS]:
        view = day_view(session, site, day, now)
        if view is None:
            continue
        published = _published(view, site.settings)
        items.append(
            feeds.FeedItem(
                url=site.urls.absolute(day_path(site, day)),
                title=view.title,
                summary=f"{plural(len(view.stories), 'Geschichte', 'Geschichten')}: "
                + "; ".join(s.headline for s in view.stories[:5]),
                content_html=_content_html(site, view),
                published=published,
                updated=max([published, *(s.last for s in view.stories)]),
                original_url="",
                category="Presseschau",
            )
        )
    return items


def feed(session: Session, site: Site, kind: str, now: datetime | None = None) -> str:
    settings = site.settings
    info = feeds.FeedInfo(
        title=f"{TITLE} – {settings.site_title}",
        description="Was die internationale Presse zu den Geschichten des Tages schreibt, auf Deutsch.",
        home_url=site.urls.absolute(day_path(site)),
        rss_url=site.urls.absolute(feed_path(site, "rss")),
        atom_url=site.urls.absolute(feed_path(site, "atom")),
        json_url=site.urls.absolute(feed_path(site, "json")),
        language=site.language,
    )
    items = feed_items(session, site, now)
    if kind == "rss":
        return feeds.rss(info, items)
    if kind == "atom":
        return feeds.atom(info, items)
    return feeds.json_feed(info, items)


# Sitemap and static build --------------------------------------------------------------------------


def sitemap_urls(session: Session, site: Site, now: datetime | None = None) -> list[sitemaps.SitemapUrl]:
    days = stories.public_days(session, site.settings, now)
    if not days:
        return []
    urls = [sitemaps.SitemapUrl(site.urls.absolute(day_path(site)))]
    urls.extend(sitemaps.SitemapUrl(site.urls.absolute(day_path(site, day))) for day in days)
    return urls


def static_files(session: Session, site: Site, now: datetime | None = None) -> dict[str, str]:
    """Relative path → content of every review page and feed, for `presseschau build`."""
    files = {"presseschau/index.html": render_latest(session, site, now)}
    for day in stories.public_days(session, site.settings, now):
        page = render_day(session, site, day, now=now)
        if page is not None:
            files[f"presseschau/{day.year:04d}/{day.month:02d}/{day.day:02d}/index.html"] = page
    for kind, name in FEED_NAMES.items():
        files[f"presseschau/{name}"] = feed(session, site, kind, now)
    return files


def fingerprint(session: Session, settings: Settings, now: datetime | None = None) -> str:
    """A digest of what the review pages are made from (stories, decisions, public days), for the
    static build's "nothing changed" check."""
    stories_state = session.execute(
        select(func.count(Story.id), func.max(Story.updated_at)).where(Story.language == settings.target_language)
    ).one()
    # Members and machine summaries (written after publication, once each: their count changes).
    members = list(session.execute(select(func.count(), func.count(StoryArticle.summary))).one())
    decisions = session.execute(
        select(func.count(PressReview.id), func.max(PressReview.updated_at)).where(
            PressReview.language == settings.target_language
        )
    ).one()
    days = [d.isoformat() for d in stories.public_days(session, settings, now or datetime.now(UTC))]
    inputs = [list(stories_state), members, list(decisions), days]
    return hashlib.blake2b(json.dumps(inputs, default=str).encode("utf-8"), digest_size=16).hexdigest()
