"""Sources in the admin area: list, add, change, remove (admins only).

Every write goes through `presseschau.ingest` (the functions the CLI and the JSON API use). The tools
for sources at scale (OPML, refiltering, filtered articles) are in `source_tools`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import FormData

from presseschau import reporting
from presseschau.config import Settings
from presseschau.ingest.errors import SourceNotFound
from presseschau.ingest.filters import FilterError, SourceFilters, build_filters, filters_from_json
from presseschau.ingest.profiles import OUTLET_KINDS, country_choices
from presseschau.messages import CataloguedError, Refused, text
from presseschau.store.db import Database
from presseschau.store.models import Source
from presseschau.translate.glossary import GlossaryInputError, parse_glossary_additions
from presseschau.translate.source_checks import SOURCE_CHECKS
from presseschau.web.admin.area import (
    MESSAGES,
    POLICIES,
    PREFIX,
    AdminArea,
    AdminRoute,
    Visitor,
    form_int,
    form_str,
    see_other,
)
from presseschau.web.admin.deps import Admin, Area, Form
from presseschau.web.deps import Context, CurrentSettings, Db
from presseschau.web.params import RowId

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)
TARGET_LANGUAGE_CHOICES = {
    "skip": "behalten, nicht übersetzen",
    "publish": "unverändert veröffentlichen (als Originaltext gekennzeichnet)",
}


def form_filters(form: Mapping[str, Any]) -> tuple[SourceFilters, list[str]]:
    """The filters and tags of a source form; `Refused` naming the field."""
    words = form_str(form, "mindestwoerter").strip() or "0"
    if form_int(form, "mindestwoerter") is None and words != "0":
        raise Refused(text("form_min_words_not_number", value=words))
    try:
        filters = build_filters(
            form_str(form, "einschliessen").splitlines(),
            form_str(form, "ausschliessen").splitlines(),
            int(words),
            form_str(form, "zielsprache") or "skip",
        )
    except FilterError as error:
        raise Refused(text("form_filter", problem=error.text)) from None
    tags = [tag.strip() for tag in form_str(form, "schlagworte").split(",") if tag.strip()]
    return filters, tags


def filter_template_values(source: Source) -> dict[str, Any]:
    """What the source form shows of the stored filters."""
    filters = filters_from_json(source.filters)
    return {
        "include": "\n".join(rule.text for rule in filters.include),
        "exclude": "\n".join(rule.text for rule in filters.exclude),
        "min_words": filters.min_words or "",
        "target_language": filters.target_language,
        "tags": ", ".join(str(tag) for tag in source.tags or ()),
    }


def sources_page(
    area: AdminArea,
    database: Database,
    settings: Settings,
    visitor: Visitor,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    typed: FormData | None = None,
    typed_source_id: int | None = None,
) -> Response:
    """The sources page; after a refused form, `typed` (that form's fields) fills the form again:
    the add form, or with `typed_source_id` that source's form."""
    from presseschau.translate.engines import engine_names

    typed_values = {key: form_str(typed, key) for key in typed if key != "csrf_token"} if typed else None

    with database.session() as session:
        sources = list(session.scalars(select(Source).order_by(Source.name, Source.id)))
        counts = reporting.articles_per_source(session)
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
            outlet_kinds=OUTLET_KINDS,
            country_choices=country_choices(),
            error=error,
            notice=notice,
            typed_new=typed_values if typed_source_id is None else None,
            typed_edit=typed_values if typed_source_id is not None else None,
            typed_source_id=typed_source_id,
            typed_filters=typed_filter_values,
        )


def typed_filter_values(typed: Mapping[str, str]) -> dict[str, str]:
    """The filter fields of a refused form, as typed (for `filter_fields`)."""
    return {
        "include": typed.get("einschliessen", ""),
        "exclude": typed.get("ausschliessen", ""),
        "min_words": typed.get("mindestwoerter", ""),
        "target_language": typed.get("zielsprache", "skip"),
        "tags": typed.get("schlagworte", ""),
    }


