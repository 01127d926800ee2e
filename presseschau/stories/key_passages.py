"""Key passages in the store: the machine's choice per story, editors' picks and own words.

The machine's passages are chosen afresh from a story's published articles whenever the review is
shown (`story_passages`; pure and deterministic, see `presseschau.stories.passages`), so a new outlet
in the story changes what is distinctive. An editor's choice is stored on the article's `StoryArticle`
and kept as it is: "sentence" (another sentence of the same article, by its number, text kept) or
"editorial" (the editor's own words, shown as the editors' and never as a quote). The machine's
choices avoid the editors' passages. A merge keeps them (they travel with the articles).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from presseschau.config import Settings
from presseschau.content import paragraphs_from_json, strip_xml_forbidden
from presseschau.messages import text as message
from presseschau.store.models import Story, StoryArticle, Translation, utcnow
from presseschau.stories.passages import (
    ArticleSentences,
    Passage,
    Sentence,
    article_sentences,
    choose_passages,
    without_bidi_controls,
)
from presseschau.stories.service import ReviewStory, StoryError, parse_day, review

EDITORIAL_MAX = 600
# Stories whose passages are kept chosen (by their articles' contents and editors' passages).
CHOSEN_CACHE = 512
_chosen: dict[tuple[object, ...], dict[int, Passage | None]] = {}


@lru_cache(maxsize=4096)
def _sentences_cached(_key: str, german: str, english: str) -> tuple[Sentence, ...]:
    return tuple(article_sentences(paragraphs_from_json(json.loads(german)), paragraphs_from_json(json.loads(english))))


def _content(translation: Translation) -> tuple[str, str, str]:
    german = json.dumps(translation.paragraphs or [], sort_keys=True)
    english = json.dumps(translation.article.paragraphs or [], sort_keys=True)
    key = hashlib.blake2b((german + "\0" + english).encode("utf-8"), digest_size=16).hexdigest()
    return key, german, english


def translation_sentences(translation: Translation) -> tuple[Sentence, ...]:
    """The German sentences of a translation (with their English originals where they align),
    numbered as editors pick them; cached by content (segmentation is the slow part)."""
    return _sentences_cached(*_content(translation))


def stored_passage(member: StoryArticle) -> Passage | None:
    """An editor's passage stored on a story member (None: the machine chooses)."""
    if member.passage_kind is None or not member.passage:
        return None
    if member.passage_kind == "editorial":
        return Passage(member.passage, "editorial")
    index = member.passage_sentence
    return Passage(member.passage, "sentence", (index,) if index is not None else ())


def passages_for(members: Sequence[Translation], stored: dict[int, StoryArticle]) -> dict[int, Passage | None]:
    """Key passages of a story's articles (in the order given, best first), by translation ID."""
    fixed = {t.id: p for t in members if t.id in stored and (p := stored_passage(stored[t.id])) is not None}
    contents = [(t.id, *_content(t)) for t in members]
    # The day's page, the story's page and three feeds show the same story: chosen once per content.
    key = (tuple((tid, digest) for tid, digest, _, _ in contents), tuple(sorted(fixed.items(), key=lambda i: i[0])))
    found = _chosen.get(key)
    if found is None:
        articles = [ArticleSentences(tid, _sentences_cached(digest, de, en)) for tid, digest, de, en in contents]
        found = _chosen[key] = choose_passages(articles, fixed)
        while len(_chosen) > CHOSEN_CACHE:
            _chosen.pop(next(iter(_chosen)))
    return dict(found)


def story_passages(item: ReviewStory) -> dict[int, Passage | None]:
    """Key passages of a story of the review, by translation ID."""
    stored = {m.translation_id: m for m in item.story.members}
    return passages_for(item.members, stored)


def current_passages(session: Session, settings: Settings, story: Story) -> dict[int, Passage | None]:
    """The key passages a story shows now (of its published articles), by translation ID."""
    for item in review(session, settings, parse_day(story.day)):
        if item.story.id == story.id:
            return story_passages(item)
    return {}


# Editors -----------------------------------------------------------------------------------------


def _touch(member: StoryArticle, editor: str) -> None:
    # The story's `updated_at` moves even when the editor is the same: the static build sees the change.
    member.story.edited_by = editor
    member.story.updated_at = utcnow()


def _member(session: Session, translation_id: int) -> StoryArticle:
    member = session.scalars(
        select(StoryArticle)
        .where(StoryArticle.translation_id == translation_id)
        .options(selectinload(StoryArticle.translation).selectinload(Translation.article))
    ).one_or_none()
    if member is None:
        raise StoryError(message("translation_in_no_story", translation_id=translation_id))
    return member


def story_of(session: Session, translation_id: int) -> int:
    """The ID of the story an article is in (`StoryError` when none)."""
    return _member(session, translation_id).story_id


def sentence_choices(session: Session, translation_id: int) -> list[Sentence]:
    """Every sentence of the article an editor may pick as its key passage."""
    return list(translation_sentences(_member(session, translation_id).translation))


def pick_sentence(session: Session, translation_id: int, number: int, editor: str) -> StoryArticle:
    """Make sentence `number` (as `sentence_choices` numbers them, from 1) the article's key passage."""
    member = _member(session, translation_id)
    sentences = translation_sentences(member.translation)
    if not 1 <= number <= len(sentences):
        raise StoryError(
            message("sentence_unknown", translation_id=translation_id, count=len(sentences), number=number)
        )
    chosen = sentences[number - 1]
    member.passage_kind, member.passage_sentence, member.passage = "sentence", chosen.index, chosen.text
    member.passage_by = editor
    _touch(member, editor)
    session.flush()
    return member


def clean_editorial(text: str) -> str:
    """An editor's own words as one line of plain text; empty or too long is refused."""
    cleaned = " ".join(without_bidi_controls(strip_xml_forbidden(text)).split())
    if not cleaned:
        raise StoryError(message("passage_empty"))
    if len(cleaned) > EDITORIAL_MAX:
        raise StoryError(message("passage_too_long", limit=EDITORIAL_MAX))
    return cleaned


def write_passage(session: Session, translation_id: int, text: str, editor: str) -> StoryArticle:
    """The editor's own words instead of a quoted passage (shown as the editors', not as a quote)."""
    member = _member(session, translation_id)
    member.passage_kind, member.passage_sentence, member.passage = "editorial", None, clean_editorial(text)
    member.passage_by = editor
    _touch(member, editor)
    session.flush()
    return member


def reset_passage(session: Session, translation_id: int, editor: str) -> StoryArticle:
    """Back to the machine's choice."""
    member = _member(session, translation_id)
    member.passage_kind = member.passage_sentence = member.passage = member.passage_by = None
    _touch(member, editor)
    session.flush()
    return member
