"""The source form of the admin area: reading what was typed (the settings, filters, tags and
outlet profile), which field a refusal belongs to, and the values the form shows (new, stored,
as typed). Used by the source pages and their routes (`sources`, `source_tools`, `corrections`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from presseschau.config import Settings
from presseschau.ingest.errors import FetchError, InvalidInput, SourceExists
from presseschau.ingest.filters import FilterError, SourceFilters, build_filters, filters_from_json
from presseschau.ingest.profiles import OUTLET_KINDS, country_choices
from presseschau.messages import Refused, text
from presseschau.store.models import Source
from presseschau.translate.glossary import GlossaryInputError, format_glossary_additions, parse_glossary_additions
from presseschau.translate.names import engine_display_name
from presseschau.web.admin.area import (
    POLICIES,
    form_int,
    form_str,
)

TARGET_LANGUAGE_CHOICES = {
    "skip": "behalten, nicht übersetzen",
    "publish": "unverändert veröffentlichen (als Originaltext gekennzeichnet)",
}
# A refused source field (`InvalidInput.field`, the names `presseschau.ingest.sources` validates)
# → the form field it came from.
FORM_FIELDS = {
    "name": "name",
    "language": "sprache",
    "poll_interval_s": "intervall",
    "publish_policy": "regel",
    "engine": "engine",
    "glossary": "glossar",
    "tags": "schlagworte",
    "country": "land",
    "outlet_kind": "medienart",
    "filters": "einschliessen",
    "reuse": "umfang",
    "excerpt_words": "auszug_woerter",
    "reuse_permission": "erlaubnis",
    "bilingual": "zweisprachig",
}


def refused_field(failure: Exception) -> str | None:
    """The form field a refused source value belongs to (None: the form as a whole)."""
    if isinstance(failure, Refused):
        return failure.field
    if isinstance(failure, FetchError | SourceExists):
        return "url"  # an unusable, blocked or already registered address
    if isinstance(failure, InvalidInput) and failure.field:
        return FORM_FIELDS.get(failure.field)
    return None


def form_filters(form: Mapping[str, Any]) -> tuple[SourceFilters, list[str]]:
    """The filters and tags of a source form; `Refused` naming the field."""
    words = form_str(form, "mindestwoerter").strip() or "0"
    if form_int(form, "mindestwoerter") is None and words != "0":
        raise Refused(text("form_min_words_not_number", value=words), field="mindestwoerter")
    target_language = form_str(form, "zielsprache") or "skip"
    if target_language not in TARGET_LANGUAGE_CHOICES:
        raise Refused(text("form_choice_unknown", choice=target_language), field="zielsprache")
    include = form_str(form, "einschliessen").splitlines()
    exclude = form_str(form, "ausschliessen").splitlines()
    # Each list of rules on its own first, so the message lands at the field with the bad rule.
    for field, rules in (("einschliessen", (include, [])), ("ausschliessen", ([], exclude))):
        try:
            build_filters(*rules)
        except FilterError as error:
            raise Refused(text("form_filter", problem=error.text), field=field) from None
    try:
        filters = build_filters(include, exclude, int(words), target_language)
    except FilterError as error:
        raise Refused(text("form_filter", problem=error.text), field="") from None
    tags = [tag.strip() for tag in form_str(form, "schlagworte").split(",") if tag.strip()]
    return filters, tags


def source_settings(form: FormData) -> tuple[int, str, str | None, dict[str, str] | None]:
    """Interval (seconds), publish policy, engine and glossary of a source form; `Refused` naming
    the field when one is unusable."""
    from presseschau.translate.engines import UnknownEngine, check_engine_name

    minutes = form_int(form, "intervall")
    if minutes is None or not 1 <= minutes <= 7 * 24 * 60:
        raise Refused(text("form_interval_range"), field="intervall")
    policy = form_str(form, "regel")
    if policy not in POLICIES:
        raise Refused(text("form_policy_unknown"), field="regel")
    try:
        engine = check_engine_name(form_str(form, "engine"))
    except UnknownEngine as error:
        raise Refused(error.text, field="engine") from None
    try:
        glossary = parse_glossary_additions(form_str(form, "glossar"))
    except GlossaryInputError as failure:
        raise Refused(text("form_glossary", problem=failure.text), field="glossar") from failure
    return minutes * 60, policy, engine, glossary or None


def source_risk_threshold(form: FormData) -> dict[str, float | None]:
    """The source's risk threshold for `auto-unless-risky` from the form ("risiko"; empty: the site's
    default), or nothing when the form has no such field; `Refused` naming the field."""
    if "risiko" not in form:
        return {}
    typed = form_str(form, "risiko").strip().replace(",", ".")
    if not typed:
        return {"risk_threshold": None}
    try:
        threshold = float(typed)
    except ValueError:
        threshold = -1.0
    if not 0.0 <= threshold <= 1.0:
        raise Refused(text("form_risk_threshold", value=typed), field="risiko")
    return {"risk_threshold": threshold}


def source_profile(form: FormData) -> dict[str, str]:
    """The outlet profile fields the form sent (validated by `presseschau.ingest.sources`; an empty
    country or kind clears it, a field not sent stays as it is)."""
    fields = {"land": "country", "medienart": "outlet_kind", "sprache": "language"}
    return {name: form_str(form, key).strip() for key, name in fields.items() if key in form}


# What the source form shows: every field as the text of its input --------------------------------


def new_source_values(settings: Settings) -> dict[str, str]:
    """The add form's fields before anything is typed."""
    return {
        "intervall": str(settings.default_poll_interval_s // 60),
        "regel": settings.default_publish_policy,
        "sprache": "en",
        "zielsprache": "skip",
        "aktiv": "1",
    }


def stored_source_values(source: Source) -> dict[str, str]:
    """A stored source's fields as the form shows them."""
    filters = filters_from_json(source.filters)
    return {
        "url": source.url,
        "name": source.name,
        "intervall": str(source.poll_interval_s // 60),
        "regel": source.publish_policy,
        "risiko": "" if source.risk_threshold is None else f"{source.risk_threshold:g}",
        "engine": source.engine or "",
        "glossar": format_glossary_additions(source.glossary or {}),
        "land": source.country or "",
        "medienart": source.outlet_kind or "",
        "sprache": source.language,
        "einschliessen": "\n".join(rule.text for rule in filters.include),
        "ausschliessen": "\n".join(rule.text for rule in filters.exclude),
        "mindestwoerter": str(filters.min_words or ""),
        "zielsprache": filters.target_language,
        "schlagworte": ", ".join(str(tag) for tag in source.tags or ()),
        "aktiv": "1" if source.enabled else "",
        # The rights form (`_source_rights.html`, saved by `corrections.source_rights`).
        "umfang": source.reuse or "",
        "auszug_woerter": str(source.excerpt_words or ""),
        "erlaubnis": source.reuse_permission or "",
        "zweisprachig": "" if source.bilingual is None else "1" if source.bilingual else "0",
    }


def typed_values(form: FormData) -> dict[str, str]:
    """A refused form's fields exactly as typed (the CSRF token is the page's own)."""
    return {key: form_str(form, key) for key in form if key != "csrf_token"}


def form_options() -> dict[str, Any]:
    """The choices the source form offers."""
    from presseschau.translate.engines import engine_names

    return {
        "engine_options": [(name, engine_display_name(name)) for name in engine_names()],
        "target_language_choices": TARGET_LANGUAGE_CHOICES,
        "outlet_kinds": OUTLET_KINDS,
        "country_choices": country_choices(),
    }
