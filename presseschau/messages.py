"""The catalogue of user-facing messages: one code per message, English for the CLI and the logs,
German for the web (admin pages, public error pages, API answers).

A message is raised or returned as a `Text`: its code and its parameters. `Text.english()` and
`Text.german()` fill the catalogue's templates (`str.format` fields named like the parameters); a
parameter that is itself a `Text` is rendered in the same language (a field name inside a sentence),
a list or tuple is joined with commas. Every code has both texts with the same placeholders: the
test `tests/test_messages.py` walks the catalogue.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Language = Literal["en", "de"]


@dataclass(frozen=True)
class Message:
    english: str
    german: str


CATALOGUE: dict[str, Message] = {
    # What a message is about, and the two joined ("source 4: the name is empty") -----------------
    "about": Message("{subject}: {reason}", "{subject}: {reason}"),
    "source": Message("source {source_id}", "Quelle {source_id}"),
    "article": Message("article {article_id}", "Artikel {article_id}"),
    "opml_line": Message("line {line} ({url})", "Zeile {line} ({url})"),
    # Articles -------------------------------------------------------------------------------------
    "article_not_found": Message("article {article_id}: no such article", "Artikel {article_id} gibt es nicht."),
    "article_not_fetched": Message(
        "article {article_id} has no paragraphs (not fetched yet?)",
        "Artikel {article_id} hat noch keinen Text (noch nicht abgerufen?).",
    ),
    "article_not_held": Message(
        "is not held by a filter (status {status})", "wird von keinem Filter zurückgehalten (Status {status})"
    ),
    "article_not_translatable": Message(
        "cannot be translated (status {status})", "kann nicht übersetzt werden (Status {status})"
    ),
    "article_is_original": Message(
        "is published as original text; there is nothing to translate",
        "ist als Originaltext veröffentlicht; es gibt nichts zu übersetzen",
    ),
    "article_in_translation": Message("is being translated right now", "wird gerade übersetzt"),
    # Publishing -----------------------------------------------------------------------------------
    "translation_missing": Message(
        "article {article_id} has no translation yet", "Artikel {article_id} hat noch keine Übersetzung."
    ),
    "translation_not_done": Message(
        "article {article_id}: translation is {status!r}; only 'done' translations can be published",
        "Artikel {article_id}: die Übersetzung ist „{status}“; nur fertige Übersetzungen lassen sich veröffentlichen.",
    ),
    "no_free_slug": Message(
        "article {article_id}: no free slug after {attempts} attempts",
        "Artikel {article_id}: nach {attempts} Versuchen kein freier Slug.",
    ),
    "not_published": Message("article {article_id} is not published", "Artikel {article_id} ist nicht veröffentlicht."),
    "no_publication": Message(
        "article {article_id} has no publication", "Artikel {article_id} hat keine Veröffentlichung."
    ),
    "slug_unclean": Message(
        "{slug!r} is not a clean slug: use lower-case letters, digits and single hyphens",
        "„{slug}“ ist kein sauberer Slug: nur Kleinbuchstaben, Ziffern und einzelne Bindestriche.",
    ),
    "slug_reserved": Message(
        "slug {slug!r} is reserved for a page of the site itself",
        "Der Slug „{slug}“ ist für eine Seite der Website reserviert.",
    ),
    "slug_taken": Message(
        "slug {slug!r} is already used by another article", "Der Slug „{slug}“ gehört schon zu einem anderen Artikel."
    ),
    # Sources: registering and changing them -------------------------------------------------------
    "source_not_found": Message("no such source", "gibt es nicht"),
    "source_exists": Message(
        "already registered as source {source_id} ({name})", "ist schon als Quelle {source_id} („{name}“) eingetragen"
    ),
    "name_empty": Message("the name is empty", "der Name ist leer"),
    "language_invalid": Message("invalid language code {code!r}", "ungültiger Sprachcode „{code}“"),
    "kind_unknown": Message(
        "unknown source kind {kind!r}; expected one of {kinds}", "unbekannte Quellenart „{kind}“; möglich: {kinds}"
    ),
    "interval_not_whole": Message(
        "poll interval {value!r}: a whole number of seconds", "Abrufintervall „{value}“: bitte ganze Sekunden angeben"
    ),
    "interval_range": Message(
        "poll interval {interval} s: must be between 60 s (polite) and 7 days",
        "Abrufintervall {interval} s: es muss zwischen 60 Sekunden und 7 Tagen liegen",
    ),
    "policy_unknown": Message(
        "unknown publish policy {policy!r}; expected auto, review or auto-unless-risky",
        "unbekannte Veröffentlichungsregel „{policy}“; möglich: auto, review, auto-unless-risky",
    ),
    "risk_threshold_invalid": Message(
        "risk threshold {value!r}: a number from 0 to 1", "Risikoschwelle „{value}“: bitte eine Zahl von 0 bis 1"
    ),
    "enabled_not_bool": Message(
        "enabled must be true or false, not {value!r}", "„aktiv“ muss ja oder nein sein, nicht „{value}“"
    ),
    "bilingual_not_bool": Message(
        "bilingual must be true or false, not {value!r}", "„zweisprachig“ muss ja oder nein sein, nicht „{value}“"
    ),
    "engine_unknown": Message(
        "unknown engine {name!r}; choose from {engines}", "Unbekannter Übersetzungsdienst „{name}“; möglich: {engines}"
    ),
    "glossary_not_mapping": Message(
        "glossary additions must map English terms to target terms",
        "Glossar-Ergänzungen müssen englischen Begriffen Zielbegriffe zuordnen",
    ),
    "glossary_invalid": Message("glossary additions: {problem}", "Glossar-Ergänzungen: {problem}"),
    "filters_not_built": Message(
        "filters must be built with presseschau.ingest.filters.build_filters",
        "Filter müssen mit presseschau.ingest.filters.build_filters gebaut werden",
    ),
    "field_not_changeable": Message(
        "{field!r} cannot be changed; changeable: {fields}", "„{field}“ lässt sich nicht ändern; änderbar: {fields}"
    ),
    "permission_too_long": Message(
        "the permission note is longer than 1000 characters", "die Notiz zur Erlaubnis ist länger als 1000 Zeichen"
    ),
    "tag_not_text": Message("tag {tag!r} is not text", "Schlagwort „{tag}“ ist kein Text"),
    "tag_comma": Message(
        "tag {tag!r}: no commas (OPML separates categories with them)",
        "Schlagwort „{tag}“: bitte ohne Komma (OPML trennt damit Kategorien)",
    ),
    "tag_too_long": Message(
        "tag {tag!r}…: longer than {limit} characters", "Schlagwort „{tag}…“: länger als {limit} Zeichen"
    ),
    "too_many_tags": Message("at most {limit} tags per source", "höchstens {limit} Schlagwörter je Quelle"),
    "country_unknown": Message(
        "unknown country {country!r}: expected an ISO 3166-1 alpha-2 code such as GB, US or DE",
        "unbekanntes Land „{country}“: bitte ein Ländercode nach ISO 3166-1 wie GB, US oder DE",
    ),
    "outlet_kind_unknown": Message(
        "unknown kind of outlet {kind!r}: expected one of {kinds}", "unbekannte Medienart „{kind}“: möglich: {kinds}"
    ),
    "reuse_mode_unknown": Message(
        "unknown reuse mode {mode!r}; expected one of {modes}", "unbekannter Nutzungsumfang „{mode}“; möglich: {modes}"
    ),
    "excerpt_not_whole": Message(
        "excerpt length {value!r} is not a whole number of words",
        "Auszugslänge „{value}“ ist keine ganze Zahl von Wörtern",
    ),
    "excerpt_range": Message(
        "excerpt length {words} is outside {low}..{high} words",
        "Auszugslänge {words} liegt nicht zwischen {low} und {high} Wörtern",
    ),
    # Addresses ------------------------------------------------------------------------------------
    "url_empty": Message("(empty)", "(leer)"),
    "url_too_long": Message("URL longer than {limit} characters", "Adresse länger als {limit} Zeichen"),
    "url_control_character": Message(
        "URL contains the control character {character}", "die Adresse enthält das Steuerzeichen {character}"
    ),
    "url_invalid": Message("not a valid URL ({problem})", "keine gültige Adresse ({problem})"),
    "url_scheme": Message(
        "scheme {scheme!r} not allowed; only http and https",
        "„{scheme}“ ist nicht erlaubt; nur Adressen mit http:// oder https://",
    ),
    "url_no_scheme": Message(
        "scheme '(none)' not allowed; only http and https",
        "die Adresse beginnt nicht mit http:// oder https://",
    ),
    "url_no_host": Message("URL has no host", "die Adresse nennt keinen Server"),
    # Filters: rules and why an article is held ----------------------------------------------------
    "rule_empty": Message("empty filter rule", "leere Filterregel"),
    "rule_too_long": Message(
        "filter rule {rule!r}…: longer than {limit} characters", "Filterregel „{rule}…“: länger als {limit} Zeichen"
    ),
    "rule_nothing_after_field": Message(
        "filter rule {rule!r}: nothing to match after {field}:",
        "Filterregel „{rule}“: nach „{field}:“ fehlt der Suchtext",
    ),
    "rule_bad_regex": Message(
        "filter rule {rule!r}: invalid regular expression ({problem})",
        "Filterregel „{rule}“: ungültiger regulärer Ausdruck ({problem})",
    ),
    "rule_matches_everything": Message(
        "filter rule {rule!r}: the regular expression matches every text",
        "Filterregel „{rule}“: der reguläre Ausdruck passt auf jeden Text",
    ),
    "too_many_rules": Message("at most {limit} filter rules per source", "höchstens {limit} Filterregeln je Quelle"),
    "min_words_not_whole": Message(
        "minimum length {value!r}: must be a whole number of words",
        "Mindestlänge „{value}“: bitte ganze Wörter angeben",
    ),
    "min_words_range": Message(
        "minimum length {words}: must be between 0 and {limit} words",
        "Mindestlänge {words}: sie muss zwischen 0 und {limit} Wörtern liegen",
    ),
    "target_action_unknown": Message(
        "target-language action {action!r}: expected skip or publish",
        "unbekannte Wahl „{action}“ für Artikel in der Zielsprache: möglich: skip, publish",
    ),
    "rules_not_list": Message(
        "{which} rules: expected a list of texts, got {type}",
        "{which}-Regeln: erwartet wird eine Liste von Texten, nicht {type}",
    ),
    "rule_not_text": Message(
        "{which} rule {rule!r}: expected text, got {type}", "{which}-Regel „{rule}“: erwartet wird Text, nicht {type}"
    ),
    "rules_include": Message("include", "Einschluss"),
    "rules_exclude": Message("exclude", "Ausschluss"),
    "held_unusable_filters": Message(
        "unusable filter setting ({problems}); held for an editor",
        "unbrauchbare Filtereinstellung ({problems}); zurückgehalten für die Redaktion",
    ),
    "held_rule_timeout": Message(
        "filter rule {rule!r} ran out of time ({rule_s} s per rule, {all_s} s for all rules of an article:"
        " a regular expression that backtracks?)",
        "Filterregel „{rule}“ brauchte zu lange ({rule_s} s je Regel, {all_s} s für alle Regeln eines Artikels:"
        " ein regulärer Ausdruck, der zurückverfolgt?)",
    ),
    "held_excluded": Message("exclude rule {rule!r} matched the {where}", "Ausschlussregel „{rule}“ traf {where}"),
    "quoted_rule": Message("{rule!r}", "„{rule}“"),
    "held_not_included": Message("no include rule matched ({rules})", "keine Einschlussregel traf ({rules})"),
    "held_too_short": Message(
        "{count} words, fewer than the minimum of {minimum}",
        "{count} Wörter, weniger als die Mindestlänge von {minimum}",
    ),
    "field_title": Message("title", "den Titel"),
    "field_body": Message("body", "den Text"),
    "field_author": Message("author", "die Autorenzeile"),
    "field_url": Message("url", "die Adresse"),
    # Glossary additions ---------------------------------------------------------------------------
    "glossary_no_source": Message(
        "line {line}: no English term before {separator!r}", "Zeile {line}: kein englischer Begriff vor „{separator}“"
    ),
    "glossary_term_too_long": Message(
        "line {line}: terms have at most {limit} characters",
        "Zeile {line}: Begriffe dürfen höchstens {limit} Zeichen haben",
    ),
    "glossary_term_twice": Message(
        "line {line}: {term!r} is listed already, with {target!r}",
        "Zeile {line}: „{term}“ steht schon mit „{target}“ in der Liste",
    ),
    "glossary_too_many": Message("at most {limit} entries per source", "Höchstens {limit} Einträge pro Quelle"),
    # Users --------------------------------------------------------------------------------------
    "password_too_short": Message(
        "password too short: at least {minimum} characters", "Das Passwort ist zu kurz: mindestens {minimum} Zeichen."
    ),
    "user_name_invalid": Message(
        "invalid user name {name!r}: 2-100 letters, digits, '_', '.', '@' or '-'",
        "Ungültiger Name „{name}“: 2–100 Buchstaben, Ziffern, „_“, „.“, „@“ oder „-“.",
    ),
    "role_unknown": Message("unknown role {role!r}: one of {roles}", "Unbekannte Rolle „{role}“ (möglich: {roles})."),
    "user_exists": Message("user {name!r} exists already", "Einen Benutzer „{name}“ gibt es schon."),
    "user_not_found": Message("no user {name!r}", "Einen Benutzer „{name}“ gibt es nicht."),
    "user_id_not_found": Message("no user {user_id}", "Den Benutzer {user_id} gibt es nicht (mehr)."),
    "last_admin": Message(
        "cannot {action} {name!r}: the last admin",
        "„{name}“ ist der letzte Administrator und kann nicht {action} werden.",
    ),
    "user_disable": Message("disable", "gesperrt"),
    "user_remove": Message("remove", "entfernt"),
    "passwords_differ": Message("passwords differ", "Die beiden Passwörter stimmen nicht überein."),
    "removal_not_confirmed": Message("not confirmed", "Bitte das Entfernen mit dem Häkchen bestätigen."),
    # Stories and the press review -----------------------------------------------------------------
    "story_not_found": Message("story {story_id} does not exist", "Die Geschichte {story_id} gibt es nicht."),
    "merge_needs_two": Message(
        "name at least one other story to merge", "Bitte mindestens eine weitere Geschichte auswählen."
    ),
    "merge_languages": Message(
        "stories of different languages cannot be merged",
        "Geschichten verschiedener Sprachen lassen sich nicht zusammenführen.",
    ),
    "headline_from_unknown": Message(
        "--headline-from {story_id}: not one of the merged stories",
        "Die Überschrift kann nur von einer der zusammengeführten Geschichten kommen ({story_id}).",
    ),
    "headlines_conflict": Message(
        "stories {stories} each have an editor's headline ({listed}); choose the one to keep (--headline-from ID)",
        "Die Geschichten {stories} haben je eine Überschrift der Redaktion ({listed}): bitte wählen, welche bleibt.",
    ),
    "split_none_chosen": Message(
        "none of {chosen} belongs to story {story_id}",
        "Keiner der gewählten Artikel ({chosen}) gehört zur Geschichte {story_id}.",
    ),
    "split_leaves_none": Message(
        "a split must leave at least one article in the story", "Mindestens ein Artikel muss in der Geschichte bleiben."
    ),
    "headline_too_long": Message(
        "headline longer than {limit} characters", "Die Überschrift ist länger als {limit} Zeichen."
    ),
    "order_unknown_stories": Message(
        "stories {stories} are not in the review of {day}",
        "Die Reihenfolge nennt Geschichten ({stories}), die nicht zum {day} gehören.",
    ),
    "release_no_stories": Message("no stories on {day}", "Am {day} gibt es keine Geschichten zum Freigeben."),
    "translation_in_no_story": Message(
        "translation {translation_id} is in no story", "Der Artikel {translation_id} gehört zu keiner Geschichte."
    ),
    "sentence_unknown": Message(
        "translation {translation_id} has sentences 1 to {count}, not {number}",
        "Der Artikel {translation_id} hat die Sätze 1 bis {count}; Satz {number} gibt es nicht.",
    ),
    "passage_empty": Message("the passage is empty", "Der eigene Text ist leer."),
    "passage_too_long": Message(
        "passage longer than {limit} characters", "Der eigene Text ist länger als {limit} Zeichen."
    ),
    "withdrawal_not_confirmed": Message(
        "withdrawal not confirmed", "Bitte bestätigen Sie das Zurückziehen mit dem Häkchen „Ja, zurückziehen“."
    ),
    "no_sentence_chosen": Message("no sentence chosen", "Bitte einen Satz wählen."),
    # Newsletter -----------------------------------------------------------------------------------
    "email_invalid": Message("{address!r} is not an e-mail address", "„{address}“ ist keine gültige E-Mail-Adresse."),
    "smtp_missing": Message("no SMTP server configured (smtp_host)", "Kein Mailserver eingerichtet (smtp_host)."),
    "newsletter_off": Message(
        "the newsletter is off (newsletter_enabled = false)", "Der Newsletter ist aus (newsletter_enabled = false)."
    ),
    "newsletter_base_url": Message(
        "base_url is not set: the mail's links would point at {base_url}; set base_url in presseschau.toml to the"
        " site's public address",
        "base_url ist nicht gesetzt: die Links im Newsletter zeigten auf {base_url}.",
    ),
    # Translation models ---------------------------------------------------------------------------
    "no_firefox_model": Message(
        "no Firefox Translations model for {source}→{target} ({reason}). Get it with"
        " `presseschau models pull {name}` on a machine with internet access, or `presseschau models import DIR`"
        " with the model's files (model.*.bin, vocab.*.spm, lex.*.s2t.bin, from Mozilla's model dashboard or the"
        " firefox-translations-models repository), or set firefox_records_url / firefox_attachments_url to a"
        " mirror; or translate from the translation memory alone with `--engine memory`.",
        "Kein Firefox-Übersetzungsmodell für {source}→{target} ({reason}). Die Administration kann es"
        " installieren („{name}“); bis dahin „gespeicherte Übersetzungen“ oder einen anderen Übersetzungsdienst"
        " wählen.",
    ),
    "no_model": Message(
        "no {source}→{target} model available ({reason}). Get one with `presseschau models pull {name}` on a machine"
        " with internet access, or `presseschau models import PATH` for a downloaded OPUS-MT release or"
        " CTranslate2 model directory; or translate from the translation memory alone with `--engine memory`.",
        "Kein Übersetzungsmodell für {source}→{target} ({reason}). Die Administration kann eines installieren"
        " („{name}“); bis dahin „gespeicherte Übersetzungen“ oder einen anderen Übersetzungsdienst wählen.",
    ),
    "no_catalog_model": Message("no catalog model", "keines im Katalog"),
    "model_not_installed": Message("{name} is not installed", "{name} ist nicht installiert"),
    "model_not_installed_no_pull": Message(
        "not installed, and model_auto_pull is off", "nicht installiert, und model_auto_pull ist aus"
    ),
    # Admin forms ----------------------------------------------------------------------------------
    "form_min_words_not_number": Message(
        "minimum length: {value!r} is not a number", "Mindestlänge: „{value}“ ist keine Zahl."
    ),
    "form_filter": Message("filter: {problem}", "Filter: {problem}"),
    "form_interval_range": Message(
        "the poll interval must be between 1 minute and 7 days (in minutes)",
        "Das Abrufintervall muss zwischen 1 Minute und 7 Tagen liegen (in Minuten).",
    ),
    "form_policy_unknown": Message("unknown publish policy", "Unbekannte Veröffentlichungsregel."),
    "form_bilingual_unknown": Message(
        "bilingual reading: unknown choice {choice!r}", "Zweisprachiges Lesen: unbekannte Wahl „{choice}“"
    ),
    # The JSON API's own refusals ----------------------------------------------------------------
    "api_token_missing": Message(
        "missing, unknown or revoked API token", "API-Token fehlt, ist unbekannt oder widerrufen"
    ),
    "api_token_read_only": Message("token {name!r} is read-only", "Token „{name}“ darf nur lesen"),
    "api_token_needs_admin": Message(
        "token {name!r} has role {role}; changing sources needs admin",
        "Token „{name}“ hat die Rolle {role}; Quellen ändern darf nur die Rolle admin",
    ),
    "api_rate_limited": Message("rate limit reached; try again later", "Anfragegrenze erreicht; bitte später erneut"),
    "form_risk_threshold": Message(
        "risk threshold: {value!r} is not a number from 0 to 1",
        "Risikoschwelle: „{value}“ ist keine Zahl von 0 bis 1.",
    ),
    "form_choice_unknown": Message("unknown choice {choice!r}", "Unbekannte Wahl „{choice}“."),
    "form_glossary": Message("glossary additions: {problem}", "Glossar-Ergänzungen: {problem}"),
    # OPML import ----------------------------------------------------------------------------------
    "opml_too_large": Message("larger than {megabytes} MB", "größer als {megabytes} MB"),
    "opml_empty": Message("the file is empty", "die Datei ist leer"),
    "opml_not_xml": Message("not well-formed XML ({problem})", "kein wohlgeformtes XML ({problem})"),
    "opml_not_opml": Message(
        "not an OPML document (the root element is <{root}>, not <opml>)",
        "kein OPML-Dokument (das Wurzelelement ist <{root}>, nicht <opml>)",
    ),
    "opml_no_body": Message("an OPML document without <body>", "ein OPML-Dokument ohne <body>"),
    "opml_too_deep": Message(
        "line {line}: outlines nested deeper than {limit} levels", "Zeile {line}: Gliederung tiefer als {limit} Ebenen"
    ),
    "opml_too_many": Message("more than {limit} outlines", "mehr als {limit} Einträge"),
    "opml_no_feeds": Message(
        "no feed outlines (<outline xmlUrl=…>) in the file", "keine Feed-Einträge (<outline xmlUrl=…>) in der Datei"
    ),
    "opml_listed_twice": Message(
        "listed twice in the file (lines {first} and {second})", "doppelt in der Datei (Zeilen {first} und {second})"
    ),
    "opml_enabled_invalid": Message(
        "enabled={value!r}, expected true or false", "enabled=„{value}“: erwartet true oder false"
    ),
    "opml_filters_not_object": Message("filters must be a JSON object", "filters muss ein JSON-Objekt sein"),
    "opml_json_too_deep": Message(
        "presseschau:{name}: JSON nested too deeply", "presseschau:{name}: JSON zu tief verschachtelt"
    ),
    "opml_json_invalid": Message(
        "presseschau:{name}: not valid JSON ({problem})", "presseschau:{name}: kein gültiges JSON ({problem})"
    ),
}


def placeholders(template: str) -> set[str]:
    """The names of a template's `{fields}`."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Text:
    """A catalogued message with its values; `english()` and `german()` render it."""

    code: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        message = CATALOGUE.get(self.code)
        if message is None:
            raise KeyError(f"message code {self.code!r} is not in presseschau.messages.CATALOGUE")
        missing = placeholders(message.english) - set(self.params)
        if missing:
            raise KeyError(f"message {self.code!r} needs {', '.join(sorted(missing))}")

    def render(self, language: Language) -> str:
        message = CATALOGUE[self.code]
        template = message.german if language == "de" else message.english
        return template.format(**{name: render_value(value, language) for name, value in self.params.items()})

    def english(self) -> str:
        return self.render("en")

    def german(self) -> str:
        return self.render("de")

    def to_json(self) -> dict[str, object]:
        """`{"code": …, "params": …}` for API answers (nested texts as their own code and params)."""
        return {"code": self.code, "params": {name: json_value(value) for name, value in self.params.items()}}


