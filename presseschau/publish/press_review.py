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
import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_date
from jinja2 import Environment
from markupsafe import escape
from sqlalchemy import String, cast, distinct, func, or_, select
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.ingest.profiles import profile_text
from presseschau.publish import feeds, queries, sitemaps
from presseschau.publish.attribution import short_rights
from presseschau.publish.formatting import nest_quotes, plural, teaser
from presseschau.publish.urls import Urls
from presseschau.store.models import (
    Article,
    PressReview,
    Publication,
    PublicationStatus,
    Source,
    Story,
    StoryArticle,
    StoryRedirect,
    Translation,
)
from presseschau.stories import service as stories
from presseschau.stories.key_passages import story_passages
from presseschau.stories.passages import Passage
from presseschau.stories.service import ReviewState, ReviewStory
from presseschau.text import isolate_bidi


class Site(Protocol):
    """What the review's pages need of the site they belong to (`presseschau.publish.site.Site`,
    which imports this module: the review sees the site only through this shape)."""

    settings: Settings
    language: str
    env: Environment
    urls: Urls


FEED_DAYS = 30
OTHER_DAYS = 14
FEED_NAMES = {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}
TITLE = "Die Presseschau des Tages"
# The story's other articles listed first under „Verwandte Artikel“ on an article page.
SIBLINGS_SHOWN = 6


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
    # The outlet's profile („Vereinigtes Königreich, Zeitung“; "" when unset).
    profile: str = ""
    # The key passage (what this outlet says): quoted from the German article, or an editor's words.
    passage: str | None = None
    passage_editorial: bool = False
    passage_original: str | None = None

    @property
    def outlet_label(self) -> str:
        """The outlet with its profile: „The Guardian (Vereinigtes Königreich, Zeitung)“."""
        return f"{self.outlet} ({self.profile})" if self.profile else self.outlet

    @property
    def quote(self) -> str:
        """The key passage as the review prints it in text: „…“, or marked as the editors' words."""
        if not self.passage:
            return ""
        return f"Die Redaktion: {self.passage}" if self.passage_editorial else f"„{self.quoted_passage}“"

    @property
    def quoted_passage(self) -> str:
        """The passage ready to stand inside „…“: its own quotations become half quotes (‚…‘), as
        German typography nests them."""
        return nest_quotes(self.passage or "")

    # The original's licence and how the German text came about (attribution.short_rights).
    rights: str = ""

    @property
    def blurb(self) -> str:
        """The key passage and the machine summary (labelled as such); without either, the teaser
        (for feeds and e-mail)."""
        summary = f"Maschinelle Zusammenfassung: {self.summary}" if self.summary else ""
        return " – ".join(part for part in (self.quote, summary) if part) or self.teaser


@dataclass(frozen=True, slots=True)
class StoryView:
    id: int
    url: str
    headline: str
    edited: bool
    outlets: int
    first: datetime
    last: datetime
    entries: list[Entry]
    # A short machine-written German introduction (with an LLM configured) and its model.
    intro: str | None = None
    intro_model: str | None = None


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


def story_path(site: Site, story_id: int) -> str:
    """A story's permanent page (its ID never changes; a merged story's page redirects)."""
    return site.urls.path(f"/presseschau/geschichte/{story_id}/")


def german_day(day: date) -> str:
    return format_date(day, format="long", locale="de")


# The read model ------------------------------------------------------------------------------------


def _entry(
    site: Site,
    translation: Translation,
    summary: tuple[str, str | None] | None = None,
    passage: Passage | None = None,
) -> Entry:
    article = translation.article
    publication = translation.publication
    assert publication is not None
    source = article.source
    outlet = queries.plain_text(article.outlet) or (queries.plain_text(source.name) if source is not None else "")
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
        profile=profile_text(source.country, source.outlet_kind) if source is not None else "",
        passage=passage.text if passage is not None else None,
        passage_editorial=passage is not None and passage.editorial,
        passage_original=passage.original if passage is not None else None,
        rights=short_rights(article, translation),
    )


def story_view(site: Site, item: ReviewStory) -> StoryView:
    first, last = item.span
    passages = story_passages(item)
    return StoryView(
        id=item.story.id,
        url=story_path(site, item.story.id),
        headline=item.headline,
        edited=item.story.headline is not None,
        outlets=item.outlets,
        first=first,
        last=last,
        entries=[_entry(site, t, item.summaries.get(t.id), passages.get(t.id)) for t in item.members],
        intro=item.story.intro or None,
        intro_model=item.story.intro_model,
    )


