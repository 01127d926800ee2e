"""Two events, each reported by several outlets, for the stories tests (written for them)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from presseschau.config import Settings
from tests.publish.factories import Published, make_article, make_source

# One outlet's report: outlet, English title, German title, English and German paragraphs, time.
Report = tuple[str, str, str, list[str], list[str], datetime]

QUAKE: list[Report] = [
    (
        "Meridian Post",
        "Strong earthquake shakes western Turkey, buildings collapse in Manisa",
        "Starkes Erdbeben erschüttert die Westtürkei, in Manisa stürzen Gebäude ein",
        [
            "An earthquake of magnitude 5.9 struck western Turkey, collapsing buildings in Manisa near Sindirgi.",
            "The disaster agency AFAD said two people were killed and 37 injured in Sindirgi and Izmir.",
        ],
        [
            "Ein Erdbeben der Stärke 5,9 hat die Westtürkei erschüttert; in Manisa bei Sindirgi stürzten Gebäude ein.",
            "Die Katastrophenschutzbehörde AFAD meldete zwei Tote und 37 Verletzte in Sindirgi und Izmir.",
        ],
        datetime(2026, 11, 9, 7, 0, tzinfo=UTC),
    ),
    (
        "Harbour Ledger",
        "Turkey quake: rescuers pull survivors from rubble in Sindirgi",
        "Erdbeben in der Türkei: Retter bergen Überlebende aus den Trümmern in Sindirgi",
        [
            "Rescuers in western Turkey pulled survivors from the rubble in Sindirgi after the earthquake.",
            "AFAD recorded more than 80 aftershocks across Manisa and Balikesir; Izmir felt the quake too.",
        ],
        [
            "Retter in der Westtürkei haben nach dem Erdbeben Überlebende aus den Trümmern in Sindirgi geborgen.",
            "AFAD zählte mehr als 80 Nachbeben in Manisa und Balikesir; auch in Izmir war das Beben zu spüren.",
        ],
        datetime(2026, 11, 9, 11, 0, tzinfo=UTC),
    ),
]
STARSHIP: list[Report] = [
    (
        "Continental Review",
        "SpaceX Starship reaches orbit and catches its booster",
        "SpaceX-Starship erreicht den Orbit und fängt seinen Booster",
        [
            "SpaceX's Starship reached orbit on its eleventh flight, and Starbase caught the Super Heavy booster.",
            "Elon Musk called the flight from Texas a giant leap towards Mars; Nasa praised the Artemis step.",
        ],
        [
            "Das Starship von SpaceX hat bei seinem elften Flug den Orbit erreicht; Starbase fing den Booster.",
            "Elon Musk nannte den Flug aus Texas einen großen Sprung zum Mars; die Nasa lobte den Artemis-Schritt.",
        ],
        datetime(2026, 11, 9, 8, 0, tzinfo=UTC),
    ),
    (
        "Northern Dispatch",
        "Musk's Starship completes first orbital mission from Texas",
        "Musks Starship absolviert die erste Mission im Orbit",
        [
            "The Starship rocket of SpaceX completed its first orbital mission from Starbase in Texas.",
            "The Super Heavy booster was caught by the tower; Nasa needs Starship for the Artemis moon landing.",
        ],
        [
            "Die Starship-Rakete von SpaceX hat ihre erste Mission im Orbit von Starbase in Texas aus absolviert.",
            "Der Booster wurde vom Turm gefangen; die Nasa braucht das Starship für die Artemis-Mondlandung.",
        ],
        datetime(2026, 11, 9, 12, 0, tzinfo=UTC),
    ),
]


def publish_event(session: Session, settings: Settings, reports: list[Report], publish: bool = True) -> list[Published]:
    made = []
    for outlet, title_en, title_de, body_en, body_de, when in reports:
        source = make_source(session, outlet)
        made.append(
            make_article(
                session,
                settings,
                title_en=title_en,
                title_de=title_de,
                body_en=body_en,
                body_de=body_de,
                source=source,
                outlet=outlet,
                published_at=when,
                publish=publish,
            )
        )
    return made
