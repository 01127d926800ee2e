"""Event signals that tell two events of one kind apart, the index kept across `assign` calls (its
cost in counted work, not time) and hostile texts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from presseschau.stories import grouping
from presseschau.stories.grouping import SIGNALS, Group, StoryDoc, assign
from presseschau.stories.vectors import TermStats, tfidf

SAME_TIME = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _doc(key: str, title: str, text: str) -> StoryDoc:
    return StoryDoc(key, title, text, time=SAME_TIME)


# Unrelated news, so that common words weigh little.
BACKGROUND = [
    _doc(f"bg{i}", title, text)
    for i, (title, text) in enumerate(
        [
            ("Parliament debates budget", "Ministers said the government would present the budget on Tuesday."),
            ("Storm closes schools", "Police said roads were closed and officials urged people to stay home."),
            ("Central bank holds rates", "The bank said inflation was falling; officials expect growth next year."),
            ("Train drivers strike", "The union said the strike would hit services; the government urged talks."),
            ("Hospital waiting lists grow", "Officials said patients waited longer; the minister promised money."),
            ("Museum reopens", "The museum in Bergen reopened after repairs, its director Ola Berg said."),
        ]
    )
]

# Two events of one kind, every article at one time: only who, where and how many tell them apart.
QUAKES = [
    _doc(
        "peru-1",
        "Earthquake of magnitude 7.2 hits Arequipa in Peru",
        "A magnitude 7.2 earthquake shook the Arequipa region of southern Peru, killing 3 people. "
        "Indeci, Peru's civil defence institute, said buildings collapsed in Arequipa and Camana.",
    ),
    _doc(
        "chile-1",
        "Earthquake of magnitude 6.1 hits Valparaiso in Chile",
        "A magnitude 6.1 earthquake shook the Valparaiso region of central Chile, killing 2 people. "
        "Onemi, Chile's emergency office, said buildings collapsed in Valparaiso and Quilpue.",
    ),
    _doc(
        "peru-2",
        "Arequipa earthquake: 7.2 quake damages churches in Peru",
        "The 7.2 earthquake damaged colonial churches across Arequipa, Indeci reported; 3 people died. "
        "Peru's president flew to Arequipa and Camana to see the collapsed buildings.",
    ),
    _doc(
        "chile-2",
        "Valparaiso earthquake: 6.1 quake damages port in Chile",
        "The 6.1 earthquake damaged the port of Valparaiso, Onemi reported; 2 people died. "
        "Chile's president flew to Valparaiso and Quilpue to see the collapsed buildings.",
    ),
]


def _one_at_a_time(docs: list[StoryDoc], stats: TermStats) -> list[Group]:
    stories: list[Group] = []
    for doc in docs:
        result = assign([doc], stories, stats=stats)
        stories = [Group(i if g.key is None else g.key, g.members, g.scores) for i, g in enumerate(result)]
    return stories


def _corpus() -> TermStats:
    stats = TermStats()
    for doc in BACKGROUND:
        grouping.count(doc, stats)
    return stats


def test_two_earthquakes_at_one_time_stay_two_stories() -> None:
    stories = _one_at_a_time(QUAKES, _corpus())
    assert sorted(sorted(m.key for m in g.members) for g in stories) == [["chile-1", "chile-2"], ["peru-1", "peru-2"]]


def test_names_and_figures_weigh_in_the_score() -> None:
    stats = _corpus()
    for doc in QUAKES:
        grouping.count(doc, stats)
    index = grouping.StoryIndex(stats)
    peru = index.stories[index.add_group(Group(1, [QUAKES[0]]))]
    chile = index.stories[index.add_group(Group(2, [QUAKES[1]]))]
    query = grouping.Query.of(QUAKES[2], grouping.vector(QUAKES[2], stats))
    own = dict(zip(SIGNALS, peru.signals(query, grouping.DEFAULT_WINDOW), strict=True))
    other = dict(zip(SIGNALS, chile.signals(query, grouping.DEFAULT_WINDOW), strict=True))
    assert own["names"] > other["names"] and own["lead_names"] > other["lead_names"]
    assert own["figures_shared"] == 1.0 and other["figures_shared"] < 0.5
    assert grouping.combine(peru.signals(query, grouping.DEFAULT_WINDOW)) > grouping.combine(
        chile.signals(query, grouping.DEFAULT_WINDOW)
    )


# Two arrests of one kind, of one team, at one time: only who was arrested tells them apart.
ARRESTS = [
    _doc(
        "jackson-1",
        "Chargers receiver Jackson arrested on suspicion of drunk driving",
        "San Diego Chargers receiver Vincent Jackson was arrested on suspicion of drunk driving, the "
        "California Highway Patrol said. Jackson failed sobriety tests after officers stopped his car "
        "on a freeway in San Diego. Jackson was on probation for an earlier arrest. The Chargers said "
        "they would not discipline Jackson before the game.",
    ),
    _doc(
        "williams-1",
        "Chargers tackle Williams arrested on suspicion of drunk driving",
        "San Diego Chargers defensive tackle Jamal Williams was arrested on suspicion of drunk driving, "
        "the California Highway Patrol said. Williams was stopped for speeding on a freeway in San Diego "
        "and gave a blood sample. Williams was booked into jail. The Chargers said they would not "
        "discipline Williams before the game.",
    ),
    _doc(
        "jackson-2",
        "Chargers will not discipline Jackson after drunk driving arrest",
        "The San Diego Chargers will not discipline receiver Vincent Jackson after his arrest on suspicion "
        "of drunk driving, the team said. The California Highway Patrol stopped Jackson on a freeway in "
        "San Diego; Jackson was on probation.",
    ),
]


def test_a_report_about_someone_else_does_not_join(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sorted(sorted(m.key for m in g.members) for g in _one_at_a_time(ARRESTS, _corpus())) == [
        ["jackson-1", "jackson-2"],
        ["williams-1"],
    ]
    # The words alone would have joined them: the veto on the most named people is what tells them apart.
    monkeypatch.setattr(grouping._Story, "apart", lambda self, query: False)
    assert len(_one_at_a_time(ARRESTS, _corpus())) == 1


def test_apart_needs_both_most_named_missing() -> None:
    stats = _corpus()
    for doc in ARRESTS:
        grouping.count(doc, stats)
    index = grouping.StoryIndex(stats)
    jackson = index.stories[index.add_group(Group(1, [ARRESTS[0]]))]

    def query(doc: StoryDoc) -> grouping.Query:
        return grouping.Query.of(doc, grouping.vector(doc, stats))

    assert jackson.apart(query(ARRESTS[1]))
    assert not jackson.apart(query(ARRESTS[2]))
    # Mentioning the story's most named person is enough to be compared (an angle, a follow-up).
    follow_up = _doc("williams-2", ARRESTS[1].title, ARRESTS[1].text + " Teammate Jackson was arrested in October.")
    assert not jackson.apart(query(follow_up))
    assert not jackson.apart(query(_doc("none", "", "no names here at all")))


def test_the_weights_are_a_complete_table() -> None:
    assert set(grouping.SIGNAL_WEIGHTS) == set(SIGNALS)
    assert 0.0 < grouping.combine([0.5] * len(SIGNALS)) < 1.0
    # Further apart in time, less likely one event.
    assert grouping.SIGNAL_WEIGHTS["time_apart"] < 0


def _topic(number: int) -> StoryDoc:
    return _doc(
        f"t{number}",
        f"Zorblat{number} council votes on harbour",
        f"The Zorblat{number} council voted on the harbour plan of mayor Quenby{number}; "
        f"Vexmoor{number} residents protested.",
    )


def _window(stories: int) -> list[Group]:
    return [Group(number, [_topic(number)]) for number in range(stories)]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How many stories are scored and how many built (the work that grows with a window)."""
    counts = {"scored": 0, "built": 0}
    signals, of = grouping._Story.signals, grouping._Story.of.__func__  # type: ignore[attr-defined]

    def counting_signals(self: grouping._Story, query: grouping.Query, window: timedelta) -> tuple[float, ...]:
        counts["scored"] += 1
        return signals(self, query, window)

    def counting_of(cls: type[grouping._Story], members: list[StoryDoc], stats: TermStats) -> grouping._Story:
        counts["built"] += len(members)
        story: grouping._Story = of(cls, members, stats)
        return story

    monkeypatch.setattr(grouping._Story, "signals", counting_signals)
    monkeypatch.setattr(grouping._Story, "of", classmethod(counting_of))
    yield counts


