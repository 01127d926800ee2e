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
from presseschau.ingest.errors import IngestError, SourceNotFound
from presseschau.ingest.filters import FilterError, SourceFilters, build_filters, filters_from_json
from presseschau.ingest.profiles import OUTLET_KINDS, country_choices
from presseschau.store.db import Database
from presseschau.store.models import Source
from presseschau.translate.glossary import GlossaryInputError, parse_glossary_additions
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
    """The filters and tags of a source form; `ValueError` with a German message naming the field."""
    words = form_str(form, "mindestwoerter").strip() or "0"
    if form_int(form, "mindestwoerter") is None and words != "0":
        raise ValueError(f"Mindestlänge: „{words}“ ist keine Zahl.")
    try:
        filters = build_filters(
            form_str(form, "einschliessen").splitlines(),
            form_str(form, "ausschliessen").splitlines(),
            int(words),
            form_str(form, "zielsprache") or "skip",
        )
    except FilterError as error:
        raise ValueError(f"Filter: {error}") from None
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
            default_risk_threshold=settings.quality_risk_threshold,
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
    """Interval (seconds), publish policy, engine and glossary of a source form; `ValueError` in German."""
    from presseschau.translate.engines import UnknownEngine, check_engine_name

    minutes = form_int(form, "intervall")
    if minutes is None or not 1 <= minutes <= 7 * 24 * 60:
        raise ValueError("Das Abrufintervall muss zwischen 1 Minute und 7 Tagen liegen (in Minuten).")
    policy = form_str(form, "regel")
    if policy not in POLICIES:
        raise ValueError("Unbekannte Veröffentlichungsregel.")
    try:
        engine = check_engine_name(form_str(form, "engine"))
    except UnknownEngine as error:
        raise ValueError(f"Unbekannter Übersetzungsdienst {error.name!r}.") from None
    try:
        glossary = parse_glossary_additions(form_str(form, "glossar"))
    except GlossaryInputError as failure:
        raise ValueError(f"Glossar-Ergänzungen: {failure}") from failure
    return minutes * 60, policy, engine, glossary or None


def source_risk_threshold(form: FormData) -> dict[str, float | None]:
    """The source's risk threshold for `auto-unless-risky` from the form ("risiko"; empty: the site's
    default), or nothing when the form has no such field; `ValueError` in German."""
    if "risiko" not in form:
        return {}
    text = form_str(form, "risiko").strip().replace(",", ".")
    if not text:
        return {"risk_threshold": None}
    try:
        threshold = float(text)
    except ValueError:
        threshold = -1.0
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("Die Risikoschwelle ist eine Zahl von 0 bis 1.")
    return {"risk_threshold": threshold}


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
            **source_profile(form),
            **source_risk_threshold(form),
        )
    except (ValueError, IngestError) as failure:
        error = f"Quelle nicht hinzugefügt: {failure}"
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
            **source_profile(form),
            **source_risk_threshold(form),
            **({"name": name} if name else {}),
        )
    except SourceNotFound:
        return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
    except (ValueError, IngestError) as failure:
        return sources_page(
            area,
            context.database,
            context.settings,
            visitor,
            status=400,
            error=str(failure),
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
