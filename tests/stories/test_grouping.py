"""The grouping itself: features, similarity, incremental assignment, pairwise scores, the benchmark."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presseschau.stories.grouping import Group, StoryDoc, assign, cluster, features, pairwise_scores, vectorize

ROOT = Path(__file__).resolve().parents[2]


def _doc(key: str, title: str, text: str, hours: float = 0) -> StoryDoc:
    return StoryDoc(key, title, text, time=datetime(2026, 11, 9, tzinfo=UTC) + timedelta(hours=hours))


QUAKE_A = _doc(
    "a", "Earthquake shakes western Turkey", "A magnitude 5.9 quake hit Manisa near Sindirgi; AFAD said two died."
)
QUAKE_B = _doc(
    "b",
    "Turkey quake: rescuers search rubble",
    "Rescuers in Sindirgi searched rubble after the Manisa quake, AFAD said.",
    4,
)
ROCKET = _doc(
    "c", "Starship reaches orbit", "SpaceX caught the Super Heavy booster at Starbase in Texas; Musk was pleased.", 2
)


def test_features_hold_stems_and_names_with_titles_weighted() -> None:
    counts = features(StoryDoc("x", "Floods in Valencia", "Heavy rain flooded Valencia, said Mayor Ana Ortiz."))
    assert counts["en:flood"] == 3  # title (x2) + "flooded"
    assert counts["n:valencia"] == 3 and counts["n:ortiz"] == 1
    assert "en:said" not in counts and "n:heavy" not in counts  # stopword; a sentence's first word is no name


def test_vectors_are_normalised() -> None:
    vectors = vectorize([QUAKE_A, QUAKE_B, ROCKET])
    for vector in vectors.values():
        assert abs(sum(v * v for v in vector.values()) - 1.0) < 1e-9


def test_same_event_is_grouped_and_another_is_not() -> None:
    groups = sorted(sorted(g) for g in cluster([ROCKET, QUAKE_B, QUAKE_A]))
    assert groups == [["a", "b"], ["c"]]


def test_existing_groups_are_never_changed_only_joined() -> None:
    # An editor put the rocket and the quake report together: grouping adds to that, never splits it.
    edited = Group(7, [QUAKE_A, ROCKET])
    result = assign([QUAKE_B], [edited])
    assert result[0].key == 7 and [m.key for m in result[0].members][:2] == ["a", "c"]
    assert sorted(m.key for g in result for m in g.members) == ["a", "b", "c"]
    # A group of the quake alone is joined by the other quake report, with its similarity.
    result = assign([QUAKE_B, ROCKET], [Group(3, [QUAKE_A])])
    assert [m.key for m in result[0].members] == ["a", "b"] and result[0].scores["b"] > 0.2
    assert [[m.key for m in g.members] for g in result[1:]] == [["c"]]


def test_time_window_keeps_a_later_event_apart() -> None:
    assert QUAKE_A.time is not None
    later = StoryDoc("d", QUAKE_B.title, QUAKE_B.text, time=QUAKE_A.time + timedelta(days=10))
    assert sorted(sorted(g) for g in cluster([QUAKE_A, later])) == [["a"], ["d"]]


def test_pairwise_scores() -> None:
    score = pairwise_scores([["a", "b", "c"], ["d"]], [["a", "b"], ["c", "d"]])
    assert score.true_pairs == 2 and score.predicted_pairs == 3
    assert score.precision == pytest.approx(1 / 3) and score.recall == pytest.approx(1 / 2)
    assert pairwise_scores([["a"]], [["a"]]).f1 == 1.0


def test_benchmark_runs_on_a_small_sample(test_data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import stories as bench
    finally:
        sys.path.remove(str(ROOT / "bench"))
    shared = str(test_data_dir / "eval" / "articles-en")
    assert bench.main(["--set", "written", "--limit", "4", "--threshold", "0.3", "--shared", shared]) == 0
    out = capsys.readouterr().out
    assert "held-back" in out and "precision" in out and "recall" in out


def test_labelled_set_is_large_enough_and_split_by_thirds() -> None:
    import tomllib

    labels = tomllib.loads((ROOT / "bench" / "data" / "stories" / "labels.toml").read_text(encoding="utf-8"))
    families = labels["family"]
    stories = [story for family in families for story in family["stories"]]
    articles = [key for story in stories for key in story]
    assert len(articles) >= 60 and len(stories) >= 20 and len(set(articles)) == len(articles)
    assert [f["split"] for f in families] == ["holdout" if i % 3 == 2 else "tune" for i in range(len(families))]
    assert sum(len(story) > 1 for f in families if f["split"] == "holdout" for story in f["stories"]) >= 3


def test_real_labelled_set_is_large_and_held_back_by_event_name() -> None:
    import hashlib
    import tomllib

    labels = tomllib.loads((ROOT / "bench" / "data" / "stories" / "real.toml").read_text(encoding="utf-8"))
    events = labels["event"]
    articles = [key for event in events for key in event["members"]]
    assert len(articles) >= 300 and len(events) >= 60 and len(set(articles)) == len(articles)
    assert len({event["name"] for event in events}) == len(events)
    held = [e for e in events if hashlib.sha1(e["name"].encode()).digest()[0] % 3 == 0]
    assert 0.25 < len(held) / len(events) < 0.42
    # Big stories with many angles, and families of one topic with several events.
    assert max(len(event["members"]) for event in events) >= 30
    families: dict[str, int] = {}
    for event in events:
        families[event["family"]] = families.get(event["family"], 0) + 1
    assert sum(count > 1 for count in families.values()) >= 5
