"""Grouping as production runs it: one article at a time, a sliding corpus, story representations,
candidate retrieval, event signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from presseschau.stories import grouping
from presseschau.stories.grouping import Group, StoryDoc, StoryIndex, assign, bcubed_scores
from presseschau.stories.vectors import TermStats, names, numbers

START = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _doc(key: str, title: str, text: str, hours: float = 0) -> StoryDoc:
    return StoryDoc(key, title, text, time=START + timedelta(hours=hours))


def one_at_a_time(docs: list[StoryDoc], stats: TermStats, threshold: float = grouping.DEFAULT_THRESHOLD) -> list[Group]:
    """What group_pending does after each publication: the new article alone, the stories so far."""
    stories: list[Group] = []
    for doc in docs:
        result = assign([doc], stories, threshold=threshold, stats=stats)
        stories = [Group(i if g.key is None else g.key, g.members, g.scores) for i, g in enumerate(result)]
    return stories


# Background news: the sliding corpus a newsroom has, so common words weigh little.
BACKGROUND = [
    _doc(f"bg{i}", title, text, -48 + i)
    for i, (title, text) in enumerate(
        [
            ("Parliament debates budget", "Ministers said the government would present the budget on Tuesday."),
            ("Storm closes schools", "Police said roads were closed and officials urged people to stay home."),
            ("Central bank holds rates", "The bank said inflation was falling; officials expect growth next year."),
            ("Train drivers strike", "The union said the strike would hit services; the government urged talks."),
            ("Election campaign begins", "Candidates said they would visit every region; police expect crowds."),
            ("Hospital waiting lists grow", "Officials said patients waited longer; the minister promised money."),
        ]
    )
]

# One breaking story told from many angles: the attack, the victims, the suspect, the raid, the vigil.
ATTACK = [
    _doc(
        "attack",
        "Gunmen kill 14 at Lyon concert hall",
        "Gunmen opened fire at the Salle Rameau concert hall in Lyon on Friday night, killing 14 people. "
        "Prosecutor Claire Dubois said three attackers were involved in the Lyon shooting.",
    ),
    _doc(
        "victims",
        "Lyon shooting: the victims of the Salle Rameau",
        "Among the 14 killed at the Salle Rameau in Lyon were a teacher, two students and a nurse. "
        "Families gathered at the hospital as the names of the victims of the shooting were released.",
        3,
    ),
    _doc(
        "suspect",
        "Who is Karim Benali, the Lyon attack suspect",
        "Karim Benali, 29, named by prosecutor Claire Dubois as one of the Salle Rameau attackers, "
        "grew up in Lyon and was known to police. Investigators searched his flat after the shooting.",
        9,
    ),
    _doc(
        "raid",
        "Police raid flat linked to Lyon concert hall attack",
        "Police raided a flat in Villeurbanne near Lyon linked to Karim Benali, suspect in the "
        "Salle Rameau shooting, and detained two men, prosecutor Claire Dubois said.",
        20,
    ),
    _doc(
        "vigil",
        "Thousands hold vigil in Lyon for shooting victims",
        "Thousands gathered in Lyon on Sunday to mourn the 14 victims of the Salle Rameau shooting, "
        "lighting candles outside the concert hall.",
        40,
    ),
]


def test_a_breaking_story_with_many_angles_stays_one_story_one_article_at_a_time() -> None:
    stats = TermStats()
    for doc in BACKGROUND:
        grouping.count(doc, stats)
    stories = one_at_a_time(ATTACK, stats)
    assert [sorted(m.key for m in g.members) for g in stories] == [sorted(d.key for d in ATTACK)]


def test_same_kind_different_event_stays_apart_with_one_timestamp() -> None:
    # Two earthquakes: the same words for the kind, other places, people and figures.
    quakes = [
        _doc(
            "a1",
            "Earthquake kills 12 in eastern Turkey",
            "A magnitude 6.1 earthquake struck Malatya province in eastern Turkey on Monday. "
            "AFAD, Turkey's disaster agency, said 12 people died and 140 were injured in Malatya.",
        ),
        _doc(
            "a2",
            "Malatya quake: rescuers search rubble in Turkey",
            "Rescuers in Malatya searched the rubble of collapsed houses after the 6.1 quake, AFAD said. "
            "Turkey's interior minister said 12 people had died in the province.",
        ),
        _doc(
            "b1",
            "Earthquake hits Peru's Arequipa region",
            "A magnitude 7.2 earthquake shook the Arequipa region of southern Peru on Monday. "
            "Indeci, Peru's civil defence institute, said three people died in Arequipa.",
        ),
        _doc(
            "b2",
            "Arequipa quake damages churches in Peru",
            "The 7.2 quake damaged colonial churches across Arequipa, Indeci reported. "
            "Peru's president flew to Arequipa to see the damage.",
        ),
    ]
    stats = TermStats()
    for doc in BACKGROUND:
        grouping.count(doc, stats)
    stories = one_at_a_time(quakes, stats)
    assert sorted(sorted(m.key for m in g.members) for g in stories) == [["a1", "a2"], ["b1", "b2"]]


def test_a_story_is_represented_by_its_centroid_and_best_member() -> None:
    stats = TermStats()
    for doc in [*BACKGROUND, *ATTACK]:
        grouping.count(doc, stats)
    index = StoryIndex(stats)
    number = index.add_group(Group(1, ATTACK[:4]))
    query = grouping.vector(ATTACK[4], stats)
    members = [grouping.vector(m, stats) for m in ATTACK[:4]]
    mean = sum(grouping.cosine(query, m) for m in members) / len(members)
    best = max(grouping.cosine(query, m) for m in members)
    found = index.stories[number].signals(grouping.Query.of(ATTACK[4], query), grouping.DEFAULT_WINDOW)
    signals = dict(zip(grouping.SIGNALS, found, strict=True))
    # The centroid stays closer than the mean member (which sinks as a varied story grows).
    assert signals["centroid"] > mean
    assert signals["best_member"] == pytest.approx(best)
    assert 0.0 < index.stories[number].score(query) < 1.0


def test_candidates_come_from_shared_telling_terms_only() -> None:
    stats = TermStats()
    index = StoryIndex(stats)
    for i in range(200):
        index.place(_doc(f"d{i}", f"Topic{i} news", f"Word{i}a word{i}b word{i}c."), 0.3, timedelta(days=999))
    query = grouping.vector(_doc("q", "Topic7", "Word7a word7b again."), stats)
    assert index.candidates(query) == {7}
    assert index.candidates(grouping.vector(_doc("n", "Nothing", "Unrelated zebra."), stats)) == set()


def test_sliding_corpus_counts_incrementally_and_forgets_the_oldest() -> None:
    stats = TermStats(capacity=2)
    assert stats.add("a", ["x", "y"]) and not stats.add("a", ["x", "y", "z"])  # counted once
    stats.add("b", ["x"])
    assert stats.df["x"] == 2 and stats.df["y"] == 1 and len(stats) == 2
    assert stats.idf("y") > stats.idf("x")
    stats.add("c", ["z"])  # "a" leaves the corpus
    assert "a" not in stats and stats.df["x"] == 1 and "y" not in stats.df and stats.df["z"] == 1
    with pytest.raises(ValueError, match="capacity"):
        TermStats(capacity=0)


def test_assign_feeds_the_modules_sliding_corpus_by_default() -> None:
    doc = _doc("fresh", "Unusualword headline", "Unusualword text about Zyxland.")
    before = len(grouping.RECENT_TERMS)
    assign([doc])
    assert len(grouping.RECENT_TERMS) == min(before + 1, grouping.RECENT_TERMS.capacity)
    assign([doc])  # the same article again is not counted twice
    assert len(grouping.RECENT_TERMS) == min(before + 1, grouping.RECENT_TERMS.capacity)


def test_names_and_numbers_are_event_signals() -> None:
    text = "On Friday the Salle Rameau in Lyon closed. Prosecutor Claire Dubois counted 4,200 people and 6.1 km."
    # Not "On", "Friday" or "Prosecutor"; a final s goes (possessives: "Dubois" and "Dubois'" meet).
    assert names(text) == ["salle", "rameau", "lyon", "claire", "duboi"]
    assert numbers(text) == ["4200", "6.1"]
    assert numbers("He was 1 of 3") == []  # lone digits say nothing


def test_bcubed_scores() -> None:
    precision, recall, f1 = bcubed_scores([["a", "b", "c"], ["d"]], [["a", "b"], ["c", "d"]])
    assert precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    assert recall == pytest.approx((1 + 1 + 1 / 2 + 1 / 2) / 4)
    assert f1 == pytest.approx(2 * precision * recall / (precision + recall))
    assert bcubed_scores([["a"]], [["a"]]) == (1.0, 1.0, 1.0)
