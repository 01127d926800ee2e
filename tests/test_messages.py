"""The catalogue of user-facing messages (`presseschau.messages`): every code has an English and a
German text with the same placeholders, errors render in both languages, and no error a person
sees in the admin area bypasses it."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from presseschau.errors import ArticleNotFound
from presseschau.ingest.errors import InvalidInput, InvalidURL
from presseschau.ingest.filters import build_filters, hold_reason
from presseschau.ingest.urls import validate_url
from presseschau.messages import CATALOGUE, Text, from_json, german_or, placeholders, text

PACKAGE = Path(__file__).resolve().parents[1] / "presseschau"


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_message_has_both_texts_with_the_same_placeholders(code: str) -> None:
    message = CATALOGUE[code]
    assert message.english.strip() and message.german.strip()
    assert placeholders(message.english) == placeholders(message.german), code
    formatter = string.Formatter()
    for template in (message.english, message.german):
        for _, name, spec, _ in formatter.parse(template):
            # Only plain fields (and !r in English): a format spec would break on a nested text.
            assert name is None or name.isidentifier(), (code, name)
            assert not spec, (code, spec)
    assert "!r" not in message.german, f"{code}: German quotes values with „…“, not repr"
    # Filled with its placeholders' names, each text renders.
    sample = Text(code, {name: name for name in placeholders(message.english)})
    assert sample.english() and sample.german()


def test_german_texts_use_german_quotation_marks() -> None:
    for code, message in CATALOGUE.items():
        assert '"' not in message.german and "'" not in message.german, code


def test_a_text_needs_a_known_code_and_all_its_parameters() -> None:
    with pytest.raises(KeyError, match=r"not in presseschau\.messages\.CATALOGUE"):
        text("no_such_message")
    with pytest.raises(KeyError, match="needs source_id"):
        text("source")


def test_a_nested_text_is_rendered_in_the_language_of_the_sentence() -> None:
    reason = text("held_excluded", rule="title:Sport", where=text("field_title"))
    assert reason.english() == "exclude rule 'title:Sport' matched the title"
    assert reason.german() == "Ausschlussregel „title:Sport“ traf den Titel"
    stored = reason.to_json()
    assert stored == {
        "code": "held_excluded",
        "params": {"rule": "title:Sport", "where": {"code": "field_title", "params": {}}},
    }
    assert from_json(stored) == reason
    assert german_or(stored, "fallback") == reason.german()
    assert german_or({"code": "withdrawn_message", "params": {}}, "stored English") == "stored English"
    assert german_or(None, None) is None


def test_errors_carry_code_and_params_and_speak_both_languages() -> None:
    with pytest.raises(InvalidURL) as caught:
        validate_url("example.org/feed")
    error = caught.value
    assert str(error) == "example.org/feed: scheme '(none)' not allowed; only http and https"
    assert error.german == "example.org/feed: die Adresse beginnt nicht mit http:// oder https://"
    assert (error.code, error.params) == ("url_no_scheme", {"subject": "example.org/feed"})

    refused = InvalidInput(text("source", source_id=4), text("source_exists", source_id=2, name="Courier"))
    assert str(refused) == "source 4: already registered as source 2 (Courier)"
    assert refused.german == "Quelle 4: ist schon als Quelle 2 („Courier“) eingetragen"
    assert refused.params == {
        "subject": {"code": "source", "params": {"source_id": 4}},
        "source_id": 2,
        "name": "Courier",
    }

    missing = ArticleNotFound(7)
    assert (str(missing), missing.german) == ("article 7: no such article", "Artikel 7 gibt es nicht.")
    assert (missing.code, missing.params) == ("article_not_found", {"article_id": 7})


def test_a_filter_reason_is_catalogued() -> None:
    filters = build_filters(exclude=["title:Sport"], min_words=5)
    values = {"title": "Sport today", "body": "one two three four five six"}
    reason = hold_reason(filters, values)
    assert reason is not None and reason.english() == "exclude rule 'title:Sport' matched the title"
    short = hold_reason(filters, {"title": "Harbour", "body": "too short"})
    assert short is not None and short.german() == "2 Wörter, weniger als die Mindestlänge von 5"
    # The rules that did not match: quoted as each language quotes (German „…“, not English '…').
    unmatched = hold_reason(build_filters(include=["Ukraine", "Russia"]), {"title": "Harbour", "body": "ships"})
    assert unmatched is not None and unmatched.german() == "keine Einschlussregel traf („Ukraine“, „Russia“)"
    assert unmatched.english() == "no include rule matched ('Ukraine', 'Russia')"


# No error a person reads in the admin area bypasses the catalogue ---------------------------------

# What an admin handler may read of a caught error: its German text, its catalogued `text` (rendered in
# German by the sentence it goes into), the form field it is about, a prepared German response
# (`Refusal.response`), its status.
ALLOWED_ATTRIBUTES = {"german", "text", "field", "response", "status_code", "headers"}
# Helpers that place an error at its form field: they read only its `german` and `field`.
ALLOWED_CALLS = {"field_errors", "refused_field"}


def bypasses(source: str) -> list[str]:
    """Each use of a caught exception (`except … as name`) other than `name.german` (and the
    non-text attributes above) or re-raising it as the cause: `str(name)`, f"{name}", `name.reason`,
    `name.args`, passing it on to be printed."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for handler in ast.walk(tree):
        if not isinstance(handler, ast.ExceptHandler) or handler.name is None:
            continue
        for statement in handler.body:
            for node in ast.walk(statement):
                if not (isinstance(node, ast.Name) and node.id == handler.name):
                    continue
                parent = parents.get(node)
                if isinstance(parent, ast.Attribute) and parent.attr in ALLOWED_ATTRIBUTES:
                    continue
                if isinstance(parent, ast.Raise) and parent.cause is node:
                    continue
                if isinstance(parent, ast.Call) and ast.unparse(parent.func) in ALLOWED_CALLS:
                    continue
                found.append(f"line {node.lineno}: {ast.unparse(parent) if parent else handler.name}")
    return found


def test_admin_handlers_show_errors_only_in_german_through_the_catalogue() -> None:
    problems = {
        path.name: found
        for path in sorted((PACKAGE / "web" / "admin").glob("*.py"))
        if (found := bypasses(path.read_text(encoding="utf-8")))
    }
    assert problems == {}


@pytest.mark.parametrize(
    "handler",
    [
        "try:\n    pass\nexcept ValueError as error:\n    show(f'Fehler: {error}')\n",
        "try:\n    pass\nexcept ValueError as error:\n    show(str(error))\n",
        "try:\n    pass\nexcept IngestError as error:\n    show(error.reason)\n",
        "try:\n    pass\nexcept IngestError as error:\n    page(error=error)\n",
    ],
)
def test_the_bypass_check_finds_english_texts_reaching_a_page(handler: str) -> None:
    assert bypasses(handler)


def test_the_bypass_check_lets_german_texts_and_causes_pass() -> None:
    handler = (
        "try:\n    pass\nexcept IngestError as error:\n    show(error.german)\n"
        "except KeyError as error:\n    raise Refused(text('x')) from error\n"
    )
    assert bypasses(handler) == []