def day_view(session: Session, site: Site, day: date, now: datetime | None = None) -> DayView | None:
    """The review of `day` (None when it has no story with a published article)."""
    found = stories.review(session, site.settings, day)
    if not found:
        return None
    state = stories.review_state(session, site.settings, day, now)
    text = german_day(day)
    return DayView(day, f"Presseschau vom {text}", text, state, [story_view(site, item) for item in found])


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


# Story pages ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoryPage:
    """What `/presseschau/geschichte/<id>/` answers: a page (200), a redirect to the story it was
    merged into (301), gone (410: none of its articles is published any more) or not found (404:
    no such story, or its day's review is not public)."""

    status: int
    body: str | None = None
    location: str | None = None


def _merged_into(session: Session, story_id: int) -> int | None:
    redirect = session.get(StoryRedirect, story_id)
    return redirect.story_id if redirect is not None else None


def story_page(session: Session, site: Site, story_id: int, now: datetime | None = None) -> StoryPage:
    story = session.get(Story, story_id)
    if story is None:
        target = _merged_into(session, story_id)
        if target is not None:
            return StoryPage(301, location=story_path(site, target))
        return StoryPage(404)
    if story.language != site.settings.target_language:
        return StoryPage(404)
    day = date.fromisoformat(story.day)
    if not stories.review_state(session, site.settings, day, now).public:
        return StoryPage(404)
    item = next((i for i in stories.review(session, site.settings, day) if i.story.id == story.id), None)
    if item is None:
        return StoryPage(410)
    return StoryPage(200, render_story(site, item, day))


def render_story(site: Site, item: ReviewStory, day: date) -> str:
    """A story's page (for a story of a public review)."""
    view = story_view(site, item)
    return site.env.get_template("story.html").render(
        story=view,
        day_text=german_day(day),
        day_url=day_path(site, day),
        feeds={kind: feed_path(site, kind) for kind in FEED_NAMES},
        section="presseschau",
        canonical=site.urls.absolute(view.url),
        robots=None,
    )


def redirect_page(site: Site, target: str) -> str:
    """A page that sends a browser on to `target` (static hosting cannot answer 301)."""
    return site.env.get_template("redirect.html").render(
        target=target, target_abs=site.urls.absolute(target), message="Diese Geschichte ist jetzt Teil von"
    )


@dataclass(frozen=True, slots=True)
class ArticleStory:
    """An article's story, for its page: the link („Diese Geschichte in 3 Medien“, when the story's
    review is public) and its other published articles (listed first under „Verwandte Artikel“)."""

    story_id: int
    url: str | None
    outlets: int
    # The first `SIBLINGS_SHOWN` of the story's other published articles, oldest first.
    sibling_ids: list[int]


# Per session (one request, one static build): each story's outlet count and published articles,
# read once. An article page needs its story's, and a build renders every member of a big story:
# per article, the two queries made the build quadratic in the story's size.
_STORY_MEMBERS: weakref.WeakKeyDictionary[Session, dict[int, tuple[int, list[int]]]] = weakref.WeakKeyDictionary()


def _story_members(session: Session, story_id: int) -> tuple[int, list[int]]:
    """A story's number of outlets and its published articles' IDs, oldest first."""
    known = _STORY_MEMBERS.setdefault(session, {})
    found = known.get(story_id)
    if found is not None:
        return found
    published = (
        select(Publication.id)
        .join(StoryArticle, StoryArticle.translation_id == Publication.translation_id)
        .join(Translation, Translation.id == Publication.translation_id)
        .join(Article, Article.id == Translation.article_id)
        .where(StoryArticle.story_id == story_id, Publication.status == PublicationStatus.PUBLISHED)
    )
    # Outlets as the review counts them: the outlet's name, else its source, else the article itself.
    outlet = func.coalesce(
        Article.outlet, "source:" + cast(Article.source_id, String), "article:" + cast(Article.id, String)
    )
    outlets = session.scalar(published.with_only_columns(func.count(distinct(outlet)))) or 0
    members = list(session.scalars(published.order_by(Publication.published_at, Publication.id)).all())
    found = known[story_id] = (outlets, members)
    return found


def article_story(
    session: Session, site: Site, publication_id: int, now: datetime | None = None
) -> ArticleStory | None:
    """The story of a published article (None when it is in none)."""
    story = session.scalars(
        select(Story)
        .join(StoryArticle, StoryArticle.story_id == Story.id)
        .join(Publication, Publication.translation_id == StoryArticle.translation_id)
        .where(Publication.id == publication_id)
    ).first()
    if story is None:
        return None
    outlets, members = _story_members(session, story.id)
    siblings = [member for member in members if member != publication_id][:SIBLINGS_SHOWN]
    public = stories.review_state(session, site.settings, date.fromisoformat(story.day), now).public
    return ArticleStory(story.id, story_path(site, story.id) if public else None, outlets, siblings)


