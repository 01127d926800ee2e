"""Stories in the store: grouping published translations, editors' changes, the day's review and its release.

Grouping (`group_pending`) only ever places translations that belong to no story yet; it never moves
or removes a member. So it is idempotent, and an editor's merge, split, headline or order survives
every later run. It runs in the transaction that publishes an article (`presseschau.publish.service`
calls it) and from the CLI (`presseschau stories group`).

A story's day is the local day (configured time zone) of its first article, by the original's date
(else when it appeared here). The Presseschau of a day lists that day's stories; it is public when an
editor released it, or under policy `auto` from `press_review_hour` on that day, unless withdrawn.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import FromClause, Select, inspect, select, update
from sqlalchemy.orm import Session, selectinload

from presseschau.config import Settings
from presseschau.content import html_to_text, paragraphs_from_json, sanitize_inline_html, strip_xml_forbidden
from presseschau.messages import CataloguedError
from presseschau.messages import text as message
from presseschau.store.db import GROUPING_LOCK, one_at_a_time
from presseschau.store.models import (
    Article,
    PressReview,
    Publication,
    PublicationStatus,
    Story,
    StoryArticle,
    StoryRedirect,
    StoryRevision,
    Translation,
    utcnow,
)
from presseschau.stories.grouping import Group, StoredIndex, StoryDoc, assign, count
from presseschau.stories.vectors import TermStats

log = logging.getLogger(__name__)

HEADLINE_MAX = 300
# How many ungrouped articles one publication places (see `group_quietly`).
PUBLISH_BATCH = 50
# Enough text for the grouping: titles and the opening paragraphs carry the event.
DOC_PARAGRAPHS = 12
# The latest published articles a process counts into its sliding corpus before it groups the first
# time (afterwards each grouping adds its own articles; see `recent_terms`).
CORPUS_WARM = 500
# How many of the latest publications a publication's grouping looks among (`_published_translations`).
RECENT_PUBLICATIONS = 500
# How many members' texts one query reads when the stored terms are loaded.
LOAD_BATCH = 500


class StoryError(CataloguedError):
    """An editor's change was refused; the catalogued message says why (German for the admin area)."""


@dataclass(frozen=True)
class GroupReport:
    placed: int
    new_stories: int


# Times and days ----------------------------------------------------------------------------------


def article_time(translation: Translation) -> datetime:
    """When the article was written (the original's date), else when it appeared here."""
    article = translation.article
    publication = translation.publication
    return (
        article.published_at
        or (publication.first_published_at if publication is not None else None)
        or translation.translated_at
        or translation.created_at
    )


def local_day(moment: datetime, settings: Settings) -> date:
    return moment.astimezone(ZoneInfo(settings.timezone)).date()


def article_day(translation: Translation, settings: Settings) -> date:
    """The local day of `article_time`; for an original that gives only its date, that date (stored
    as midnight UTC, which is the evening before west of UTC)."""
    article = translation.article
    if article.published_at is not None and article.published_date_only:
        return article.published_at.date()
    return local_day(article_time(translation), settings)


