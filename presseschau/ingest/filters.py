"""Per-source filters: what is held back before anything is translated (translation costs money or CPU).

A rule is `[field:]pattern`. The field is `title`, `body`, `author` or `url`; without one a rule
looks at the title and the body. The pattern is words or a phrase, matched case-insensitively as
whole words (`Ukraine` does not match `Ukrainian`; `climate change` matches across any whitespace),
or a regular expression between slashes (`/\\bsport(s)?\\b/`, case-insensitive), run by the `regex`
package with a time limit, since a user's pattern can backtrack for ages.

An article is held (`fetch_status = "filtered"`, with the rule in `filter_reason`) when an exclude
rule matches, when there are include rules and none matches, when its body has fewer words than
`min_words`, or when a rule ran out of time (an editor decides then). An editor can release it by
hand. `target_language` says what happens to an article already in the target language: `skip`
(kept, never translated: the default) or `publish` (published as is, labelled as original text).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import regex

from presseschau.content import paragraphs_from_json
from presseschau.messages import CataloguedError, Text
from presseschau.messages import text as message

FIELDS = ("title", "body", "author", "url")
DEFAULT_FIELDS = ("title", "body")
TARGET_LANGUAGE_ACTIONS = ("skip", "publish")
# Per rule and field; a well-behaved pattern needs microseconds on an article.
REGEX_TIMEOUT_S = 0.2
# All rules of a source together, per article: 100 backtracking rules at 0.2 s each took 30 s
# per article; past the budget the article is held for an editor, like a rule that timed out.
FILTER_BUDGET_S = 1.0
MAX_RULES = 100
MAX_PATTERN_LENGTH = 500
MAX_MIN_WORDS = 100_000


class FilterError(CataloguedError, ValueError):
    """A filter setting cannot be used; the message names the rule and the reason."""


@dataclass(frozen=True)
class Rule:
    text: str  # as the user wrote it (stored, shown, round-tripped)
    fields: tuple[str, ...]
    pattern: regex.Pattern[str]

    def search(self, values: Mapping[str, str], deadline: float | None = None) -> str | None:
        """The field this rule matches in (None: no match); `TimeoutError` when it ran out of time:
        its own REGEX_TIMEOUT_S, or the article's budget ending at `deadline` (`time.monotonic`)."""
        for name in self.fields:
            value = values.get(name, "")
            if not value:
                continue
            timeout = REGEX_TIMEOUT_S
            if deadline is not None:
                timeout = min(timeout, deadline - time.monotonic())
                if timeout <= 0:
                    raise TimeoutError(self.text)
            if self.pattern.search(value, timeout=timeout) is not None:
                return name
        return None


def parse_rule(text: str) -> Rule:
    """`title:Sport`, `Ukraine`, `url:/\\/sport\\//`; `FilterError` naming the rule when it is unusable."""
    written = text.strip()
    if not written:
        raise FilterError(message("rule_empty"))
    if len(written) > MAX_PATTERN_LENGTH:
        raise FilterError(message("rule_too_long", rule=written[:40], limit=MAX_PATTERN_LENGTH))
    fields: tuple[str, ...] = DEFAULT_FIELDS
    body = written
    prefix, colon, rest = written.partition(":")
    if colon and prefix.strip().lower() in FIELDS:
        fields, body = (prefix.strip().lower(),), rest.strip()
    if not body:
        raise FilterError(message("rule_nothing_after_field", rule=written, field=prefix))
    if len(body) >= 2 and body.startswith("/") and body.endswith("/"):
        try:
            pattern = regex.compile(body[1:-1], regex.IGNORECASE | regex.V0)
        except regex.error as error:
            raise FilterError(message("rule_bad_regex", rule=written, problem=str(error))) from None
        if pattern.search("", timeout=REGEX_TIMEOUT_S) is not None:
            raise FilterError(message("rule_matches_everything", rule=written))
    else:
        words = body.split()
        phrase = r"\s+".join(regex.escape(word) for word in words)
        pattern = regex.compile(rf"(?<!\w){phrase}(?!\w)", regex.IGNORECASE)
    return Rule(written, fields, pattern)


@dataclass(frozen=True)
class SourceFilters:
    include: tuple[Rule, ...] = ()
    exclude: tuple[Rule, ...] = ()
    min_words: int = 0
    target_language: str = "skip"
    errors: tuple[str, ...] = field(default=(), compare=False)

    @property
    def active(self) -> bool:
        return bool(self.include or self.exclude or self.min_words)

    def to_json(self) -> dict[str, Any] | None:
        """What `Source.filters` stores (None when nothing is set)."""
        data: dict[str, Any] = {}
        if self.include:
            data["include"] = [rule.text for rule in self.include]
        if self.exclude:
            data["exclude"] = [rule.text for rule in self.exclude]
        if self.min_words:
            data["min_words"] = self.min_words
        if self.target_language != "skip":
            data["target_language"] = self.target_language
        return data or None

    def describe(self) -> str:
        parts = [f"include {', '.join(r.text for r in self.include)}"] if self.include else []
        if self.exclude:
            parts.append(f"exclude {', '.join(r.text for r in self.exclude)}")
        if self.min_words:
            parts.append(f"at least {self.min_words} words")
        if self.target_language == "publish":
            parts.append("target language: publish as is")
        return "; ".join(parts) or "none"


