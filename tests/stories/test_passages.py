"""Key passages chosen per outlet: complete body sentences, central and distinct (pure functions)."""

from __future__ import annotations

from presseschau.content import Paragraph
from presseschau.stories.passages import (
    ArticleSentences,
    Passage,
    article_sentences,
    choose_passages,
    is_complete_sentence,
    key_passages_for_article,
    near_duplicates,
)


def _article(*texts: str) -> list[Paragraph]:
    return [Paragraph.from_text(text) for text in texts]


LEAD_A = "Die Bank of England hat den Leitzins am Donnerstag bei 3,5 Prozent belassen, wie erwartet worden war."
LEAD_B = "Die Bank of England hat ihren Leitzins am Donnerstag unverändert bei 3,5 Prozent belassen."
A = _article(
    LEAD_A,
    "Vier der neun Mitglieder des geldpolitischen Ausschusses stimmten für eine Senkung des Leitzinses.",
    "Die Mehrheit verwies auf hartnäckige Preissteigerungen bei Diensten, wo die Inflation bei 4,1 Prozent liegt.",
    "Weiterlesen",
)
B = _article(
    LEAD_B,
    "Vier der neun Mitglieder des geldpolitischen Ausschusses stimmten für eine Senkung des Leitzinses.",
    "Ökonomen erwarten nun, dass die Bank of England den Leitzins im Dezember auf 3,25 Prozent senkt.",
)
C = _article(
    "Der Leitzins in Großbritannien bleibt bei 3,5 Prozent, teilte die Bank of England mit.",
    "Hausbesitzer mit variablen Hypotheken müssen damit weiter mit hohen Raten für ihre Kredite rechnen.",
)


def test_sentences_are_numbered_and_aligned_with_the_original() -> None:
    english = _article("The Bank held its rate. It said so on Thursday in London.", "Second paragraph here.")
    german = _article(
        "Die Bank hielt ihren Zins am 5. November. Sie sagte das am Donnerstag in London.", "Zweiter Absatz."
    )
    found = article_sentences(german, english)
    assert [(s.index, s.paragraph, s.text) for s in found] == [
        (0, 0, "Die Bank hielt ihren Zins am 5. November."),
        (1, 0, "Sie sagte das am Donnerstag in London."),
        (2, 1, "Zweiter Absatz."),
    ]
    assert found[1].original == "It said so on Thursday in London."
    # Headings are not prose: never a passage.
    assert article_sentences([Paragraph("h2", "Eine Zwischenüberschrift, die wie ein Satz aussieht.")]) == []


def test_complete_sentence_rules() -> None:
    assert is_complete_sentence("Die Mehrheit verwies auf hartnäckige Preissteigerungen bei Dienstleistungen.")
    assert not is_complete_sentence("Weiterlesen")  # too short
    assert not is_complete_sentence("und dann verwies die Mehrheit auf hartnäckige Preissteigerungen im Land.")
    assert not is_complete_sentence("Die Mehrheit verwies auf hartnäckige Preissteigerungen bei Dienstleistungen")
    assert not is_complete_sentence("„Die Mehrheit verwies auf hartnäckige Preissteigerungen bei Dienstleistungen.")


def test_each_outlet_gets_a_distinct_body_sentence() -> None:
    articles = [ArticleSentences(key, tuple(article_sentences(text))) for key, text in ((1, A), (2, B), (3, C))]
    chosen = choose_passages(articles)
    passages = [chosen[key] for key in (1, 2, 3)]
    assert all(p is not None for p in passages)
    texts = [p.text for p in passages if p is not None]
    # Not the lead (the teaser), complete sentences of the article's own text.
    assert not any(text.startswith(("Die Bank of England hat", "Der Leitzins")) for text in texts)
    for text, source in zip(texts, (A, B, C), strict=True):
        assert text in " ".join(p.text for p in source)
        assert is_complete_sentence(text.split(". ")[0] + ("." if ". " in text else ""))
    # The sentence A and B share is quoted once at most; no two passages are near-duplicates.
    for i, left in enumerate(texts):
        for right in texts[i + 1 :]:
            assert not near_duplicates(left, right), (left, right)


def test_editors_passages_stay_and_the_machine_avoids_them() -> None:
    shared = "Vier der neun Mitglieder des geldpolitischen Ausschusses stimmten für eine Senkung des Leitzinses."
    articles = [ArticleSentences(key, tuple(article_sentences(text))) for key, text in ((1, A), (2, B))]
    fixed = {1: Passage(shared, "sentence", (1,))}
    chosen = choose_passages(articles, fixed)
    assert chosen[1] == fixed[1]
    assert chosen[2] is not None and chosen[2].text != shared
    assert "3,25 Prozent" in chosen[2].text


def test_wire_copy_gets_no_duplicate_passage() -> None:
    """Two outlets printing the same agency text: the second gets another sentence, then nothing."""
    wire = tuple(article_sentences(A[:3]))
    chosen = choose_passages([ArticleSentences(key, wire) for key in (1, 2, 3)])
    first, second = chosen[1], chosen[2]
    assert first is not None and second is not None and not near_duplicates(first.text, second.text)
    assert chosen[3] is None


def test_one_article_entry_point_for_other_callers() -> None:
    passage = key_passages_for_article(B, others=[A])
    assert passage is not None and "3,25 Prozent" in passage.text
    assert key_passages_for_article(_article("Kurz.")) is None


def test_hostile_text_stays_text() -> None:
    """Markup-like text is a sentence like any other: the passage is plain text (escaped where shown)."""
    hostile = _article(
        "Die Einleitung des Artikels ist ein ganz gewöhnlicher Satz über die Bank of England.",
        "Der Sprecher schrieb <script>alert(1)</script> in seine Erklärung und nannte den Leitzins falsch.",
    )
    passage = key_passages_for_article(hostile)
    assert passage is not None and "<script>alert(1)</script>" in passage.text