def attach_story(session: Session, site: Site, view: queries.ArticleView) -> None:
    """Give an article page its story: the link, and the story's other articles first among the
    related ones (the rest of the related list follows, up to its usual length)."""
    found = article_story(session, site, view.summary.publication_id)
    if found is None:
        return
    view.story_url, view.story_outlets = found.url, found.outlets
    # A few of the story's other articles (a big story has hundreds): its page links the rest.
    by_id = queries.summaries_by_id(session, found.sibling_ids)
    siblings = [by_id[i] for i in found.sibling_ids if i in by_id]
    rest = [r for r in view.related if r.publication_id not in set(found.sibling_ids)]
    view.related = siblings + rest[: max(0, queries.RELATED_COUNT - len(siblings))]


# Feeds ---------------------------------------------------------------------------------------------


def _content_html(site: Site, view: DayView) -> str:
    parts = []
    for story in view.stories:
        parts.append(story_html(site, story))
    return "\n".join(parts)


def story_html(site: Site, story: StoryView) -> str:
    """A story as feed content: headline (linking its page), intro, each outlet with its passage."""
    story_link = escape(site.urls.absolute(story.url))
    parts = [f'<h2><a href="{story_link}">{escape(isolate_bidi(story.headline))}</a></h2>']
    if story.intro:
        parts.append(f"<p><em>Maschinell verfasste Einleitung:</em> {escape(isolate_bidi(story.intro))}</p>")
    parts.append("<ul>")
    for entry in story.entries:
        original = f' (<a href="{escape(entry.original_url)}">Original</a>)' if entry.original_url is not None else ""
        link = escape(site.urls.absolute(entry.url))
        parts.append(
            f"<li><strong>{escape(isolate_bidi(entry.outlet_label))}</strong>: "
            f'<a href="{link}">{escape(isolate_bidi(entry.title))}</a>{original}'
            + (f"<br>{escape(isolate_bidi(entry.blurb))}" if entry.blurb else "")
            + (f"<br><small>{escape(isolate_bidi(entry.rights))}</small>" if entry.rights else "")
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
    for day in days:
        urls.extend(
            sitemaps.SitemapUrl(site.urls.absolute(story_path(site, item.story.id)))
            for item in stories.review(session, site.settings, day)
        )
    return urls


def static_files(session: Session, site: Site, now: datetime | None = None) -> dict[str, str]:
    """Relative path → content of every review page and feed, for `presseschau build`."""
    files = {"presseschau/index.html": render_latest(session, site, now)}
    for day in stories.public_days(session, site.settings, now):
        page = render_day(session, site, day, now=now)
        if page is not None:
            files[f"presseschau/{day.year:04d}/{day.month:02d}/{day.day:02d}/index.html"] = page
        for item in stories.review(session, site.settings, day):
            files[f"presseschau/geschichte/{item.story.id}/index.html"] = render_story(site, item, day)
    # A merged story's page sends readers on to the story it became part of.
    for redirect in session.scalars(select(StoryRedirect)):
        if f"presseschau/geschichte/{redirect.story_id}/index.html" in files:
            target = story_path(site, redirect.story_id)
            files[f"presseschau/geschichte/{redirect.old_id}/index.html"] = redirect_page(site, target)
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
    members: list[object] = list(session.execute(select(func.count(), func.count(StoryArticle.summary))).one())
    # Editors' passages, merged stories' redirects and the outlets' profiles show on these pages too.
    members.append(session.scalar(select(func.count(StoryArticle.passage))))
    members.append(session.scalar(select(func.count(StoryRedirect.old_id))))
    profiles = session.execute(
        select(Source.id, Source.country, Source.outlet_kind).where(
            or_(Source.country.is_not(None), Source.outlet_kind.is_not(None))
        )
    ).all()
    members.append(hashlib.blake2b(repr(sorted(profiles)).encode(), digest_size=8).hexdigest())
    decisions = session.execute(
        select(func.count(PressReview.id), func.max(PressReview.updated_at)).where(
            PressReview.language == settings.target_language
        )
    ).one()
    days = [d.isoformat() for d in stories.public_days(session, settings, now or datetime.now(UTC))]
    inputs = [list(stories_state), members, list(decisions), days]
    return hashlib.blake2b(json.dumps(inputs, default=str).encode("utf-8"), digest_size=16).hexdigest()