def build_filters(
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    min_words: int | None = 0,
    target_language: str | None = "skip",
) -> SourceFilters:
    """Validated filters from user input (CLI, admin form, API, OPML); `FilterError` names what is wrong."""
    include_texts, exclude_texts = _rule_texts(include, "include"), _rule_texts(exclude, "exclude")
    if len(include_texts) + len(exclude_texts) > MAX_RULES:
        raise FilterError(message("too_many_rules", limit=MAX_RULES))
    include_rules = tuple(parse_rule(text) for text in include_texts)
    exclude_rules = tuple(parse_rule(text) for text in exclude_texts)
    words = min_words or 0
    if isinstance(words, bool) or not isinstance(words, int):
        raise FilterError(message("min_words_not_whole", value=words))
    if not 0 <= words <= MAX_MIN_WORDS:
        raise FilterError(message("min_words_range", words=words, limit=MAX_MIN_WORDS))
    action = target_language or "skip"
    if action not in TARGET_LANGUAGE_ACTIONS:
        raise FilterError(message("target_action_unknown", action=action))
    return SourceFilters(include_rules, exclude_rules, words, action)


def _rule_texts(rules: Iterable[object], which: str) -> list[str]:
    """The non-empty rules of one list; `FilterError` for anything that is not text (OPML, API)."""
    if isinstance(rules, str | bytes) or not isinstance(rules, Iterable):
        raise FilterError(message("rules_not_list", which=message(f"rules_{which}"), type=type(rules).__name__))
    texts = []
    for rule in rules:
        if not isinstance(rule, str):
            kind = message(f"rules_{which}")
            raise FilterError(message("rule_not_text", which=kind, rule=rule, type=type(rule).__name__))
        if rule.strip():
            texts.append(rule)
        if len(texts) > MAX_RULES:
            raise FilterError(message("too_many_rules", limit=MAX_RULES))
    return texts


def filters_from_json(data: Mapping[str, Any] | None) -> SourceFilters:
    """The filters stored on a source. Stored rules were validated on the way in; a rule that no
    longer parses (a newer `regex` refusing it) is reported in `errors` and holds every article."""
    if not data:
        return SourceFilters()
    errors: list[str] = []

    def rules(key: str) -> tuple[Rule, ...]:
        parsed = []
        for text in data.get(key) or ():
            try:
                parsed.append(parse_rule(str(text)))
            except FilterError as error:
                errors.append(str(error))
        return tuple(parsed)

    action = str(data.get("target_language") or "skip")
    return SourceFilters(
        rules("include"),
        rules("exclude"),
        int(data.get("min_words") or 0),
        action if action in TARGET_LANGUAGE_ACTIONS else "skip",
        tuple(errors),
    )


def article_values(
    title: str | None, paragraphs: list[Any], authors: Iterable[str], urls: Iterable[str | None]
) -> dict[str, str]:
    """The text of each field a rule can look at."""
    return {
        "title": title or "",
        "body": "\n".join(p.text for p in paragraphs_from_json(paragraphs)),
        "author": "; ".join(a for a in authors if a),
        "url": "\n".join(dict.fromkeys(u for u in urls if u)),
    }


def screen(filters: SourceFilters, values: Mapping[str, str]) -> str | None:
    """Why the article is held back (the rule, for `filter_reason`), or None when it may be translated."""
    reason = hold_reason(filters, values)
    return reason.english() if reason is not None else None


def hold_reason(filters: SourceFilters, values: Mapping[str, str]) -> Text | None:
    """`screen`'s reason as a catalogued message (stored as `filter_note` for the German admin)."""
    if filters.errors:
        return message("held_unusable_filters", problems="; ".join(filters.errors))

    def timed_out(rule: Rule) -> Text:
        return message("held_rule_timeout", rule=rule.text, rule_s=REGEX_TIMEOUT_S, all_s=FILTER_BUDGET_S)

    deadline = time.monotonic() + FILTER_BUDGET_S
    for rule in filters.exclude:
        try:
            where = rule.search(values, deadline)
        except TimeoutError:
            return timed_out(rule)
        if where is not None:
            return message("held_excluded", rule=rule.text, where=message(f"field_{where}"))
    if filters.include:
        for rule in filters.include:
            try:
                if rule.search(values, deadline) is not None:
                    break
            except TimeoutError:
                return timed_out(rule)
        else:
            return message(
                "held_not_included", rules=[message("quoted_rule", rule=rule.text) for rule in filters.include]
            )
    if filters.min_words:
        count = len(values.get("body", "").split())
        if count < filters.min_words:
            return message("held_too_short", count=count, minimum=filters.min_words)
    return None