def source_settings(form: FormData) -> tuple[int, str, str | None, dict[str, str] | None]:
    """Interval (seconds), publish policy, engine and glossary of a source form; a `CataloguedError`
    (`Refused`, `UnknownEngine`) when one is unusable."""
    from presseschau.translate.engines import check_engine_name

    minutes = form_int(form, "intervall")
    if minutes is None or not 1 <= minutes <= 7 * 24 * 60:
        raise Refused(text("form_interval_range"))
    policy = form_str(form, "regel")
    if policy not in POLICIES:
        raise Refused(text("form_policy_unknown"))
    engine = check_engine_name(form_str(form, "engine"))  # UnknownEngine: a catalogued refusal
    try:
        glossary = parse_glossary_additions(form_str(form, "glossar"))
    except GlossaryInputError as failure:
        raise Refused(text("form_glossary", problem=failure.text)) from failure
    return minutes * 60, policy, engine, glossary or None


def source_profile(form: FormData) -> dict[str, str]:
    """The outlet profile fields the form sent (validated by `presseschau.ingest.sources`; an empty
    country or kind clears it, a field not sent stays as it is)."""
    fields = {"land": "country", "medienart": "outlet_kind", "sprache": "language"}
    return {name: form_str(form, key).strip() for key, name in fields.items() if key in form}


@router.get("/quellen")
def sources(request: Request, area: Area, visitor: Admin, database: Db, settings: CurrentSettings) -> Response:
    notice = MESSAGES.get(request.query_params.get("ok", ""))
    return sources_page(area, database, settings, visitor, notice=notice)


@router.post("/quellen")
def add_source(area: Area, visitor: Admin, form: Form, context: Context) -> Response:
    from presseschau.ingest.sources import add_source as ingest_add_source

    try:
        interval, policy, engine, glossary = source_settings(form)
        filters, tags = form_filters(form)
        ingest_add_source(
            context.database,
            context.settings,
            form_str(form, "url").strip(),
            name=form_str(form, "name").strip() or None,
            poll_interval_s=interval,
            publish_policy=policy,
            engine=engine,
            glossary=glossary,
            tags=tags,
            filters=filters,
            checks=SOURCE_CHECKS,
            **source_profile(form),
        )
    except CataloguedError as failure:
        error = f"Quelle nicht hinzugefügt: {failure.german}"
        return sources_page(area, context.database, context.settings, visitor, status=400, error=error, typed=form)
    return see_other(f"{PREFIX}/quellen?ok=quelle-neu")


@router.post("/quellen/{source_id}")
def update_source(area: Area, visitor: Admin, form: Form, context: Context, source_id: RowId) -> Response:
    from presseschau.ingest.sources import update_source as ingest_update_source

    try:
        interval, policy, engine, glossary = source_settings(form)
        filters, tags = form_filters(form)
        name = form_str(form, "name").strip()
        ingest_update_source(
            context.database,
            source_id,
            poll_interval_s=interval,
            publish_policy=policy,
            engine=engine,
            glossary=glossary,
            enabled=form.get("aktiv") == "1",
            tags=tags,
            filters=filters,
            checks=SOURCE_CHECKS,
            **source_profile(form),
            **({"name": name} if name else {}),
        )
    except SourceNotFound:
        return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
    except CataloguedError as failure:
        return sources_page(
            area,
            context.database,
            context.settings,
            visitor,
            status=400,
            error=failure.german,
            typed=form,
            typed_source_id=source_id,
        )
    return see_other(f"{PREFIX}/quellen?ok=quelle-gespeichert#quelle-{source_id}")


@router.post("/quellen/{source_id}/entfernen")
def remove_source(area: Area, visitor: Admin, form: Form, context: Context, source_id: RowId) -> Response:
    from presseschau.ingest.sources import remove_source as ingest_remove_source

    if form_str(form, "bestaetigt") != "1":
        # One click must not remove a source: ask first, saying what stays.
        with context.database.session() as session:
            source = session.get(Source, source_id)
            if source is None:
                return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
            articles = reporting.articles_of_source(session, source_id)
            return area.page("source_remove.html", visitor, source=source, articles=articles)
    try:
        ingest_remove_source(context.database, source_id)
    except SourceNotFound:
        return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
    return see_other(f"{PREFIX}/quellen?ok=quelle-entfernt")