def parse_day(text: str) -> date:
    """`YYYY-MM-DD` as a date; ValueError otherwise."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"{text!r} is not a day (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:  # "month must be in 1..12" would not name the input
        raise ValueError(f"{text!r} is not a day of the calendar (YYYY-MM-DD)") from None


# Grouping ----------------------------------------------------------------------------------------


def story_doc(translation: Translation) -> StoryDoc:
    article = translation.article
    english = paragraphs_from_json(article.paragraphs)[:DOC_PARAGRAPHS]
    german = paragraphs_from_json(translation.paragraphs)[:DOC_PARAGRAPHS]
    return StoryDoc(
        key=str(translation.id),
        title=article.title or "",
        text="\n".join(p.text for p in english),
        german_title=translation.title or "",
        german_text="\n".join(p.text for p in german),
        time=article_time(translation),
    )


def _process_key(session: Session, settings: Settings) -> tuple[str, str]:
    """The key of what a process keeps per database and target language (corpus, stored terms, backlog)."""
    return (str(session.get_bind().engine.url), settings.target_language)


def _published_translations(session: Session, settings: Settings, limit: int | None) -> Sequence[Translation]:
    """The newest `limit` published translations in no story yet (all of them without a limit).

    With a limit (a publication's batch) they are looked for among the latest `RECENT_PUBLICATIONS`
    publications only, so that the look does not grow with the articles stored: an article is
    published (or published again) with the time of that moment, so a new one is always among them.
    Older ones (left by an upgrade, or by a grouping that failed long ago) are found by a look at all
    of them, which each process makes on its first grouping and repeats while it fills a batch."""
    key = _process_key(session, settings)
    if limit is None or _BACKLOG.get(key, True):
        found = session.scalars(_ungrouped(settings, Publication.__table__, limit)).all()
        if limit is not None:
            _BACKLOG[key] = len(found) >= limit  # a full batch: there may be more
        return _with_article_and_publication(session, found)
    # The latest publications by the index on their time (held ones, without a time, are not).
    latest = (
        select(Publication.translation_id, Publication.status)
        .where(Publication.published_at.is_not(None))
        .order_by(Publication.published_at.desc())
        .limit(RECENT_PUBLICATIONS)
        .subquery()
    )
    return _with_article_and_publication(session, session.scalars(_ungrouped(settings, latest, limit)).all())


def _with_article_and_publication(session: Session, translations: Sequence[Translation]) -> Sequence[Translation]:
    """`translations` with their article and publication loaded (`story_doc` reads both). Those the
    session holds loaded already cost nothing: a publication's own translation, the one a grouping
    usually places, was read with both by the publishing (eager loading in the query itself read
    them again, two queries per publication). The others are read in a query per `LOAD_BATCH`."""
    missing = [t.id for t in translations if {"article", "publication"} & inspect(t).unloaded]
    # Eager loaders fill the unloaded attributes of objects the session holds.
    list(_translations_with_texts(session, missing))
    return translations


def _translations_with_texts(session: Session, ids: Sequence[int]) -> Iterator[Translation]:
    """The translations `ids` in ID order with their article and publication (`story_doc` reads both),
    read in a query per `LOAD_BATCH`."""
    wanted = sorted(ids)
    for start in range(0, len(wanted), LOAD_BATCH):
        yield from session.scalars(
            select(Translation)
            .where(Translation.id.in_(wanted[start : start + LOAD_BATCH]))
            .options(selectinload(Translation.article), selectinload(Translation.publication))
            .order_by(Translation.id)
        ).all()


def _ungrouped(settings: Settings, publications: FromClause, limit: int | None) -> Select[Translation]:
    """The newest `limit` translations of `publications` (the table or a part of it) that are
    published and in no story."""
    columns = publications.c
    return (
        select(Translation)
        .join(publications, columns.translation_id == Translation.id)
        .outerjoin(StoryArticle, StoryArticle.translation_id == Translation.id)
        .where(
            Translation.language == settings.target_language,
            columns.status == PublicationStatus.PUBLISHED,
            StoryArticle.translation_id.is_(None),
        )
        .order_by(Translation.id.desc())
        .limit(limit)
    )


# Whether a process may find older articles to place than the latest publications (see above).
_BACKLOG: dict[tuple[str, str], bool] = {}


# The sliding corpus of recent articles (document frequencies for the grouping's term weights), per
# database and language, kept for the life of the process and updated by every grouping.
_CORPORA: dict[tuple[str, str], TermStats] = {}
_CORPORA_LOCK = threading.Lock()


def recent_terms(session: Session, settings: Settings) -> TermStats:
    """The process's sliding corpus for this database and language; the first call counts the latest
    `CORPUS_WARM` published articles, later calls only what each grouping adds."""
    key = _process_key(session, settings)
    stats = _CORPORA.get(key)
    if stats is None:
        stats = _CORPORA[key] = TermStats()
        recent = session.scalars(
            select(Translation)
            .join(Publication, Publication.translation_id == Translation.id)
            .where(Translation.language == settings.target_language, Publication.status == PublicationStatus.PUBLISHED)
            .options(selectinload(Translation.article), selectinload(Translation.publication))
            .order_by(Translation.id.desc())
            .limit(CORPUS_WARM)
        ).all()
        for translation in reversed(recent):
            count(story_doc(translation), stats)
    return stats


def _stories(session: Session, settings: Settings, story_ids: Collection[int], low: str, high: str) -> Sequence[Story]:
    """The stories `story_ids` of days `low` … `high` with their members (the candidates of a grouping)."""
    if not story_ids:
        return []
    return session.scalars(
        select(Story)
        .where(
            Story.id.in_(sorted(story_ids)),
            Story.language == settings.target_language,
            Story.day >= low,
            Story.day <= high,
        )
        # Each member's article and publication in the same few queries: `article_time` reads both (one
        # lazy query per member and call was most of a publication's grouping time).
        .options(
            selectinload(Story.members)
            .selectinload(StoryArticle.translation)
            .options(selectinload(Translation.article), selectinload(Translation.publication))
        )
        .order_by(Story.id)
    ).all()


def next_revision(session: Session) -> int:
    """Take the stories' next change number (`StoryRevision`): locks the counter to the end of the
    transaction, so changes are committed in the order of their numbers."""
    taken = session.scalars(
        update(StoryRevision)
        .where(StoryRevision.id == 1)
        .values(value=StoryRevision.value + 1)
        .returning(StoryRevision.value)
    ).one_or_none()
    if taken is None:  # a schema made without the migrations' first row
        session.add(StoryRevision(id=1, value=1))
        session.flush()
        return 1
    return taken


@dataclass
class StoredTerms:
    """A process's `StoredIndex` of one database and language: every member of the days it has
    loaded (`low` … `high`) and every change since, up to change number `revision`."""

    index: StoredIndex = field(default_factory=StoredIndex)
    revision: int = 0
    low: str = ""
    high: str = ""


# The stored stories' terms by database and language, kept for the life of the process and brought up
# to date from the database by every grouping (other processes group and editors move articles too).
_STORED: dict[tuple[str, str], StoredTerms] = {}
# Members a process keeps terms for before it starts afresh from the database (stories of past days
# pile up in a long-running worker).
STORED_LIMIT = 200_000


def stored_terms(session: Session, settings: Settings, stats: TermStats, low: str, high: str) -> StoredTerms:
    """The process's `StoredTerms` for this database and language, holding the days `low` … `high`
    and every change committed before this call; the caller holds `_CORPORA_LOCK`."""
    key = _process_key(session, settings)
    stored = _STORED.get(key)
    current = session.scalars(select(StoryRevision.value).where(StoryRevision.id == 1)).one_or_none() or 0
    if stored is None or current < stored.revision or len(stored.index) > STORED_LIMIT:
        # First use, or a database put back from a backup (its numbers are behind ours), or too much.
        stored = _STORED[key] = StoredTerms(revision=current)
    elif current > stored.revision:
        _read_changes(session, settings, stored, stats, current)
    # Days never loaded: their members, once (the changes since are read above on every call).
    if not stored.low:
        _load_days(session, settings, stored, stats, low, high)
        stored.low, stored.high = low, high
    if low < stored.low:
        _load_days(session, settings, stored, stats, low, stored.low, below=True)
        stored.low = low
    if high > stored.high:
        _load_days(session, settings, stored, stats, stored.high, high, above=True)
        stored.high = high
    return stored


def _load_days(
    session: Session,
    settings: Settings,
    stored: StoredTerms,
    stats: TermStats,
    low: str,
    high: str,
    below: bool = False,
    above: bool = False,
) -> None:
    """Put the members of the stories of days `low` … `high` into `stored` (without `high` when
    `below`, without `low` when `above`: that day is loaded already)."""
    conditions = [Story.language == settings.target_language]
    conditions.append(Story.day < high if below else Story.day <= high)
    conditions.append(Story.day > low if above else Story.day >= low)
    rows = session.execute(
        select(StoryArticle.translation_id, Story.id, Story.day).join(Story).where(*conditions)
    ).all()
    _place(session, stored, stats, rows)


def _read_changes(session: Session, settings: Settings, stored: StoredTerms, stats: TermStats, current: int) -> None:
    """Put the members placed or moved since `stored.revision` (up to `current`) into `stored`: a
    member it knows only changes its story; one it does not is read and indexed when its story is
    of a day it holds (the others come when their days are loaded)."""
    rows = session.execute(
        select(StoryArticle.translation_id, Story.id, Story.day)
        .join(Story)
        .where(
            Story.language == settings.target_language,
            StoryArticle.revision > stored.revision,
            StoryArticle.revision <= current,
        )
    ).all()
    unknown = [
        (translation_id, story_id, day)
        for translation_id, story_id, day in rows
        if not stored.index.move(str(translation_id), story_id, day) and stored.low <= day <= stored.high
    ]
    _place(session, stored, stats, unknown)
    stored.revision = current


def _place(session: Session, stored: StoredTerms, stats: TermStats, rows: Sequence[Any]) -> None:
    """Index the members `rows` (translation ID, story ID, day), reading their texts in batches."""
    places = {translation_id: (story_id, day) for translation_id, story_id, day in rows}
    for translation in _translations_with_texts(session, list(places)):
        story_id, day = places[translation.id]
        stored.index.place(story_doc(translation), story_id, day, stats)


def group_pending(session: Session, settings: Settings, limit: int | None = None) -> GroupReport:
    """Place every published translation that is in no story yet (the newest `limit` of them): into the
    most similar story of its time window, or a new one. Existing members are never moved (idempotent;
    editors' work stays).

    Only the stories the process's index of stored terms (`stored_terms`) finds for the new articles
    are loaded and compared, so the cost of placing one does not grow with the stories of its window."""
    # One grouping at a time (PostgreSQL): two workers publishing reports of one event at once would
    # each miss the other's and open two stories, which no later run joins.
    one_at_a_time(session, GROUPING_LOCK)
    pending = _published_translations(session, settings, limit)
    if not pending:
        return GroupReport(0, 0)
    docs = {str(t.id): story_doc(t) for t in pending}
    times = [d.time for d in docs.values() if d.time is not None]
    window = timedelta(hours=settings.story_window_hours)
    low = local_day(min(times) - window, settings).isoformat()
    high = local_day(max(times) + window, settings).isoformat()
    with _CORPORA_LOCK:  # threads of one process share the sliding corpus and the stored terms
        stats = recent_terms(session, settings)
        stored = stored_terms(session, settings, stats, low, high)
        stories = _stories(session, settings, stored.index.candidates(docs.values(), stats, low, high), low, high)
        groups = [Group(story.id, [story_doc(m.translation) for m in story.members]) for story in stories]
        result = assign(
            docs.values(), groups, threshold=settings.story_similarity_threshold, window=window, stats=stats
        )
        by_id = {story.id: story for story in stories}
        by_key = {str(t.id): t for t in pending}
        revision = next_revision(session)
        created = 0
        now = utcnow()
        for group in result:
            new_members = [m for m in group.members if m.key in docs]
            if not new_members:
                continue
            if group.key is None:
                first = min(new_members, key=lambda m: (m.time is None, m.time or now))
                story = Story(
                    language=settings.target_language, day=article_day(by_key[first.key], settings).isoformat()
                )
                session.add(story)
                session.flush()
                created += 1
            else:
                story = by_id[group.key]
            for member in new_members:
                session.add(
                    StoryArticle(
                        translation_id=int(member.key),
                        story_id=story.id,
                        similarity=group.scores.get(member.key),
                        added_at=now,
                        revision=revision,
                    )
                )
                # Known at once to this process (read again, as a known member, with the next changes).
                stored.index.place(member, story.id, story.day, stats)
        session.flush()
    return GroupReport(len(docs), created)


def group_quietly(session: Session, settings: Settings, everything: bool = False) -> None:
    """`group_pending` inside a savepoint, for the publishing transaction: a failure is logged and
    leaves the publication alone (`presseschau stories group` places the article later).

    `everything`: place every ungrouped article, for a bulk publication (`publish --all`) whose
    articles may be more than one batch."""
    try:
        with session.begin_nested():
            # Bounded: after an upgrade, older articles are placed a batch at a time (or all at once by
            # `presseschau stories group`), never all inside one translation's transaction.
            group_pending(session, settings, limit=None if everything else PUBLISH_BATCH)
    except Exception:
        log.exception("grouping published articles into stories failed; they stay ungrouped for now")


# Editors -----------------------------------------------------------------------------------------


def get_story(session: Session, story_id: int) -> Story:
    story = session.get(Story, story_id)
    if story is None:
        raise StoryError(message("story_not_found", story_id=story_id))
    return story


def merge(
    session: Session, target_id: int, other_ids: Sequence[int], editor: str, headline_from: int | None = None
) -> Story:
    """Move every article of `other_ids` into story `target_id` and remove the emptied stories.

    The editors' decisions survive: the articles keep their key passages; the story keeps an editor's
    headline from any of the merged stories (when several have a different one, `headline_from` names
    the story whose headline wins, else the merge is refused) and the first editor's place in the
    order. The merged stories' pages redirect to the target (`StoryRedirect`)."""
    target = get_story(session, target_id)
    # Each story once (a form or command line may name one twice), never the target itself.
    others = [get_story(session, story_id) for story_id in dict.fromkeys(other_ids) if story_id != target_id]
    if not others:
        raise StoryError(message("merge_needs_two"))
    if any(other.language != target.language for other in others):
        raise StoryError(message("merge_languages"))
    headline = merged_headline([target, *others], headline_from)
    # After any grouping under way (PostgreSQL), with a change number: other processes see the moves.
    one_at_a_time(session, GROUPING_LOCK)
    revision = next_revision(session)
    position = target.position
    if position is None:
        placed = [o.position for o in others if o.position is not None and o.day == target.day]
        position = min(placed, default=None)
    for other in others:
        for member in list(other.members):
            member.story_id = target.id
            member.added_by = editor
            member.revision = revision
        _redirect(session, other.id, target.id)
        session.flush()
        session.expire(other, ["members"])
        session.delete(other)
    target.headline, target.position = headline, position
    # A machine intro described the story before the merge: written afresh for the whole.
    target.intro = target.intro_model = None
    target.edited_by = editor
    session.flush()
    session.expire(target, ["members"])
    return target


def merged_headline(merged: Sequence[Story], headline_from: int | None) -> str | None:
    """The editor's headline a merge keeps (see `merge`)."""
    headlines = {story.id: story.headline for story in merged if story.headline}
    if headline_from is not None:
        if headline_from not in {story.id for story in merged}:
            raise StoryError(message("headline_from_unknown", story_id=headline_from))
        return headlines.get(headline_from)
    if len(set(headlines.values())) > 1:
        listed = ", ".join(f"{story_id}: {text!r}" for story_id, text in headlines.items())
        raise StoryError(message("headlines_conflict", stories=list(headlines), listed=listed))
    return next(iter(headlines.values()), None)


def _redirect(session: Session, old_id: int, new_id: int) -> None:
    """`old_id`'s page (and the pages of stories merged into it earlier) now lead to `new_id`."""
    for earlier in session.scalars(select(StoryRedirect).where(StoryRedirect.story_id == old_id)):
        earlier.story_id = new_id
    session.add(StoryRedirect(old_id=old_id, story_id=new_id))


def split(session: Session, story_id: int, translation_ids: Sequence[int], editor: str, settings: Settings) -> Story:
    """Take the articles `translation_ids` out of story `story_id` into a new story of their own."""
    story = get_story(session, story_id)
    chosen = [m for m in story.members if m.translation_id in set(translation_ids)]
    if not chosen:
        raise StoryError(message("split_none_chosen", chosen=str(list(translation_ids)), story_id=story_id))
    if len(chosen) == len(story.members):
        raise StoryError(message("split_leaves_none"))
    first = min(chosen, key=lambda m: article_time(m.translation))
    day = article_day(first.translation, settings)
    one_at_a_time(session, GROUPING_LOCK)  # see `merge`
    revision = next_revision(session)
    new = Story(language=story.language, day=day.isoformat(), edited_by=editor)
    session.add(new)
    session.flush()
    for member in chosen:
        member.story_id = new.id
        member.added_by = editor
        member.similarity = None
        member.revision = revision
    story.edited_by = editor
    session.flush()
    session.expire(story, ["members"])
    return new


def clean_headline(text: str | None) -> str | None:
    """An editor's headline as plain text on one line (None when empty); too long is refused."""
    if text is None:
        return None
    cleaned = " ".join(strip_xml_forbidden(text).split())
    if len(cleaned) > HEADLINE_MAX:
        raise StoryError(message("headline_too_long", limit=HEADLINE_MAX))
    return cleaned or None


def set_headline(session: Session, story_id: int, headline: str | None, editor: str) -> Story:
    """Set (or with None/empty: clear) the story's German headline."""
    story = get_story(session, story_id)
    story.headline = clean_headline(headline)
    story.edited_by = editor
    session.flush()
    return story


def reorder(session: Session, settings: Settings, day: date, story_ids: Sequence[int], editor: str) -> None:
    """Put the day's stories in the order `story_ids` (first = 1); the rest follow by coverage."""
    stories = {story.id: story for story in day_stories(session, settings, day)}
    unknown = [story_id for story_id in story_ids if story_id not in stories]
    if unknown:
        raise StoryError(message("order_unknown_stories", stories=str(unknown), day=day.isoformat()))
    for story in stories.values():
        story.position = None
    for position, story_id in enumerate(dict.fromkeys(story_ids), start=1):
        stories[story_id].position = position
        stories[story_id].edited_by = editor
    session.flush()


# The day's review ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewStory:
    """A story as the day's review shows it: its published members, best first."""

    story: Story
    members: list[Translation]
    # Machine summaries by translation ID: (summary, model).
    summaries: dict[int, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def outlets(self) -> int:
        return len({(t.article.outlet or t.article.source_id or t.article_id) for t in self.members})

    @property
    def best(self) -> Translation:
        return self.members[0]

    @property
    def headline(self) -> str:
        """The editor's headline, else the best report's German title (stored titles may hold
        escaped markup: read as plain text)."""
        return self.story.headline or _plain(self.best.title) or _plain(self.best.article.title) or "Ohne Titel"

    @property
    def span(self) -> tuple[datetime, datetime]:
        times = [article_time(t) for t in self.members]
        return min(times), max(times)


def _plain(value: str | None) -> str:
    return html_to_text(sanitize_inline_html(value)) if value else ""


def _text_length(translation: Translation) -> int:
    return sum(len(p.get("html", "")) for p in translation.paragraphs or [])


def day_stories(session: Session, settings: Settings, day: date) -> Sequence[Story]:
    return session.scalars(
        select(Story)
        .where(Story.language == settings.target_language, Story.day == day.isoformat())
        .options(
            selectinload(Story.members)
            .selectinload(StoryArticle.translation)
            .options(
                selectinload(Translation.article).selectinload(Article.source), selectinload(Translation.publication)
            )
        )
        .order_by(Story.id)
    ).all()


def review(session: Session, settings: Settings, day: date) -> list[ReviewStory]:
    """The day's stories with published articles: the editor's order first, then most outlets, most
    articles, earliest. In each story the fullest report comes first (its title is the headline)."""
    found = []
    for story in day_stories(session, settings, day):
        members = [
            m.translation
            for m in story.members
            if m.translation.publication is not None and m.translation.publication.status == PublicationStatus.PUBLISHED
        ]
        if members:
            members.sort(key=lambda t: (-_text_length(t), article_time(t), t.id))
            summaries = {m.translation_id: (m.summary, m.summary_model) for m in story.members if m.summary}
            found.append(ReviewStory(story, members, summaries))

    def order(item: ReviewStory) -> tuple[int, int, int, int, datetime, int]:
        position = item.story.position
        return (
            position is None,
            position or 0,
            -item.outlets,
            -len(item.members),
            item.span[0],
            item.story.id,
        )

    return sorted(found, key=order)


# Release -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewState:
    day: date
    public: bool
    # released | withdrawn | scheduled (auto, before the hour) | auto (auto, public) | waiting (review policy)
    state: str
    public_from: datetime | None


def review_state(session: Session, settings: Settings, day: date, now: datetime | None = None) -> ReviewState:
    decision = session.scalars(
        select(PressReview).where(PressReview.language == settings.target_language, PressReview.day == day.isoformat())
    ).one_or_none()
    return _state(settings, day, decision, now or datetime.now(UTC))


def _state(settings: Settings, day: date, decision: PressReview | None, now: datetime) -> ReviewState:
    if decision is not None and decision.status == "released":
        return ReviewState(day, True, "released", decision.released_at)
    if decision is not None:
        return ReviewState(day, False, "withdrawn", None)
    if settings.press_review_policy == "review":
        return ReviewState(day, False, "waiting", None)
    start = datetime.combine(day, time(settings.press_review_hour), tzinfo=ZoneInfo(settings.timezone))
    return ReviewState(day, now >= start, "auto" if now >= start else "scheduled", start)


def _decide(session: Session, settings: Settings, day: date, status: str, editor: str) -> PressReview:
    decision = session.scalars(
        select(PressReview).where(PressReview.language == settings.target_language, PressReview.day == day.isoformat())
    ).one_or_none()
    if decision is None:
        decision = PressReview(language=settings.target_language, day=day.isoformat())
        session.add(decision)
    decision.status = status
    decision.decided_by = editor
    decision.released_at = utcnow() if status == "released" else None
    session.flush()
    return decision


def release(session: Session, settings: Settings, day: date, editor: str) -> PressReview:
    """Make the day's review public now (whatever the policy)."""
    if not review(session, settings, day):
        raise StoryError(message("release_no_stories", day=day.isoformat()))
    return _decide(session, settings, day, "released", editor)


def withdraw(session: Session, settings: Settings, day: date, editor: str) -> PressReview:
    """Take the day's review off the site (also under policy `auto`) until it is released again."""
    return _decide(session, settings, day, "withdrawn", editor)


def story_days(session: Session, settings: Settings) -> list[date]:
    """Every day with a story that has a published article, newest first."""
    days = session.scalars(
        select(Story.day)
        .join(StoryArticle, StoryArticle.story_id == Story.id)
        .join(Publication, Publication.translation_id == StoryArticle.translation_id)
        .where(Story.language == settings.target_language, Publication.status == PublicationStatus.PUBLISHED)
        .distinct()
    ).all()
    return sorted((date.fromisoformat(day) for day in days), reverse=True)


def public_days(session: Session, settings: Settings, now: datetime | None = None) -> list[date]:
    """The days whose review is public, newest first."""
    now = now or datetime.now(UTC)
    decisions = {
        d.day: d for d in session.scalars(select(PressReview).where(PressReview.language == settings.target_language))
    }
    return [
        day
        for day in story_days(session, settings)
        if _state(settings, day, decisions.get(day.isoformat()), now).public
    ]
