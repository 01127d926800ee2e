"""Sources in the admin area (admins only): a sortable, searchable, paged table; a page per source
with its form; add (after a preview of the feed's newest items), change, fetch now, remove.

Every write goes through `presseschau.ingest` (the functions the CLI and the JSON API use). A
refused form comes back as it was typed, with the message next to the field it is about. The
tools for sources at scale (OPML, refiltering, filtered articles) are in `source_tools`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from presseschau import reporting
from presseschau.config import Settings
from presseschau.ingest.errors import FetchError, IngestError, InvalidInput, SourceExists, SourceNotFound
from presseschau.ingest.filters import FilterError, SourceFilters, build_filters, filters_from_json
from presseschau.ingest.profiles import OUTLET_KINDS, country_choices
from presseschau.store.db import Database
from presseschau.store.models import Source
from presseschau.text import clean_text
from presseschau.translate.glossary import GlossaryInputError, format_glossary_additions, parse_glossary_additions
from presseschau.translate.names import engine_display_name
from presseschau.web.admin.area import (
    MESSAGES,
    POLICIES,
    PREFIX,
    AdminArea,
    AdminRoute,
    FieldError,
    Visitor,
    field_errors,
    form_int,
    form_str,
    see_other,
)
from presseschau.web.admin.deps import Admin, Area, Form
from presseschau.web.deps import Context, CurrentSettings, Db
from presseschau.web.params import MAX_PAGE, RowId, parse_row_id

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)
TARGET_LANGUAGE_CHOICES = {
    "skip": "behalten, nicht übersetzen",
    "publish": "unverändert veröffentlichen (als Originaltext gekennzeichnet)",
}
SOURCES_PER_PAGE = 50
# The table's columns: query value (German, as the page's other parameters) → reporting's sort key.
SORT_COLUMNS = {
    "name": ("name", "Name"),
    "art": ("kind", "Art"),
    "umfang": ("reuse", "Nutzungsumfang"),
    "abruf": ("last_polled", "Letzter Abruf"),
    "status": ("status", "Status"),
    "artikel": ("articles", "Artikel"),
    "fehler": ("failures", "Fehler"),
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
    if isinstance(failure, FieldError):
        return failure.field
    if isinstance(failure, FetchError | SourceExists):
        return "url"  # an unusable, blocked or already registered address
    if isinstance(failure, InvalidInput) and failure.field:
        return FORM_FIELDS.get(failure.field)
    return None


def form_filters(form: Mapping[str, Any]) -> tuple[SourceFilters, list[str]]:
    """The filters and tags of a source form; `FieldError` with a German message naming the field."""
    words = form_str(form, "mindestwoerter").strip() or "0"
    if form_int(form, "mindestwoerter") is None and words != "0":
        raise FieldError(f"Mindestlänge: „{words}“ ist keine Zahl.", "mindestwoerter")
    target_language = form_str(form, "zielsprache") or "skip"
    if target_language not in TARGET_LANGUAGE_CHOICES:
        raise FieldError(f"Unbekannte Wahl „{target_language}“.", "zielsprache")
    include = form_str(form, "einschliessen").splitlines()
    exclude = form_str(form, "ausschliessen").splitlines()
    # Each list of rules on its own first, so the message lands at the field with the bad rule.
    for field, rules in (("einschliessen", (include, [])), ("ausschliessen", ([], exclude))):
        try:
            build_filters(*rules)
        except FilterError as error:
            raise FieldError(f"Filter: {error}", field) from None
    try:
        filters = build_filters(include, exclude, int(words), target_language)
    except FilterError as error:
        raise FieldError(f"Filter: {error}", "") from None
    tags = [tag.strip() for tag in form_str(form, "schlagworte").split(",") if tag.strip()]
    return filters, tags


def source_settings(form: FormData) -> tuple[int, str, str | None, dict[str, str] | None]:
    """Interval (seconds), publish policy, engine and glossary of a source form; `FieldError` in German."""
    from presseschau.translate.engines import UnknownEngine, check_engine_name

    minutes = form_int(form, "intervall")
    if minutes is None or not 1 <= minutes <= 7 * 24 * 60:
        raise FieldError("Das Abrufintervall muss zwischen 1 Minute und 7 Tagen liegen (in Minuten).", "intervall")
    policy = form_str(form, "regel")
    if policy not in POLICIES:
        raise FieldError("Unbekannte Veröffentlichungsregel.", "regel")
    try:
        engine = check_engine_name(form_str(form, "engine"))
    except UnknownEngine as error:
        raise FieldError(f"Unbekannter Übersetzungsdienst {error.name!r}.", "engine") from None
    try:
        glossary = parse_glossary_additions(form_str(form, "glossar"))
    except GlossaryInputError as failure:
        raise FieldError(f"Glossar-Ergänzungen: {failure}", "glossar") from failure
    return minutes * 60, policy, engine, glossary or None


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


# The list ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListView:
    """The table's search, order and page, read from the query string (bad values: the defaults)."""

    search: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ListView:
        sort = query.get("sortierung", "name")
        page = parse_row_id(query.get("seite")) or 1
        return cls(
            # As names are stored (controls out, NFC): a NUL byte would fail PostgreSQL's LIKE.
            search=clean_text(query.get("suche", "")[:200]),
            sort=sort if sort in SORT_COLUMNS else "name",
            descending=query.get("richtung") == "ab",
            page=min(max(page, 1), MAX_PAGE),
        )

    def url(self, **changes: Any) -> str:
        """This view's address with `changes` (search, sort, descending, page)."""
        values = {**self.__dict__, **changes}
        query = {"suche": values["search"], "sortierung": values["sort"]}
        if values["descending"]:
            query["richtung"] = "ab"
        if values["page"] > 1:
            query["seite"] = str(values["page"])
        return f"{PREFIX}/quellen?" + urlencode({key: value for key, value in query.items() if value})

    def sort_url(self, column: str) -> str:
        """The header link of `column`: sorts by it; on the sorted column, reverses the order."""
        return self.url(sort=column, descending=column == self.sort and not self.descending, page=1)