@pytest.mark.parametrize("stories", [100, 1000])
def test_an_assign_call_scores_and_builds_as_much_with_ten_times_the_stories(
    stories: int, counted: dict[str, int]
) -> None:
    stats = TermStats()
    window = _window(stories)
    assign([_topic(10_000)], window, stats=stats)  # the first call builds the window once
    assert counted["built"] >= stories
    counted["scored"] = counted["built"] = 0
    for probe in (7, 42, 99):
        query = _doc(f"q{probe}", f"Zorblat{probe} council", f"The Zorblat{probe} harbour plan of Quenby{probe}.")
        result = assign([query], window, stats=stats)
        joined = [g for g in result if any(m.key == query.key for m in g.members)]
        assert [g.key for g in joined] == [probe]
        window = [g if g.key is not None else Group(len(window), g.members) for g in result]
    # The same counts for 100 and for 1,000 stories: only candidates are scored, nothing rebuilt but
    # the joined story.
    assert counted["scored"] <= 3 * grouping.MAX_CANDIDATES
    assert counted["built"] <= 3 * 2


def test_groups_without_keys_given_again_are_not_built_again(counted: dict[str, int]) -> None:
    stats = TermStats()
    for number in range(700):  # a corpus the 60 new articles grow by less than `REWEIGH_GROWTH`
        grouping.count(_doc(f"bg{number}", f"Filler{number}", f"Background{number} words."), stats)
    groups: list[Group] = []
    for number in range(60):
        groups = assign([_topic(number % 30)], groups, stats=stats)  # the caller's own groups, keyless
    assert all(g.key is None for g in groups)
    assert sorted(len(g.members) for g in groups) == [2] * 30
    # Each article weighed into a story once when it joined: no rebuild of the given groups per call.
    assert counted["built"] <= 60


