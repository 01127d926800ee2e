"""German display names of the translation engines."""

from __future__ import annotations

import pytest

from presseschau.translate.names import engine_display_name


@pytest.mark.parametrize(
    ("engine", "model", "name"),
    [
        ("firefox", None, "Firefox Translations"),
        ("ct2", None, "OPUS-MT (CTranslate2)"),
        ("ct2", "opus-mt-en-de", "OPUS-MT (CTranslate2)"),
        ("ct2", "/models/nllb-200-distilled-600M", "NLLB (CTranslate2)"),
        ("ct2", "/tmp/tiny-en-de", "CTranslate2-Modell tiny-en-de"),
        ("deepl", None, "DeepL"),
        ("libretranslate", None, "LibreTranslate"),
        ("llm", "qwen2.5", "Sprachmodell (LLM)"),
        ("memory", None, "gespeicherte Übersetzungen"),
        ("neu-im-test", None, "neu-im-test"),
        (None, None, "unbekannter Übersetzungsdienst"),
    ],
)
def test_engine_display_name(engine: str | None, model: str | None, name: str) -> None:
    assert engine_display_name(engine, model) == name