def sources_page(
    area: AdminArea,
    database: Database,
    settings: Settings,
    visitor: Visitor,
    view: ListView | None = None,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    preview: Any = None,
) -> Response:
    """The table of sources and the add form (`typed`: what a refused or previewed form held)."""
    view = view or ListView()
    with database.session() as session:
        rows, total = reporting.source_overview(
            session,
            view.search,
            SORT_COLUMNS[view.sort][0],
            view.descending,
            (view.page - 1) * SOURCES_PER_PAGE,
            SOURCES_PER_PAGE,
        )
        pages = max(1, -(-total // SOURCES_PER_PAGE))
        return area.page(
            "sources.html",
            visitor,
            status=status,
            rows=rows,
            total=total,
            pages=pages,
            view=view,
            columns={key: label for key, (_, label) in SORT_COLUMNS.items()},
            new_values={**new_source_values(settings), **(typed or {})},
            errors=errors or {},
            preview=preview,
            error=error,
            notice=notice,
            **form_options(),
        )


def source_page(
    area: AdminArea,
    database: Database,
    visitor: Visitor,
    source_id: int,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Response:
    """One source: what its polls came to, its form (`typed`: a refused form as typed), its rights
    and its actions."""
    with database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
        return area.page(
            "source.html",
            visitor,
            status=status,
            source=source,
            articles=reporting.articles_of_source(session, source_id),
            # A refused form as typed; the page's other form as stored.
            values={**stored_source_values(source), **(typed or {})},
            errors=errors or {},
            error=error,
            notice=notice,
            **form_options(),
        )


@router.get("/quellen")
def sources(request: Request, area: Area, visitor: Admin, database: Db, settings: CurrentSettings) -> Response:
    notice = MESSAGES.get(request.query_params.get("ok", ""))
    view = ListView.from_query(request.query_params)
    return sources_page(area, database, settings, visitor, view, notice=notice)


@router.post("/quellen")
def add_source(area: Area, visitor: Admin, form: Form, context: Context) -> Response:
    from presseschau.ingest.sources import add_source as ingest_add_source

    try:
        interval, policy, engine, glossary = source_settings(form)
        filters, tags = form_filters(form)
        source = ingest_add_source(
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
        )
    except (ValueError, IngestError) as failure:
        return sources_page(
            area,
            context.database,
            context.settings,
            visitor,
            status=400,
            error="Quelle nicht hinzugefügt – bitte die markierten Angaben prüfen.",
            typed=typed_values(form),
            errors=field_errors(failure, refused_field(failure) or ""),
        )
    return see_other(f"{PREFIX}/quellen/{source.id}?ok=quelle-neu")


@router.post("/quellen/vorschau")
def preview_source(area: Area, visitor: Admin, form: Form, context: Context) -> Response:
    """The add form's "Vorschau": fetch and parse the address as a poll would, store nothing."""
    from presseschau.ingest.preview import preview_source as ingest_preview

    database, settings = context.database, context.settings
    typed = typed_values(form)
    try:
        found = ingest_preview(settings, form_str(form, "url").strip())
    except IngestError as failure:
        errors = {"url": f"Keine Vorschau: {failure}"}
        return sources_page(area, database, settings, visitor, status=400, typed=typed, errors=errors)
    return sources_page(area, database, settings, visitor, typed=typed, preview=found)


@router.get("/quellen/{source_id}")
def source_detail(request: Request, area: Area, visitor: Admin, database: Db, source_id: RowId) -> Response:
    return source_page(area, database, visitor, source_id, notice=MESSAGES.get(request.query_params.get("ok", "")))


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
            **({"name": name} if name else {}),
        )
    except SourceNotFound:
        return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
    except (ValueError, IngestError) as failure:
        return source_page(
            area,
            context.database,
            visitor,
            source_id,
            status=400,
            error="Nicht gespeichert – bitte die markierten Angaben prüfen.",
            typed={"aktiv": "", **typed_values(form)},  # an unticked box sends nothing
            errors=field_errors(failure, refused_field(failure) or ""),
        )
    return see_other(f"{PREFIX}/quellen/{source_id}?ok=quelle-gespeichert")


@router.post("/quellen/{source_id}/abrufen")
def fetch_now(area: Area, visitor: Admin, form: Form, context: Context, source_id: RowId) -> Response:
    """„Jetzt abrufen“: the poll `presseschau fetch --source ID` runs, its counts on the page."""
    from presseschau.ingest.polling import fetch_sources
    from presseschau.publish.service import publisher

    try:
        report = fetch_sources(
            context.database, context.settings, source_id=source_id, on_done=publisher(context.settings)
        )
    except SourceNotFound:
        return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
    notice = (
        f"Abgerufen: {report.entries_seen} Einträge gesehen; Artikel: {report.articles_new} neu, "
        f"{report.articles_updated} geändert, {report.articles_unchanged} unverändert, "
        f"{report.articles_duplicate} doppelt, {report.not_english} nicht auf Englisch, "
        f"{report.filtered} von Filtern zurückgehalten."
    )
    if report.not_modified:
        notice = "Abgerufen: der Feed ist seit dem letzten Abruf unverändert."
    error = None
    if report.failures:
        error = f"{len(report.failures)} Fehler: " + "; ".join(f"{what}: {why}" for what, why in report.failures[:10])
    return source_page(area, context.database, visitor, source_id, notice=notice, error=error)


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
