from __future__ import annotations

from pathlib import Path

import pytest

from presseschau.app import AppContext
from presseschau.publish.search import search, stems
from tests.publish.factories import make_article


def test_german_stems() -> None:
    assert stems("Wahlen") == stems("Wahl")
    assert stems("Häuser Häusern") == [stems("Häuser")[0]] * 2
    assert stems("Größe")[0].startswith("gross")
    # The genitive of names and countries that Snowball leaves alone.
    for genitive, name in [("Chinas", "China"), ("Kiews", "Kiew"), ("Lukaschenkos", "Lukaschenko")]:
        assert stems(genitive) == stems(name), genitive
    assert stems("Prozess") != stems("Proze") and stems("Haus") == ["haus"]


def test_c_stemmer_in_use_and_same_stems_as_pure_python() -> None:
    # Indexing stems every published word: the pure-Python Snowball costs ~20 µs a word, the C
    # build (PyStemmer) ~0.1 µs. Both must give the same stems, or an index built with one would
    # not answer queries stemmed with the other.
    import Stemmer
    from snowballstemmer.german_stemmer import GermanStemmer

    from presseschau.publish.search import _stemmer, words

    assert isinstance(_stemmer(), Stemmer.Stemmer)
    samples = Path(__file__).resolve().parents[2] / "presseschau" / "demo" / "samples"
    vocabulary = sorted({w for page in samples.glob("*.de.html") for w in words(page.read_text(encoding="utf-8"))})
    assert len(vocabulary) > 1000
    pure_python = GermanStemmer()
    assert [_stemmer().stemWord(w) for w in vocabulary] == [pure_python.stemWord(w) for w in vocabulary]


def test_sqlite_search_finds_names_in_the_genitive(context: AppContext) -> None:
    _genitive_behaviour(context)


@pytest.mark.postgres
def test_postgresql_search_finds_names_in_the_genitive(postgres_context: AppContext) -> None:
    _genitive_behaviour(postgres_context)


def _genitive_behaviour(context: AppContext) -> None:
    with context.database.session() as session:
        made = make_article(
            session, context.settings, title_de="Lukaschenkos Angebot", body_de=["Chinas Rolle und Kiews Antwort."]
        )
        for query in ("Lukaschenko", "China", "Kiew", "Lukaschenkos", "Chinas Kiews"):
            assert [hit.publication_id for hit in search(session, query, "de")] == [made.publication_id], query


def _fill(context: AppContext) -> dict[str, int]:
    ids = {}
    with context.database.session() as session:
        for key, title, body in [
            ("wahl", "Senegal vor der Wahl", ["Die Wahlen wurden verschoben, die Opposition protestiert."]),
            ("haus", "Hilfe geht an ein gespaltenes Haus", ["Das Repräsentantenhaus streitet über die Ukraine."]),
            ("kiew", "Der Marsch auf Kiew", ["Russlands Truppen marschierten in Richtung Kiew."]),
        ]:
            made = make_article(session, context.settings, title_de=title, body_de=body)
            assert made.publication_id is not None
            ids[key] = made.publication_id
    return ids


def _search_behaviour(context: AppContext) -> None:
    ids = _fill(context)
    with context.database.session() as session:

        def found(query: str) -> list[int]:
            return [hit.publication_id for hit in search(session, query, "de")]

        assert found("Wahl") == [ids["wahl"]]  # finds "Wahlen" in the body too
        assert found("wahlen opposition") == [ids["wahl"]]
        assert found("Kiew") == [ids["kiew"]]
        assert found("Kiew Wahl") == []  # every word must match
        # A word of the German body only (the English originals of all three mention Ukraine).
        assert set(found("Repräsentantenhaus")) == {ids["haus"]}
        assert found("Repräsentanten") == [ids["haus"]]  # the start of a compound
        # Query syntax in user input is just text, never an error.
        for hostile in ['"', "Kiew OR", "NEAR(a b)", "title:Kiew", "*", "a' OR 1=1 --", ""]:
            found(hostile)
        any_hits = {h.publication_id for h in search(session, "Kiew Wahl", "de", any_term=True)}
        assert any_hits == {ids["kiew"], ids["wahl"]}


def test_sqlite_fts5_search(context: AppContext) -> None:
    _search_behaviour(context)


@pytest.mark.postgres
def test_postgresql_search(postgres_context: AppContext) -> None:
    _search_behaviour(postgres_context)
