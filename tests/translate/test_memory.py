from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.translate.engines.base import TranslationMissing
from presseschau.translate.engines.memory import MemoryEngine
from presseschau.translate.memory import MemoryFormatError, TranslationMemory


def test_lookup_store_and_origin_ranking(context: AppContext) -> None:
    memory = TranslationMemory(context.database, "en", "de")
    assert memory.store([("Hello  world.", "Hallo Welt.")], engine="ct2", model="m") == 1
    assert memory.lookup(["Hello world.", "missing"]) == {"Hello world.": "Hallo Welt."}
    memory.store([("Hello world.", "Hallo, Welt!")], origin="reviewed")
    memory.store([("Hello world.", "Machine again.")], engine="ct2")  # machine never beats reviewed
    assert memory.lookup(["Hello world."]) == {"Hello world.": "Hallo, Welt!"}
    other_pair = TranslationMemory(context.database, "en", "fr")
    assert other_pair.lookup(["Hello world."]) == {}
    assert memory.stats() == {"entries": 1, "uses": 2, "reviewed": 1}


def test_store_writes_new_entries_in_one_statement_with_their_defaults(context: AppContext) -> None:
    # A document stores hundreds of sentences: one INSERT for all new ones, not one each.
    memory = TranslationMemory(context.database, "en", "de")
    memory.store([("Kept.", "Behalten.")], origin="reviewed")
    inserts: list[int] = []

    def count_inserts(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if statement.startswith("INSERT INTO translation_memory"):
            inserts.append(len(parameters) if many else 1)

    event.listen(context.database.engine, "before_cursor_execute", count_inserts)
    try:
        pairs = [(f"Sentence {n}.", f"Satz {n}.") for n in range(50)] + [("Kept.", "Maschine.")]
        assert memory.store(pairs, engine="firefox", model="m") == 50
    finally:
        event.remove(context.database.engine, "before_cursor_execute", count_inserts)
    assert inserts == [50]
    assert memory.lookup(["Sentence 7.", "Kept."], count_use=False) == {"Sentence 7.": "Satz 7.", "Kept.": "Behalten."}
    entry = next(e for e in memory.entries() if e.source == "Sentence 7.")
    assert (entry.engine, entry.model, entry.origin, entry.uses) == ("firefox", "m", "machine", 0)
    assert entry.created_at is not None and entry.updated_at is not None
    assert memory.stats() == {"entries": 51, "uses": 0, "machine": 50, "reviewed": 1}


def test_cover_bridges_segmentation_mismatch(context: AppContext) -> None:
    memory = TranslationMemory(context.database, "en", "de")
    memory.import_pairs([("A b. C d.", "X. Y."), ("E f.", "Z."), ("A b.", "wrong")])
    assert memory.cover("A b. C d. E f.") == [("A b. C d.", "X. Y."), ("E f.", "Z.")]
    assert memory.cover("A b. nothing") is None


def test_tsv_and_tmx_round_trip(context: AppContext, tmp_path: Path) -> None:
    memory = TranslationMemory(context.database, "en", "de")
    pairs = [("Fish & chips <b>now</b>.", "Fisch & Pommes <b>jetzt</b>."), ("Kyiv", "Kiew")]
    memory.import_pairs(pairs)
    for fmt in ("tsv", "tmx"):
        path = tmp_path / f"out.{fmt}"
        assert memory.export(path, fmt) == 2
        fresh = TranslationMemory(context.database, "en", "de-x" + fmt)  # "de-xtmx" still reads xml:lang="de"
        assert fresh.import_file(path) == 2
        assert fresh.lookup(p[0] for p in pairs) == {p[0]: p[1] for p in pairs}
    tmx = (tmp_path / "out.tmx").read_text()
    assert '<tuv xml:lang="de"><seg>Fisch &amp; Pommes &lt;b&gt;jetzt&lt;/b&gt;.</seg></tuv>' in tmx
    stream = io.StringIO()
    memory.export(stream, "tsv")
    assert stream.getvalue().splitlines()[1] == "Kyiv\tKiew"


def test_tmx_import_with_region_codes(context: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "m.tmx"
    path.write_text(
        '<?xml version="1.0"?><tmx version="1.4"><header srclang="en-US"/><body>'
        '<tu><tuv xml:lang="en-US"><seg>Good <bpt i="1">&lt;b&gt;</bpt>day<ept i="1">&lt;/b&gt;</ept></seg></tuv>'
        '<tuv xml:lang="de-DE"><seg>Guten Tag</seg></tuv></tu></body></tmx>',
        encoding="utf-8",
    )
    memory = TranslationMemory(context.database, "en", "de")
    assert memory.import_file(path) == 1
    assert memory.lookup(["Good <b>day</b>"]) == {"Good <b>day</b>": "Guten Tag"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("no tab here\n")
    with pytest.raises(MemoryFormatError, match=r"bad\.tsv: line 1: expected source<TAB>target"):
        memory.import_file(bad)
    bad.write_bytes(b"One.\tEins.\n\xff\n")
    with pytest.raises(MemoryFormatError, match=r"bad\.tsv: not UTF-8 text"):
        memory.import_file(bad)
    broken = tmp_path / "broken.tmx"
    broken.write_text("<tmx><body>")
    with pytest.raises(MemoryFormatError, match=r"broken\.tmx: not valid TMX"):
        memory.import_file(broken)


def test_memory_engine_reports_misses_with_partial_results(context: AppContext) -> None:
    TranslationMemory(context.database, "en", "de").import_pairs([("One.", "Eins.")])
    engine = MemoryEngine(context.database)
    assert engine.translate_batch(["One."], "en", "de") == ["Eins."]
    with pytest.raises(TranslationMissing) as caught:
        engine.translate_batch(["One.", "Two."], "en", "de")
    assert caught.value.missing == [1]
    assert caught.value.partial == ["Eins.", None]


def test_memory_cli_import_export_stats(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "pairs.tsv"
    source.write_text("Crimea\tKrim\nThe Kremlin said.\tDer Kreml sagte.\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        app, ["--data", str(data_dir), "memory", "import", str(source), "--from", "en", "--to", "de"]
    )
    assert result.exit_code == 0, result.output
    assert "2 entries imported" in result.output
    result = runner.invoke(app, ["--data", str(data_dir), "memory", "export"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["Crimea\tKrim", "The Kremlin said.\tDer Kreml sagte."]
    out = tmp_path / "m.tmx"
    result = runner.invoke(app, ["--data", str(data_dir), "memory", "export", str(out)])
    assert result.exit_code == 0 and out.read_text().count("<tu>") == 2
    result = runner.invoke(app, ["--data", str(data_dir), "memory", "stats"])
    assert "entries 2" in result.stdout
