"""Translation engines as readers and editors know them (the engine ids are configuration words)."""

from __future__ import annotations

from pathlib import PurePath

ENGINE_DISPLAY_NAMES = {
    "firefox": "Firefox Translations",
    "ct2": "OPUS-MT (CTranslate2)",
    "deepl": "DeepL",
    "libretranslate": "LibreTranslate",
    "llm": "Sprachmodell (LLM)",
    "memory": "gespeicherte Übersetzungen",
}

# Model families the ct2 engine runs, by a word in the model's name.
_CT2_FAMILIES = (("opus-mt", "OPUS-MT"), ("nllb", "NLLB"), ("m2m100", "M2M-100"), ("madlad", "MADLAD-400"))


def engine_display_name(engine: str | None, model: str | None = None) -> str:
    """`DeepL`, `Firefox Translations`, `OPUS-MT (CTranslate2)` ...: the engine `engine` (with its
    `model`, where that tells more) under the name readers know. An engine without a known name is
    shown by its configured id, never as another engine's name."""
    if not engine:
        return "unbekannter Übersetzungsdienst"
    if engine == "ct2" and model:
        name = PurePath(model).name.lower()
        family = next((label for word, label in _CT2_FAMILIES if word in name), None)
        return f"{family} (CTranslate2)" if family else f"CTranslate2-Modell {PurePath(model).name}"
    return ENGINE_DISPLAY_NAMES.get(engine, engine)