def from_json(data: object) -> Text | None:
    """The `Text` that `Text.to_json` stored; None for anything else (a code no longer catalogued, a
    mangled value): the caller shows its stored English text instead."""
    if not isinstance(data, Mapping) or not isinstance(data.get("code"), str):
        return None
    params = data.get("params") or {}
    if not isinstance(params, Mapping):
        return None
    try:
        return Text(data["code"], {str(name): _param_from_json(value) for name, value in params.items()})
    except KeyError:
        return None


def _param_from_json(value: object) -> object:
    if isinstance(value, Mapping):
        nested = from_json(value)
        if nested is None:
            raise KeyError("not a stored message")
        return nested
    if isinstance(value, list):
        return [_param_from_json(item) for item in value]
    return value


def german_or(stored: object, english: str | None) -> str | None:
    """The German text of a stored message (`Text.to_json`), else the stored English text."""
    message = from_json(stored)
    return message.german() if message is not None else english


def text(code: str, /, **params: object) -> Text:
    return Text(code, params)


def said(error: BaseException) -> Text | str:
    """What an error says, as a parameter of another message: its text when it is catalogued, else
    its (English) message."""
    return error.text if isinstance(error, CataloguedError) else str(error)


def render_value(value: object, language: Language) -> object:
    """A parameter as the template gets it: texts rendered, lists joined; other values as they are
    (so `{value!r}` shows `30` for a number and `'30'` for a text, as the English messages always did)."""
    if isinstance(value, Text):
        return value.render(language)
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(str(render_value(item, language)) for item in value)
    return value


def json_value(value: object) -> object:
    if isinstance(value, Text):
        return value.to_json()
    if isinstance(value, list | tuple | frozenset | set):
        return [json_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class CataloguedError(Exception):
    """An error a person reads: a catalogued `Text`. `str(error)` is the English text (CLI, logs),
    `error.german` the web's; `code` and `params` go into API answers."""

    def __init__(self, message: Text, field: str | None = None) -> None:
        super().__init__(message.english())
        self.text = message
        # The form field it is about (`name`, `password`, ...), for a form to show it there.
        self.field = field

    @property
    def code(self) -> str:
        return self.text.code

    @property
    def params(self) -> Mapping[str, object]:
        """The parameters as JSON values (a nested text as its own code and parameters)."""
        return {name: json_value(value) for name, value in self.text.params.items()}

    @property
    def german(self) -> str:
        return self.text.german()


class Refused(CataloguedError, ValueError):
    """A value a person typed into a form is refused (the form's own checks, before any service)."""
