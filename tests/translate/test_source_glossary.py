"""Per-source glossary additions: parsing the editor's text, merging, and use in translation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from presseschau.app import AppContext
from presseschau.config import Settings
from presseschau.content import paragraphs_from_json
from presseschau.store.models import Translation
from presseschau.translate import engines
from presseschau.translate.engines import registry
from presseschau.translate.glossary import (
    GlossaryInputError,
    format_glossary_additions,
    glossary_for,
    parse_glossary_additions,
)
from presseschau.translate.queue import translate_article
from tests.publish.factories import make_article, make_source


def test_parse_and_format_additions() -> None:
    text = "Kyiv = Kiew\n# Kommentar\nNew York Times\tNew York Times\n\nLukashenko=Lukaschenko  # Name\nNATO"
    terms = parse_glossary_additions(text)
    assert terms == {"Kyiv": "Kiew", "New York Times": "New York Times", "Lukashenko": "Lukaschenko", "NATO": "NATO"}
    assert parse_glossary_additions(format_glossary_additions(terms)) == terms
    assert format_glossary_additions(None) == ""
    # English for the CLI (an OPML file's additions), German for the admin form.
    with pytest.raises(GlossaryInputError, match="line 2") as twice:
        parse_glossary_additions("Kyiv = Kiew\nKyiv = Kyjiw")
    assert twice.value.german.startswith("Zeile 2")
    with pytest.raises(GlossaryInputError, match="line 1: no English term") as empty:
        parse_glossary_additions(" = Kiew")
    assert empty.value.german.startswith("Zeile 1: kein englischer Begriff")


def test_additions_merge_over_the_configured_glossary(context: AppContext, tmp_path: Path) -> None:
    settings = context.settings
    assert glossary_for(settings, {}) is None
    only = glossary_for(settings, {"Kyiv": "Kiew"})
    assert only is not None and only.prepare("They marched toward Kyiv.").text == "They marched toward Kiew."
    path = tmp_path / "glossary.tsv"
    path.write_text("Kyiv\tKyjiw\nKremlin\tKreml\n", encoding="utf-8")
    settings.glossary_path = path
    merged = glossary_for(settings, {"Kyiv": "Kiew"})
    assert merged is not None
    assert merged.prepare("The Kremlin and Kyiv").text == "The Kreml and Kiew"
    # The cached configured glossary is left as it was.
    plain = glossary_for(settings)
    assert plain is not None and plain.prepare("Kyiv").text == "Kyjiw"


class _EchoEngine:
    """Returns its input: what reaches the engine (after glossary substitution) becomes the output."""

    name: str = "echo"
    model: str | None = None
    max_input_tokens: int = 400

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        return list(segments)

    def is_ready(self) -> tuple[bool, str]:
        return True, "ok"


@pytest.fixture
def echo_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Callable[[], engines.Engine]]:
        return ("echo-test",), _EchoEngine

    monkeypatch.setitem(registry._REGISTRY, "echo", engines.EngineSpec("echo", "test", factory, lambda s: (True, "")))
    yield
    engines.clear_engine_cache()


def test_pipeline_translation_uses_the_sources_additions(context: AppContext, echo_engine: None) -> None:
    with context.database.session() as session:
        source = make_source(session, "Kyiv Independent")
        source.glossary = {"Kyiv": "Kiew", "Lukashenko": "Lukaschenko"}
        other = make_source(session, "Other")
        with_terms = make_article(session, context.settings, source=source, publish=False)
        without = make_article(session, context.settings, source=other, publish=False)
    # The plain one first: its output goes to the memory, and the source's terms must still win
    # over that memory hit. (The other order would let the memory carry "Kiew" to sources without
    # the addition: memory entries are per language pair, not per source.)
    for made in (without, with_terms):
        outcome = translate_article(context.database, context.settings, made.article_id, engine_name="echo")
        assert outcome.complete, outcome.error
    with context.database.session() as session:
        first = session.get(Translation, with_terms.translation_id)
        second = session.get(Translation, without.translation_id)
        assert first is not None and second is not None
        assert (
            paragraphs_from_json(first.paragraphs)[0].text
            == "Russia's invasion of Ukraine opened with a march toward Kiew."
        )
        assert "Lukaschenko let the troops pass" in paragraphs_from_json(first.paragraphs)[1].text
        assert paragraphs_from_json(second.paragraphs)[0].text.endswith("toward Kyiv.")