def test_a_story_whose_members_changed_is_compared_by_its_new_members() -> None:
    stats = TermStats()
    first = Group(1, [_topic(1)])
    assign([_topic(500)], [first], stats=stats)
    # An editor moved the article out and another in: same key, same count, other members.
    moved = Group(1, [_topic(2)])
    query = _doc("q", "Zorblat2 council", "The Zorblat2 harbour plan of Quenby2, Vexmoor2 residents.")
    result = assign([query], [moved], stats=stats)
    assert [m.key for m in result[0].members] == ["t2", "q"]
    assert moved.members == [_topic(2)]  # the caller's group is not changed


HOSTILE = [
    _doc("empty", "", ""),
    _doc("digits", "2024 2025 2026", "1 2 3 4,200 6.1 99999999999999999999999999 1e308 NaN inf"),
    _doc("npr", "NPR Search : NPR", "NPR Search : NPR"),
    _doc("rtl", "\u202eevil\u202c عنوان", "\u200f\u0645\u0631\u062d\u0628\u0627 " * 50),
    _doc("control", "\x00\x1b[31mred", "Zero\u200bwidth\ufeff and \ud7ff surrogates-adjacent text " + "A" * 5000),
    _doc("names", "Mr. A B C D E F", " ".join(f"Name{i}" for i in range(2000))),
]


def test_hostile_texts_are_placed_without_error() -> None:
    stats = TermStats()
    stories = _one_at_a_time([*HOSTILE, *HOSTILE], stats)
    keys = sorted(m.key for g in stories for m in g.members)
    assert keys == sorted(d.key for d in [*HOSTILE, *HOSTILE])
    for group in stories:
        assert all(0.0 <= score <= 1.0 for score in group.scores.values())


def test_one_tf_idf_weighs_grouping_and_key_passages() -> None:
    stats = TermStats(capacity=3)
    for number, terms in enumerate((["quake", "peru"], ["quake", "chile"], ["budget"])):
        stats.add(number, terms)
    weighted = tfidf({"quake": 2, "peru": 1, "never": 1}, lambda term: stats.idf(term, unseen=1.0))
    assert weighted["peru"] > weighted["never"]  # a rarer term weighs more; an unseen one plainly
    assert stats.idf("never") > stats.idf("never", unseen=1.0) == 1.0
    assert sum(v * v for v in weighted.values()) == pytest.approx(1.0)
